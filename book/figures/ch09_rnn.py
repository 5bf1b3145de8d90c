"""Figures of chapter 9, recurrent neural networks."""
import math

from . import figure, Fig


def _cell(fig, x, y, w, h, label, fill='fill0', size=13, color='ink', dashed=False, stroke='ink',
          rx=3, width=1.1):
    """A box with a label whose colour can differ from the ink (the kit's box() cannot)."""
    fig.rect(x, y, w, h, fill=fill, stroke=stroke, rx=rx, width=width, dashed=dashed)
    if label:
        fig.text(x + w / 2, y + h / 2, label, size=size, color=color)


def _loop(fig, x, y, label=None):
    """A self-loop on the right edge of a box whose right edge is at x, centred at height y."""
    fig.path(f'M{x:.1f},{y - 8:.1f} C{x + 46:.1f},{y - 34:.1f} {x + 46:.1f},{y + 34:.1f} '
             f'{x + 2:.1f},{y + 9:.1f}', arrow=True)
    if label:
        fig.text(x + 44, y - 30, label, size=12, anchor='start')


@figure('seq-autoregressive')
def seq_autoregressive(t):
    """Two ways to predict x_t: from a window of the last tau values, or from a running summary."""
    fig = Fig(720, 262)
    bw, bh = 54, 30
    y_in, y_mid, y_out = 196, 124, 50
    # left: a window of tau = 4 inputs
    xs = [28 + i * 62 for i in range(5)]
    fig.text(176, 18, t('autoregressive model', '自回归模型'), bold=True)
    names = ['$x_{t-5}', '$x_{t-4}', '$x_{t-3}', '$x_{t-2}', '$x_{t-1}']
    for i, (x, name) in enumerate(zip(xs, names)):
        if i == 0:
            _cell(fig, x, y_in - bh / 2, bw, bh, name, fill='paper', color='muted', dashed=True,
                  stroke='muted')
        else:
            _cell(fig, x, y_in - bh / 2, bw, bh, name, fill='fill1')
    mx = (xs[1] + xs[4] + bw) / 2
    fig.box(mx - 60, y_mid - 17, 120, 34, t('model f', '模型 f'), fill='fill2')
    for x in xs[1:]:
        fig.arrow(x + bw / 2, y_in - bh / 2 - 3, mx + (x + bw / 2 - mx) * 0.45, y_mid + 19)
    _cell(fig, mx - bw / 2, y_out - bh / 2, bw, bh, t('$x_t', '$x_t'), fill='fill3')
    fig.text(mx + bw / 2 + 8, y_out, t('predicted', '预测'), size=12, color='muted',
             anchor='start')
    fig.arrow(mx, y_mid - 19, mx, y_out + bh / 2 + 3)
    fig.brace_label(xs[1], xs[4] + bw, y_in + bh / 2 + 10, t('window of τ = 4 values',
                                                               '长度 τ = 4 的窗口'))
    fig.text(xs[0] + bw / 2, y_in - 32, t('ignored', '舍弃'), size=11, color='muted')
    # right: a latent state that summarises the past
    x0 = 420
    fig.text(560, 18, t('latent autoregressive model', '隐变量自回归模型'), bold=True)
    cols = [x0 + 50 + i * 100 for i in range(3)]
    xnames = ['$x_{t-3}', '$x_{t-2}', '$x_{t-1}']
    hnames = ['$h_{t-2}', '$h_{t-1}', '$h_t']
    for c, xn, hn in zip(cols, xnames, hnames):
        _cell(fig, c - bw / 2, y_in - bh / 2, bw, bh, xn, fill='fill1')
        fig.node(c, y_mid, hn, r=20, fill='fill5')
        fig.arrow(c, y_in - bh / 2 - 3, c, y_mid + 23)
    for a, b in zip(cols, cols[1:]):
        fig.arrow(a + 23, y_mid, b - 23, y_mid)
    fig.text(cols[0] - 62, y_mid, '…', size=16)
    fig.arrow(cols[0] - 50, y_mid, cols[0] - 23, y_mid)
    _cell(fig, cols[2] - bw / 2, y_out - bh / 2, bw, bh, '$x_t', fill='fill3')
    fig.text(cols[2] - bw / 2 - 8, y_out, t('predicted', '预测'), size=12, color='muted',
             anchor='end')
    fig.arrow(cols[2], y_mid - 23, cols[2], y_out + bh / 2 + 3)
    fig.text(cols[1], y_in + bh / 2 + 24, '$h_t = g(h_{t-1}, x_{t-1})', size=13)
    return fig


