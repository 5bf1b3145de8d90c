"""Figures of chapter 10, modern recurrent networks and sequence-to-sequence learning.

Colours, the same in every figure of the chapter: sigmoid gates ``fill1``, tanh layers
``fill2``, hidden states ``fill3``, encoder ``fill5``, decoder ``fill4``, tokens and
plain operations ``fill0``; the state that a cell carries is drawn in ``accent``.
"""
from . import figure, Fig

GATE, TANH, STATE, ENC, DEC, PLAIN = 'fill1', 'fill2', 'fill3', 'fill5', 'fill4', 'fill0'


def _gate(fig, cx, y, label, sub, fill, w=84, h=40):
    """A layer box centred at ``cx`` with its top at ``y``: activation and name."""
    fig.box(cx - w / 2, y, w, h, label, fill=fill, size=14, sub=sub)


@figure('lstm-cell')
def lstm_cell(t):
    """One LSTM step: gates from X_t and H_{t-1}; the cell state runs along the top."""
    fig = Fig(700, 340)
    y_c, y_box, y_bus = 62, 176, 282
    xs = {'f': 190, 'i': 285, 'c': 380, 'o': 480}
    fig.rect(130, 34, 480, 262, fill=None, stroke='muted', dashed=True, rx=10)
    # the cell state along the top
    x_mul_f, x_add, x_tanh = xs['f'], 330, 560
    fig.text(40, y_c, '$C_{t-1}', size=15, color='accent')
    fig.arrow(62, y_c, x_mul_f - 12, y_c, color='accent', width=1.8)
    fig.op(x_mul_f, y_c, 'mul', r=11)
    fig.arrow(x_mul_f + 12, y_c, x_add - 12, y_c, color='accent', width=1.8)
    fig.op(x_add, y_c, 'add', r=11)
    fig.arrow(x_add + 12, y_c, 648, y_c, color='accent', width=1.8)
    fig.text(670, y_c, '$C_t', size=15, color='accent')
    fig.text((x_mul_f + x_add) / 2, y_c - 16, t('cell state', '记忆元'), size=11, color='accent')
    # the four layers
    _gate(fig, xs['f'], y_box, 'σ', t('forget gate', '遗忘门'), GATE)
    _gate(fig, xs['i'], y_box, 'σ', t('input gate', '输入门'), GATE)
    _gate(fig, xs['c'], y_box, 'tanh', t('input node', '输入节点'), TANH)
    _gate(fig, xs['o'], y_box, 'σ', t('output gate', '输出门'), GATE)
    fig.arrow(xs['f'], y_box - 2, xs['f'], y_c + 13)
    fig.text(xs['f'] + 8, 120, '$F_t', size=13, anchor='start')
    y_mul_ic = 122
    fig.op(x_add, y_mul_ic, 'mul', r=11)
    fig.arrow(xs['i'], y_box - 2, x_add - 9, y_mul_ic + 8)
    fig.arrow(xs['c'], y_box - 2, x_add + 9, y_mul_ic + 8)
    fig.text(xs['i'] - 12, 150, '$I_t', size=13, anchor='end')
    fig.text(xs['c'] + 14, 150, 'C̃_t', size=13, anchor='start', math=True)
    fig.arrow(x_add, y_mul_ic - 12, x_add, y_c + 13)
    # reading the cell: tanh, output gate, new hidden state
    fig.line(x_tanh, y_c, x_tanh, 92)
    fig.box(x_tanh - 24, 94, 48, 26, 'tanh', fill=TANH, size=12, rx=13)
    y_mul_o = y_box + 20
    fig.op(x_tanh, y_mul_o, 'mul', r=11)
    fig.arrow(x_tanh, 122, x_tanh, y_mul_o - 13)
    fig.arrow(xs['o'] + 44, y_mul_o, x_tanh - 13, y_mul_o)
    fig.text(xs['o'] + 52, y_mul_o - 11, '$O_t', size=13, anchor='start')
    fig.path(f'M{x_tanh},{y_mul_o + 12} L{x_tanh},{y_bus} L648,{y_bus}', arrow=True, width=1.6)
    fig.text(670, y_bus, '$H_t', size=15)
    # the inputs: previous hidden state and current input on one bus
    fig.text(40, y_bus, '$H_{t-1}', size=15)
    fig.line(64, y_bus, xs['o'], y_bus, width=1.6)
    fig.text(150, 326, '$X_t', size=15)
    fig.arrow(150, 314, 150, y_bus + 3, width=1.6)
    for x in xs.values():
        fig.arrow(x, y_bus, x, y_box + 42)
    return fig