@figure('seq-kstep')
def seq_kstep(t):
    """k-step-ahead prediction with tau = 4: each step feeds its prediction back into the window."""
    fig = Fig(760, 236)
    cw, ch = 62, 32
    x0, y0, gap = 96, 46, 52
    names = ['$x_{t-3}', '$x_{t-2}', '$x_{t-1}', '$x_t', '$x\u0302_{t+1}', '$x\u0302_{t+2}',
             '$x\u0302_{t+3}']
    fig.text(x0 + 2 * cw, 18, t('observed', '观测值'), size=12, color='muted')
    fig.text(x0 + 5.5 * cw, 18, t('predicted', '预测值'), size=12, color='muted')
    fig.line(x0 + 4 * cw, 10, x0 + 4 * cw, y0 + 2 * gap + ch + 6, color='muted', dashed=True,
             width=1)
    for k in range(3):
        y = y0 + k * gap
        fig.text(x0 - 14, y + ch / 2, t(f'step {k + 1}', f'第 {k + 1} 步'), size=12,
                 anchor='end')
        for i, name in enumerate(names):
            x = x0 + i * cw
            if i < k or i > k + 4:  # not involved in this step
                if i > k + 4:
                    _cell(fig, x + 2, y, cw - 4, ch, '', fill='paper', stroke='muted',
                          dashed=True)
                else:
                    _cell(fig, x + 2, y, cw - 4, ch, name, fill='paper', color='muted',
                          stroke='muted')
            elif i == k + 4:
                _cell(fig, x + 2, y, cw - 4, ch, name, fill='hl')
            else:
                _cell(fig, x + 2, y, cw - 4, ch, name, fill='fill1' if i < 4 else 'fill2')
        fig.rect(x0 + k * cw - 1, y - 4, 4 * cw + 2, ch + 8, fill=None, stroke='accent', rx=5,
                 width=2)
        used = t(f'{k} of 4 inputs are predictions' if k != 1 else '1 of 4 inputs is a prediction',
                 f'4 个输入中有 {k} 个是预测值')
        fig.text(x0 + 7 * cw + 16, y + ch / 2, used, size=12, anchor='start', color='muted')
    ly = y0 + 3 * gap + 12
    for k, (fill, label) in enumerate([('fill1', t('observed', '观测值')),
                                       ('fill2', t('earlier prediction, fed back', '先前的预测，回送为输入')),
                                       ('hl', t('predicted in this step', '本步的预测'))]):
        lx = x0 + [0, 150, 390][k]
        fig.rect(lx, ly - 8, 22, 16, fill=fill, rx=2, width=1)
        fig.text(lx + 30, ly, label, size=12, anchor='start')
    return fig