@figure('gru-cell')
def gru_cell(t):
    """One GRU step: reset and update gates, the candidate, and the interpolation on top."""
    fig = Fig(700, 340)
    y_h, y_box, y_bus = 62, 176, 282
    xr, xc, xz = 175, 320, 465
    x_mul_z, x_add = xz, 590
    fig.rect(110, 34, 520, 262, fill=None, stroke='muted', dashed=True, rx=10)
    # the hidden state along the top: H_t = Z * H_{t-1} + (1 - Z) * candidate
    fig.text(40, y_h, '$H_{t-1}', size=15, color='accent')
    fig.arrow(64, y_h, x_mul_z - 12, y_h, color='accent', width=1.8)
    fig.op(x_mul_z, y_h, 'mul', r=11)
    fig.arrow(x_mul_z + 12, y_h, x_add - 12, y_h, color='accent', width=1.8)
    fig.op(x_add, y_h, 'add', r=11)
    fig.arrow(x_add + 12, y_h, 648, y_h, color='accent', width=1.8)
    fig.text(670, y_h, '$H_t', size=15, color='accent')
    # layers
    _gate(fig, xr, y_box, 'σ', t('reset gate', '重置门'), GATE)
    _gate(fig, xc, y_box, 'tanh', t('candidate', '候选隐状态'), TANH, w=96)
    _gate(fig, xz, y_box, 'σ', t('update gate', '更新门'), GATE)
    # reset gate times the old state, into the candidate
    y_r = 120
    fig.line(xr, y_h, xr, y_r - 11, color='accent', width=1.4)
    fig.op(xr, y_r, 'mul', r=11)
    fig.arrow(xr, y_box - 2, xr, y_r + 13)
    fig.text(xr - 8, 150, '$R_t', size=13, anchor='end')
    fig.path(f'M{xr + 11},{y_r} L{xc - 20},{y_r} L{xc - 20},{y_box - 3}', arrow=True)
    # update gate: Z to the top product and, through 1 - Z, to the candidate's product
    fig.arrow(xz, y_box - 2, xz, y_h + 13)
    fig.text(xz - 8, 156, '$Z_t', size=13, anchor='end')
    y_mix = 138
    fig.op(528, y_mix, '1−', r=12)
    fig.arrow(xz, y_mix, 528 - 14, y_mix)
    fig.op(x_add, y_mix, 'mul', r=11)
    fig.arrow(528 + 14, y_mix, x_add - 13, y_mix)
    fig.arrow(x_add, y_mix - 12, x_add, y_h + 13)
    # the candidate's output hops over the update gate's arrow
    y_c = 102
    fig.path(f'M{xc + 20},{y_box - 2} L{xc + 20},{y_c} L{xz - 8},{y_c} '
             f'A8,8 0 0 1 {xz + 8},{y_c} L{x_add + 28},{y_c} L{x_add + 28},{y_mix} '
             f'L{x_add + 13},{y_mix}', arrow=True)
    fig.text(xc + 28, 140, 'H̃_t', size=13, anchor='start', math=True)
    # inputs
    fig.path(f'M90,{y_h} L90,{y_bus} L{xz},{y_bus}', color='ink', width=1.6)
    fig.text(150, 326, '$X_t', size=15)
    fig.arrow(150, 314, 150, y_bus + 3, width=1.6)
    for x in (xr, xc, xz):
        fig.arrow(x, y_bus, x, y_box + 42)
    return fig


def _grid_node(fig, cx, cy, label, fill, w=64, h=34, size=13):
    fig.box(cx - w / 2, cy - h / 2, w, h, label, fill=fill, size=size)