@figure('text-pipeline')
def text_pipeline(t):
    """From raw text to a sequence of indices, on the first words of The Time Machine."""
    fig = Fig(760, 300)
    lx, x0 = 20, 250
    rows = [40, 104, 168, 232]
    labels = [t('raw text', '原始文本'),
              t('letters only, lower case', '只保留字母，转为小写'),
              t('tokens (characters)', '词元（字符）'),
              t('indices in the vocabulary', '词表中的索引')]
    for y, label in zip(rows, labels):
        fig.text(lx, y, label, size=13, anchor='start')
    fig.box(x0, rows[0] - 15, 300, 30, 'The Time Machine, by H. G. Wells', fill='fill0',
            size=13)
    fig.box(x0, rows[1] - 15, 300, 30, 'the time machine by h g wells', fill='fill0', size=13)
    chars = list('the time')
    index = {' ': 0, 'e': 6, 'h': 9, 'i': 10, 'm': 14, 't': 21}
    cw = 34
    for i, c in enumerate(chars):
        _cell(fig, x0 + i * cw, rows[2] - 15, cw - 4, 30, '␣' if c == ' ' else c, fill='fill1',
              size=14)
        _cell(fig, x0 + i * cw, rows[3] - 15, cw - 4, 30, str(index[c]), fill='fill3', size=13)
    fig.text(x0 + len(chars) * cw + 8, rows[2], '…', size=15)
    fig.text(x0 + len(chars) * cw + 8, rows[3], '…', size=15)
    for a, b in zip(rows, rows[1:]):
        fig.arrow(x0 + 120, a + 17, x0 + 120, b - 17)
    # the vocabulary
    vx, vy = 600, 52
    fig.text(vx + 60, vy - 22, t('vocabulary (28 tokens)', '词表（28 个词元）'), size=13)
    entries = [('␣', 0), ('<unk>', 1), ('a', 2), ('b', 3), ('…', ''), ('e', 6), ('…', ''),
               ('t', 21), ('…', ''), ('z', 27)]
    for i, (tok, idx) in enumerate(entries):
        y = vy + i * 22
        fill = 'fill0' if tok != '…' else 'paper'
        _cell(fig, vx, y, 70, 20, tok, fill=fill if tok != '…' else 'paper', size=12,
              stroke='ink' if tok != '…' else 'paper', rx=0)
        _cell(fig, vx + 70, y, 50, 20, str(idx), fill='fill3' if tok != '…' else 'paper',
              size=12, stroke='ink' if tok != '…' else 'paper', rx=0)
    return fig


@figure('lm-partition')
def lm_partition(t):
    """Three ways to cut one long sequence into training subsequences of n = 5 tokens."""
    fig = Fig(770, 420)
    cell, n, x0 = 24, 5, 196
    length = 22
    offset = 2
    fills = ['fill1', 'fill2', 'fill3', 'fill4']

    def seq(y, colour=True):
        for i in range(length):
            piece = (i - offset) // n if i >= offset else -1
            fill = fills[piece] if colour and 0 <= piece < 4 else 'fill0'
            _cell(fig, x0 + i * cell, y, cell, cell, str(i), fill=fill, size=10, rx=0, width=0.8)

    # (a) a random offset, then pieces of n tokens
    ya = 44
    fig.text(20, 18, t('cut into pieces after a random offset', '随机偏移后切成若干段'), size=13,
             anchor='start', bold=True)
    fig.text(20, ya + cell / 2, t('the sequence', '序列'), size=12, anchor='start')
    seq(ya)
    fig.brace_label(x0, x0 + offset * cell, ya + cell + 8, t('offset', '偏移'), size=11)
    for p in range(4):
        xa = x0 + (offset + p * n) * cell
        fig.brace_label(xa + 2, xa + n * cell - 2, ya + cell + 8, t(f'piece {p + 1}', f'第 {p + 1} 段'),
                        size=11)

    def batch(x, y, pieces, caption):
        for r, p in enumerate(pieces):
            for j in range(n):
                i = offset + p * n + j
                _cell(fig, x + j * cell, y + r * cell, cell, cell, str(i), fill=fills[p],
                      size=10, rx=0, width=0.8)
        fig.text(x + n * cell / 2, y - 12, caption, size=11, color='muted')

    yb = 138
    fig.text(20, yb + cell, t('random sampling', '随机采样'), size=12, anchor='start')
    batch(x0, yb, [2, 0], t('minibatch 1', '小批量 1'))
    batch(x0 + 160, yb, [3, 1], t('minibatch 2', '小批量 2'))
    fig.text(x0 + 330, yb + cell, t('pieces in random order', '各段顺序随机'),
             size=12, anchor='start', color='muted')
    yc = 214
    fig.text(20, yc + cell, t('sequential partitioning', '顺序分区'), size=12, anchor='start')
    batch(x0, yc, [0, 2], t('minibatch 1', '小批量 1'))
    batch(x0 + 160, yc, [1, 3], t('minibatch 2', '小批量 2'))
    for r in range(2):
        fig.arrow(x0 + n * cell + 6, yc + (r + 0.5) * cell, x0 + 160 - 6, yc + (r + 0.5) * cell,
                  color='accent')
    fig.text(x0 + 330, yc + cell / 2, t('row i of a minibatch continues', '每个小批量的第 i 行'),
             size=12, anchor='start', color='muted')
    fig.text(x0 + 330, yc + 3 * cell / 2, t('row i of the previous one', '紧接上一个小批量的第 i 行'),
             size=12, anchor='start', color='muted')
    # (c) every window
    yd = 330
    fig.text(20, yd - 22, t('every window, shuffled (this book)', '所有窗口，打乱顺序（本书）'),
             size=13, anchor='start', bold=True)
    seq(yd, colour=False)
    for k in range(4):
        y = yd + cell + 8 + k * 9
        fig.rect(x0 + k * cell + 3, y, n * cell - 6, 6, fill='fill5', stroke='ink', rx=2,
                 width=0.8)
    fig.text(x0 + 9 * cell + 8, yd + cell + 24, t('windows start at every position: 0, 1, 2, …',
                                                  '窗口从每个位置开始：0, 1, 2, …'),
             size=12, anchor='start', color='muted')
    return fig