@figure('deep-rnn')
def deep_rnn(t):
    """Three recurrent layers over four steps: state to the right, activations upwards."""
    fig = Fig(640, 400)
    steps, layers = 4, 3
    x0, dx = 200, 120
    y_out, y_in, dy = 40, 360, 75
    ys = [y_in - dy * (l + 1) for l in range(layers)]  # layer 1 at the bottom
    for l, y in enumerate(ys):
        fig.text(24, y, t(f'layer {l + 1}', f'第 {l + 1} 层'), size=12, color='muted',
                 anchor='start')
        fig.arrow(110, y, x0 - 36, y, color='accent')
        fig.text(96, y, f'H_0^{{({l + 1})}}', size=12, color='accent', anchor='end', math=True)
        for s in range(steps):
            x = x0 + dx * s
            _grid_node(fig, x, y, f'H_{s + 1}^{{({l + 1})}}', STATE)
            if s < steps - 1:
                fig.arrow(x + 34, y, x + dx - 34, y, color='accent')
            below = y_in if l == 0 else ys[l - 1]
            fig.arrow(x, below - 19, x, y + 19)
    for s in range(steps):
        x = x0 + dx * s
        _grid_node(fig, x, y_in, f'X_{s + 1}', PLAIN, w=52, h=30)
        _grid_node(fig, x, y_out, f'O_{s + 1}', DEC, w=52, h=30)
        fig.arrow(x, ys[-1] - 19, x, y_out + 17)
    fig.text(24, y_in, t('input', '输入'), size=12, color='muted', anchor='start')
    fig.text(24, y_out, t('output', '输出'), size=12, color='muted', anchor='start')
    return fig


@figure('bi-rnn')
def bi_rnn(t):
    """A forward layer (left to right) and a backward layer (right to left) over four steps."""
    fig = Fig(690, 350)
    steps, x0, dx, w, h = 4, 200, 125, 60, 32
    y_out, y_b, y_f, y_in = 36, 125, 215, 305
    for label, y in [(t('output', '输出'), y_out), (t('backward', '后向层'), y_b),
                     (t('forward', '前向层'), y_f), (t('input', '输入'), y_in)]:
        fig.text(20, y, label, size=12, color='muted', anchor='start')
    for s in range(steps):
        x = x0 + dx * s
        xf, xb = x - 27, x + 27
        _grid_node(fig, x, y_in, f'X_{s + 1}', PLAIN, w=52, h=30)
        _grid_node(fig, xf, y_f, f'→H_{s + 1}', STATE, w=w, h=h)
        _grid_node(fig, xb, y_b, f'←H_{s + 1}', GATE, w=w, h=h)
        _grid_node(fig, x, y_out, f'O_{s + 1}', DEC, w=52, h=30)
        fig.arrow(x - 8, y_in - 16, xf + 4, y_f + h / 2 + 2)
        fig.arrow(x + 8, y_in - 16, xb - 2, y_b + h / 2 + 2)
        fig.arrow(xf - 4, y_f - h / 2 - 2, x - 12, y_out + 16, color='muted')
        fig.arrow(xb, y_b - h / 2 - 2, x + 10, y_out + 16, color='muted')
        if s < steps - 1:
            fig.arrow(xf + w / 2 + 2, y_f, xf + dx - w / 2 - 2, y_f, color='accent')
            fig.arrow(xb + dx - w / 2 - 2, y_b, xb + w / 2 + 2, y_b, color='accent')
    fig.arrow(x0 - 27 - w / 2 - 44, y_f, x0 - 27 - w / 2 - 2, y_f, color='accent')
    x_last = x0 + dx * (steps - 1) + 27
    fig.arrow(x_last + w / 2 + 44, y_b, x_last + w / 2 + 2, y_b, color='accent')
    return fig