@figure('rnn-unrolled')
def rnn_unrolled(t):
    """An RNN drawn with a recurrent edge (left) and unrolled over three time steps (right)."""
    fig = Fig(760, 262)
    bw, bh = 64, 38
    y_o, y_h, y_x = 40, 132, 222

    def column(cx, sub, show_weights):
        _cell(fig, cx - 26, y_o - 15, 52, 30, f'$O_{{{sub}}}', fill='fill3')
        _cell(fig, cx - bw / 2, y_h - bh / 2, bw, bh, f'$H_{{{sub}}}', fill='fill5')
        _cell(fig, cx - 26, y_x - 15, 52, 30, f'$X_{{{sub}}}', fill='fill1')
        fig.arrow(cx, y_x - 17, cx, y_h + bh / 2 + 2)
        fig.arrow(cx, y_h - bh / 2 - 2, cx, y_o + 17)
        if show_weights:
            fig.text(cx + 8, (y_x + y_h) / 2 + 8, '$W_{xh}', size=12, anchor='start')
            fig.text(cx + 8, (y_o + y_h) / 2 - 6, '$W_{hq}', size=12, anchor='start')

    # folded
    cx = 80
    column(cx, 't', True)
    _loop(fig, cx + bw / 2, y_h, '$W_{hh}')
    # unroll arrow
    fig.arrow(190, y_h, 262, y_h, width=2)
    fig.text(226, y_h - 16, t('unroll', '展开'), size=12, color='muted')
    # unrolled
    cols = [380, 520, 660]
    for c, sub, w in zip(cols, ['t-1', 't', 't+1'], [False, True, False]):
        column(c, sub, w)
    fig.text(cols[0] - 88, y_h, '…', size=16)
    fig.arrow(cols[0] - 76, y_h, cols[0] - bw / 2 - 2, y_h)
    for a, b in zip(cols, cols[1:]):
        fig.arrow(a + bw / 2 + 2, y_h, b - bw / 2 - 2, y_h)
        fig.text((a + b) / 2, y_h - 14, '$W_{hh}', size=12)
    fig.arrow(cols[-1] + bw / 2 + 2, y_h, cols[-1] + bw / 2 + 36, y_h)
    fig.text(cols[-1] + bw / 2 + 48, y_h, '…', size=16)
    fig.text(520, 254, t('the same W_{xh}, W_{hh}, W_{hq} at every time step',
                         '每个时间步使用同一组 W_{xh}、W_{hh}、W_{hq}'), size=12, color='muted')
    return fig