def _tokens(fig, x, y, tokens, fill, w=62, h=28, gap=6, size=12, dashed=False):
    """A row of token boxes starting at (x, y); returns the centres."""
    centres = []
    for i, tok in enumerate(tokens):
        bx = x + i * (w + gap)
        fig.rect(bx, y, w, h, fill=fill, dashed=dashed, rx=3)
        fig.text(bx + w / 2, y + h / 2, tok, size=size)
        centres.append(bx + w / 2)
    return centres


@figure('encoder-decoder')
def encoder_decoder(t):
    """Source tokens into the encoder, an encoding to the decoder, target tokens out."""
    fig = Fig(700, 200)
    src = ['i', 'won', '.']
    tgt = ["j'ai", 'gagné', '.']
    y = 86
    xs = _tokens(fig, 20, y, src, PLAIN, w=50)
    fig.arrow(xs[-1] + 31, y + 14, 214, y + 14)
    fig.box(216, y - 11, 110, 50, t('encoder', '编码器'), fill=ENC, size=14)
    fig.arrow(328, y + 14, 376, y + 14)
    fig.text(352, y - 6, t('encoding', '编码'), size=11, color='muted')
    fig.box(378, y - 11, 110, 50, t('decoder', '解码器'), fill=DEC, size=14)
    fig.arrow(490, y + 14, 504, y + 14)
    _tokens(fig, 506, y, tgt, PLAIN, w=56)
    fig.text(93, y - 30, t('source sentence', '源语言句子'), size=12, color='muted')
    fig.text(596, y - 30, t('target sentence', '目标语言句子'), size=12, color='muted')
    fig.path(f'M596,{y + 32} L596,{y + 70} L433,{y + 70} L433,{y + 41}', arrow=True,
             color='muted', dashed=True)
    fig.text(514, y + 84, t('each output token is fed back', '每个输出词元再作为输入'), size=11,
             color='muted')
    return fig


def _seq2seq(fig, t, caption, predict=False):
    """'i won .' -> 'nous avons gagné .': the decoder reads <bos> and the target shifted by
    one, in training the true tokens, in prediction (dashed) its own previous outputs."""
    src = ['i', 'won', '.', '<eos>']
    dec_in = ['<bos>', 'nous', 'avons', 'gagné', '.']
    dec_out = dec_in[1:] + ['<eos>']
    w, gap = 62, 14
    ye_in, ye, yd_in, yd, yd_out = 250, 170, 250, 170, 60
    xe = [30 + i * (w + gap) for i in range(len(src))]
    xd = [360 + i * (w + gap) for i in range(len(dec_in))]
    fig.text(xe[0] - 4 + (xe[-1] - xe[0] + w) / 2, 290, t('encoder', '编码器'), size=13,
             color='muted')
    fig.text(xd[0] + (xd[-1] - xd[0] + w) / 2, 290, t('decoder', '解码器'), size=13,
             color='muted')
    for i, (x, tok) in enumerate(zip(xe, src)):
        fig.rect(x, ye_in, w, 26, fill=PLAIN, rx=3)
        fig.text(x + w / 2, ye_in + 13, tok, size=12)
        fig.box(x, ye - 17, w, 34, 'GRU', fill=ENC, size=12)
        fig.arrow(x + w / 2, ye_in - 2, x + w / 2, ye + 19)
        if i:
            fig.arrow(x - gap, ye, x - 2, ye, color='accent')
    for i, x in enumerate(xd):
        fig.rect(x, yd_in, w, 26, fill=PLAIN, rx=3, dashed=predict and i > 0)
        fig.text(x + w / 2, yd_in + 13, dec_in[i], size=12)
        fig.box(x, yd - 17, w, 34, 'GRU', fill=DEC, size=12)
        fig.arrow(x + w / 2, yd_in - 2, x + w / 2, yd + 19)
        fig.rect(x, yd_out, w, 26, fill=STATE, rx=3)
        fig.text(x + w / 2, yd_out + 13, dec_out[i], size=12)
        fig.arrow(x + w / 2, yd - 19, x + w / 2, yd_out + 28)
        if i:
            fig.arrow(x - gap, yd, x - 2, yd, color='accent')
        if predict and i < len(xd) - 1:
            fig.path(f'M{x + w},{yd_out + 13} L{x + w + gap / 2},{yd_out + 13} '
                     f'L{x + w + gap / 2},{yd_in + 13} L{x + w + gap - 1},{yd_in + 13}',
                     arrow=True, color='muted', dashed=True)
    # final encoder state initializes the decoder; its last output is the context everywhere
    fig.arrow(xe[-1] + w + 2, ye, xd[0] - 2, yd, color='accent', width=1.6)
    fig.text((xe[-1] + w + xd[0]) / 2, ye - 14, t('state', '状态'), size=11, color='accent')
    yc = 112
    fig.path(f'M{xe[-1] + w / 2},{ye - 19} L{xe[-1] + w / 2},{yc} L{xd[-1] + w / 2 + 10},{yc}',
             color='warn', dashed=True)
    for x in xd:
        fig.arrow(x + w / 2 + 10, yc, x + w / 2 + 10, yd - 19, color='warn', dashed=True)
    fig.text(xe[-1] + w / 2 + 6, yc - 12, t('context', '上下文变量'), size=11, color='warn',
             anchor='start')
    fig.text(542, 32, caption, size=12, color='muted')