@figure('rnn-hidden-state')
def rnn_hidden_state(t):
    """One step of an RNN: X_t and H_{t-1} are concatenated and pass through a layer with tanh."""
    fig = Fig(740, 250)
    y = 130
    _cell(fig, 20, y - 19, 70, 38, '$H_{t-1}', fill='fill5')
    _cell(fig, 155, 202, 60, 32, '$X_t', fill='fill1')
    fig.box(130, y - 22, 110, 44, t('concatenate', '连结'), fill='fill0', size=13)
    fig.box(290, y - 26, 130, 52, t('fully connected', '全连接层'), sub=t('activation φ', '激活函数 φ'),
            fill='fill2', size=13)
    _cell(fig, 470, y - 19, 70, 38, '$H_t', fill='fill5')
    fig.arrow(92, y, 128, y)
    fig.arrow(185, 200, 185, y + 24)
    fig.arrow(242, y, 288, y)
    fig.arrow(422, y, 468, y)
    fig.arrow(542, y, 610, y)
    fig.text(618, y, t('to step t+1', '送往第 t+1 步'), size=12, anchor='start', color='muted')
    fig.box(450, 30, 110, 36, t('output layer', '输出层'), fill='fill2', size=13)
    fig.arrow(505, y - 21, 505, 68)
    _cell(fig, 612, 32, 56, 32, '$O_t', fill='fill3')
    fig.arrow(562, 48, 610, 48)
    fig.text(300, 202, '$H_t = φ(X_t W_{xh} + H_{t−1} W_{hh} + b_h)', size=14, anchor='start')
    fig.text(300, 230, '$O_t = H_t W_{hq} + b_q', size=14, anchor='start')
    fig.text(55, y + 34, t('from step t−1', '来自第 t−1 步'), size=12, color='muted')
    return fig


@figure('rnn-char-lm')
def rnn_char_lm(t):
    """A character-level language model reads 'futur' and is trained to output 'uture'."""
    fig = Fig(700, 318)
    inputs, targets = 'futur', 'uture'
    x0, dx = 200, 100
    y_tgt, y_o, y_h, y_x = 34, 112, 192, 276
    rows = [(y_tgt, t('targets', '目标')), (y_o, t('outputs', '输出')),
            (y_h, t('hidden states', '隐状态')), (y_x, t('inputs', '输入'))]
    for y, name in rows:
        fig.text(20, y, name, size=13, anchor='start')
    for i, (a, b) in enumerate(zip(inputs, targets)):
        cx = x0 + i * dx
        _cell(fig, cx - 20, y_x - 15, 40, 30, a, fill='fill1', size=15)
        _cell(fig, cx - 26, y_h - 18, 52, 36, f'$H_{i + 1}', fill='fill5')
        _cell(fig, cx - 24, y_o - 16, 48, 32, f'$O_{i + 1}', fill='fill3')
        _cell(fig, cx - 20, y_tgt - 15, 40, 30, b, fill='fill4', size=15)
        fig.arrow(cx, y_x - 17, cx, y_h + 20)
        fig.arrow(cx, y_h - 20, cx, y_o + 18)
        fig.line(cx, y_o - 18, cx, y_tgt + 17, color='warn', dashed=True)
        if i + 1 < len(inputs):
            fig.arrow(cx + 28, y_h, cx + dx - 28, y_h)
    fig.text(20, (y_o + y_tgt) / 2, t('loss: cross-entropy', '损失：交叉熵'), size=12,
             anchor='start', color='warn')
    return fig


@figure('clip-gradient')
def clip_gradient(t):
    """Gradient clipping: a gradient longer than theta is scaled back onto the circle of radius theta."""
    fig = Fig(700, 280)
    ox, oy, r = 250, 160, 80
    fig.circle(ox, oy, r, fill='fill0', stroke='muted', dashed=True)
    ang = math.radians(28)
    gx, gy = ox + 220 * math.cos(ang), oy - 220 * math.sin(ang)
    cx, cy = ox + r * math.cos(ang), oy - r * math.sin(ang)
    fig.arrow(ox, oy, gx, gy, color='muted', dashed=True, width=1.4)
    fig.arrow(ox, oy, cx, cy, color='accent', width=2.4)
    fig.text(gx + 4, gy - 16, '$g', size=16)
    fig.text(gx - 40, gy - 16, t('|g| > θ', '|g| > θ'), size=12, color='muted', anchor='end')
    fig.text(cx + 12, cy + 20, 'θ g / |g|', size=13, color='accent', anchor='start')
    ang2 = math.radians(205)
    hx, hy = ox + 52 * math.cos(ang2), oy - 52 * math.sin(ang2)
    fig.arrow(ox, oy, hx, hy, color='ink', width=1.8)
    fig.text(ox - r - 10, hy, t('|g| ≤ θ: unchanged', '|g| ≤ θ：不变'), size=12, color='muted',
             anchor='end')
    rad = math.radians(-70)
    fig.line(ox, oy, ox + r * math.cos(rad), oy - r * math.sin(rad), color='muted', width=1)
    fig.text(ox + 0.55 * r * math.cos(rad) + 8, oy - 0.55 * r * math.sin(rad), 'θ', size=14,
             color='muted', anchor='start')
    fig.circle(ox, oy, 3, fill='ink', stroke='ink')
    fig.text(470, 190, 'g ← min(1, θ / |g|) · g', size=14, anchor='start')
    fig.text(470, 218, t('same direction, length at most θ', '方向不变，长度至多为 θ'), size=12,
             color='muted', anchor='start')
    fig.text(470, 240, t('(|g|: norm of all gradients together)', '（|g|：全部梯度合在一起的范数）'),
             size=12, color='muted', anchor='start')
    return fig