@figure('seq2seq')
def seq2seq(t):
    """Training with teacher forcing: the decoder reads <bos> and the true target tokens."""
    fig = Fig(740, 310)
    _seq2seq(fig, t, t('labels (what the decoder must predict)', '标签（解码器要预测的词元）'))
    return fig


@figure('seq2seq-predict')
def seq2seq_predict(t):
    """Prediction: each predicted token is the decoder's next input."""
    fig = Fig(740, 310)
    _seq2seq(fig, t, t('predictions, fed back as the next input', '预测结果，作为下一步的输入'),
             predict=True)
    return fig


@figure('mt-batch')
def mt_batch(t):
    """One example: padded source with its valid length; decoder input and label, shifted."""
    fig = Fig(720, 250)
    w, gap, x0 = 58, 4, 150
    rows = [
        (t('source', '源序列'), ['go', '.', '<eos>'] + ['<pad>'] * 6, 40),
        (t('decoder input', '解码器输入'), ['<bos>', 'va', '!', '<eos>'] + ['<pad>'] * 5, 130),
        (t('label', '标签'), ['va', '!', '<eos>'] + ['<pad>'] * 6, 190),
    ]
    for name, toks, y in rows:
        fig.text(x0 - 12, y + 14, name, size=12, anchor='end')
        for i, tok in enumerate(toks):
            fill = 'fill0' if tok == '<pad>' else ('fill1' if y == 40 else 'fill3')
            fig.rect(x0 + i * (w + gap), y, w, 28, fill=fill, rx=3)
            fig.text(x0 + i * (w + gap) + w / 2, y + 14, tok, size=12,
                     color='muted' if tok == '<pad>' else 'ink')
    fig.brace_label(x0, x0 + 3 * (w + gap) - gap, 76, t('valid length 3', '有效长度 3'))
    for i in range(1, 4):
        xa = x0 + i * (w + gap) + w / 2
        fig.arrow(xa - 6, 160, xa - (w + gap) + 6, 188, color='accent')
    fig.text(x0 + 4 * (w + gap) + 30, 174, t('shifted by one position', '错开一个位置'), size=11,
             color='accent', anchor='start')
    return fig


# Section 10.8's table: next-token probabilities (<eos>, A, B, C) for each prefix.
TABLE_108 = {'': [.05, .5, .4, .05], 'A': [.25, .1, .35, .3], 'B': [.15, .05, .05, .75],
             'AB': [.4, .2, .2, .2], 'AC': [.6, .2, .1, .1], 'BC': [.8, .1, .05, .05]}