@figure('bptt-graph')
def bptt_graph(t):
    """The computational graph of an RNN over three time steps, with its shared weight matrices."""
    fig = Fig(640, 330)
    cols = [170, 330, 490]
    y_l, y_o, y_h, y_x = 34, 118, 208, 296
    r = 21
    fig.node(330, y_l, '$L', r=r, fill='fill4')
    for i, cx in enumerate(cols, start=1):
        fig.node(cx, y_x, f'$x_{i}', r=r, fill='fill1')
        fig.node(cx, y_h, f'$h_{i}', r=r, fill='fill5')
        fig.node(cx, y_o, f'$o_{i}', r=r, fill='fill3')
        fig.connect((cx, y_x), (cx, y_h), r=r)
        fig.connect((cx, y_h), (cx, y_o), r=r)
        fig.connect((cx, y_o), (330, y_l), r=r, color='muted')
        fig.text(cx + 8, (y_x + y_h) / 2, '$W_{hx}', size=12, anchor='start')
        fig.text(cx + 8, (y_h + y_o) / 2, '$W_{qh}', size=12, anchor='start')
    fig.node(40, y_h, '$h_0', r=r, fill='paper', dashed=True)
    for a, b in zip([40] + cols, cols):
        fig.connect((a, y_h), (b, y_h), r=r)
        fig.text((a + b) / 2, y_h - 14, '$W_{hh}', size=12)
    fig.text(560, y_h, '…', size=16, anchor='start')
    fig.text(360, y_l, t('$L = (1/T) Σ_t l(o_t, y_t)', '$L = (1/T) Σ_t l(o_t, y_t)'), size=13,
             anchor='start')
    return fig


@figure('bptt-truncation')
def bptt_truncation(t):
    """How far the gradient of the last step's loss flows back: fully, truncated, or randomly cut."""
    fig = Fig(700, 270)
    n, dx, x0, r = 9, 56, 180, 14
    rows = [(54, t('full', '完全计算'), list(range(1, n))),
            (140, t('truncated (τ = 3)', '截断（τ = 3）'), [1, 2, 3]),
            (226, t('randomized', '随机截断'), [1, 2, 3, 4, 5])]
    for y, name, back in rows:
        fig.text(20, y, name, size=13, anchor='start')
        xs = [x0 + i * dx for i in range(n)]
        for i, x in enumerate(xs):
            fig.node(x, y, f'$h_{{{i + 1}}}' if i < n - 1 else '$h_T', r=r, fill='fill5', size=11)
        for a, b in zip(xs, xs[1:]):
            fig.connect((a, y), (b, y), r=r, color='muted', width=1)
        last = xs[-1]
        for k in back:
            a, b = xs[n - k], xs[n - k - 1]
            fig.path(f'M{a - 6:.1f},{y - r - 3:.1f} Q{(a + b) / 2:.1f},{y - r - 24:.1f} '
                     f'{b + 6:.1f},{y - r - 3:.1f}', color='accent', width=1.6, arrow=True)
        if len(back) < n - 1:
            cut = (xs[n - len(back) - 1] + xs[n - len(back) - 2]) / 2
            fig.line(cut, y - 26, cut, y + 18, color='warn', width=2)
            label = (t('stop', '停止') if len(back) == 3
                     else t('random length, reweighted', '长度随机，重新加权'))
            fig.text(cut - 8, y + 26, label, size=11, color='warn', anchor='end')
        fig.text(last + 24, y, '∂L_T', size=12, anchor='start', color='accent')
    return fig