@figure('beam-search')
def beam_search(t):
    """Beam size 2 on section 10.8's table: the kept partial sequences at each step are shaded."""
    toks = ['<eos>', 'A', 'B', 'C']
    fig = Fig(720, 440)
    xs = [40, 190, 390, 590]
    w, h = 112, 26

    def node(x, y, label, p, kept, done=False):
        fill = 'hl' if kept else 'fill0'
        fig.rect(x, y - h / 2, w, h, fill=fill, rx=4, dashed=not kept and not done)
        fig.text(x + 8, y, label, size=12, anchor='start',
                 color='ink' if kept or done else 'muted')
        fig.text(x + w - 8, y, f'{p:.4g}', size=11, anchor='end',
                 color='ink' if kept or done else 'muted')

    def children(prefix, p):
        probs = TABLE_108.get(prefix, [.25] * 4)
        return [(prefix + tok if tok != '<eos>' else prefix + ' <eos>', p * q)
                for tok, q in zip(toks, probs)]

    for i, title in enumerate([t('start', '开始'), t('step 1', '时间步 1'), t('step 2', '时间步 2'),
                               t('step 3', '时间步 3')]):
        fig.text(xs[i] + w / 2, 16, title, size=12, color='muted')
    y_root = 235
    node(xs[0], y_root, '<bos>', 1.0, True)
    # step 1: four children of the root, keep A and B
    step1 = children('', 1.0)
    ys1 = [95, 175, 255, 335]
    pos = {}
    for (name, p), y in zip(step1, ys1):
        kept = name in ('A', 'B')
        node(xs[1], y, ' '.join(name.replace(' ', '')) if '<' not in name else '<eos>', p, kept,
             done='<eos>' in name)
        fig.arrow(xs[0] + w, y_root, xs[1] - 2, y, color='ink' if kept else 'muted')
        pos[name] = y
    # step 2: children of A and B, keep BC and AB
    ys2 = {'A': [48, 78, 108, 138], 'B': [208, 238, 268, 298]}
    step2_pos = {}
    for parent in ('A', 'B'):
        for (name, p), y in zip(children(parent, TABLE_108[''][toks.index(parent)]), ys2[parent]):
            kept = name in ('BC', 'AB')
            label = ' '.join(ch for ch in name.split(' ')[0]) + (' <eos>' if '<eos>' in name else '')
            node(xs[2], y, label, p, kept, done='<eos>' in name)
            fig.arrow(xs[1] + w, pos[parent], xs[2] - 2, y, color='ink' if kept else 'muted')
            step2_pos[name] = (y, p)
    # step 3: children of AB and BC; every sequence ends here
    ys3 = {'AB': [40, 68, 96, 124], 'BC': [210, 238, 266, 294]}
    for parent in ('AB', 'BC'):
        y_parent, p_parent = step2_pos[parent]
        for (name, p), y in zip(children(parent, p_parent), ys3[parent]):
            best = name in ('BC <eos>', 'AB <eos>')
            label = ' '.join(ch for ch in name.split(' ')[0]) + (' <eos>' if '<eos>' in name else '')
            node(xs[3], y, label, p, best, done=True)
            fig.arrow(xs[2] + w, y_parent, xs[3] - 2, y, color='ink' if best else 'muted')
    # the greedy path, drawn over the tree: <bos> -> A -> A B -> A B <eos>
    y_ab = step2_pos['AB'][0]
    for (x1, y1), (x2, y2) in [((xs[0] + w, y_root), (xs[1] - 2, pos['A'])),
                               ((xs[1] + w, pos['A']), (xs[2] - 2, y_ab)),
                               ((xs[2] + w, y_ab), (xs[3] - 2, ys3['AB'][0]))]:
        fig.arrow(x1, y1, x2, y2, color='accent', width=2.2)
    fig.text(xs[1] + 10, 392, t('greedy (blue): A, B, <eos>: P = 0.5 × 0.35 × 0.4 = 0.07',
                                '贪心搜索（蓝色）：A，B，<eos>：P = 0.5 × 0.35 × 0.4 = 0.07'),
             size=12, color='accent', anchor='start')
    fig.text(xs[1] + 10, 420, t('beam of 2: best B C <eos>: P = 0.4 × 0.75 × 0.8 = 0.24',
                                '束宽为 2：最优 B C <eos>：P = 0.4 × 0.75 × 0.8 = 0.24'),
             size=12, anchor='start')
    return fig
