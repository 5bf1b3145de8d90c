"""Figures of chapter 11, attention mechanisms and Transformers.

Colours by role, the same in every figure of the chapter: queries ``fill1``, keys ``fill2``,
values ``fill3``, attention and its weights ``fill4``, other layers (linear, FFN, norms)
``fill5``, inputs and plain operations ``fill0``; a highlight (``hl``) marks weights that are used.
"""
import math

from . import figure, Fig

QUERY, KEY, VALUE, ATT, LAYER, PLAIN = 'fill1', 'fill2', 'fill3', 'fill4', 'fill5', 'fill0'


@figure('qkv')
def qkv(t):
    """A query compared with m keys; the normalized scores weight the values, which are summed."""
    fig = Fig(660, 290)
    m = 4
    labels = ['1', '2', '3', 'm']
    xs = [170 + 115 * i for i in range(m)]
    ky, vy = 120, 200
    fig.box(20, 36, 80, 34, '$q', fill=QUERY, size=15)
    fig.text(60, 20, t('query', '查询'), size=12, color='muted')
    fig.text(70, ky + 17, t('keys', '键'), size=12, color='muted')
    fig.text(70, vy + 17, t('values', '值'), size=12, color='muted')
    for x, lab in zip(xs, labels):
        fig.box(x - 30, ky, 60, 34, f'$k_{lab}', fill=KEY, size=14)
        fig.box(x - 30, vy, 60, 34, f'$v_{lab}', fill=VALUE, size=14)
        fig.path(f'M100,53 C{x - 40:.0f},53 {x:.0f},70 {x:.0f},{ky - 4}', arrow=True,
                 color='muted', width=1)
        fig.arrow(x, ky + 34, x, vy - 2, color='muted', width=1)
        fig.text(x + 6, (ky + 34 + vy) / 2, f'× α(q, k_{lab})', size=11, anchor='start',
                 color='accent')
    fig.text((xs[2] + xs[3]) / 2, ky + 17, '…', size=16)
    fig.text((xs[2] + xs[3]) / 2, vy + 17, '…', size=16)
    sy, sx = vy + 60, 610
    for x in xs:
        fig.path(f'M{x:.0f},{vy + 34} L{x:.0f},{sy}', width=1)
    fig.line(xs[0], sy, sx - 22, sy, width=1)
    fig.box(sx - 22, sy - 14, 44, 28, '∑', fill=ATT, size=15)
    fig.text(sx - 30, sy + 20, t('weighted sum', '加权和'), size=11, color='muted', anchor='end')
    fig.arrow(sx, sy - 14, sx, 48)
    fig.text(sx, 32, t('output', '输出'), size=12)
    return fig


@figure('scoring-functions')
def scoring_functions(t):
    """Additive attention (an MLP on query and key) next to the scaled dot product."""
    fig = Fig(660, 330)
    # left: additive
    fig.text(165, 18, t('additive attention', '加性注意力'), size=14, bold=True)
    fig.box(40, 262, 90, 32, '$q', fill=QUERY, size=14)
    fig.box(200, 262, 90, 32, '$k', fill=KEY, size=14)
    fig.text(85, 310, t('length d_q', '长度 d_q'), size=11, color='muted')
    fig.text(245, 310, t('length d_k', '长度 d_k'), size=11, color='muted')
    fig.box(40, 200, 90, 32, '$W_q q', fill=LAYER, size=13)
    fig.box(200, 200, 90, 32, '$W_k k', fill=LAYER, size=13)
    fig.arrow(85, 262, 85, 234)
    fig.arrow(245, 262, 245, 234)
    fig.op(165, 165, r=9)
    fig.arrow(85, 200, 157, 170, gap=2)
    fig.arrow(245, 200, 173, 170, gap=2)
    fig.box(110, 110, 110, 30, t('tanh, h units', 'tanh，h 个单元'), fill=LAYER, size=12)
    fig.arrow(165, 156, 165, 142)
    fig.box(120, 56, 90, 30, '$w_v^⊤ ·', fill=LAYER, size=13)
    fig.arrow(165, 110, 165, 88)
    fig.text(165, 36, t('score a(q, k)', '评分 a(q, k)'), size=12, color='accent')
    fig.arrow(165, 56, 165, 46)
    # right: scaled dot product
    fig.text(500, 18, t('scaled dot product', '缩放点积'), size=14, bold=True)
    fig.box(390, 262, 90, 32, '$q', fill=QUERY, size=14)
    fig.box(520, 262, 90, 32, '$k', fill=KEY, size=14)
    fig.text(500, 310, t('both of length d', '长度都是 d'), size=11, color='muted')
    fig.box(445, 170, 110, 32, '$q^⊤k', fill=LAYER, size=14)
    fig.arrow(435, 262, 480, 204, gap=2)
    fig.arrow(565, 262, 520, 204, gap=2)
    fig.box(445, 100, 110, 32, '÷ √d', fill=LAYER, size=14)
    fig.arrow(500, 170, 500, 134)
    fig.text(500, 36, t('score a(q, k)', '评分 a(q, k)'), size=12, color='accent')
    fig.arrow(500, 100, 500, 46)
    fig.line(330, 40, 330, 310, color='muted', dashed=True)
    return fig


@figure('bahdanau')
def bahdanau(t):
    """One decoder step of the RNN encoder-decoder with Bahdanau attention."""
    fig = Fig(680, 350)
    # encoder states along the bottom
    n = 4
    src = ["i'm", 'late', '.', '<eos>']
    ex = [40 + 80 * i for i in range(n)]
    ey = 250
    fig.text(190, 330, t('encoder (source tokens)', '编码器（源词元）'), size=12, color='muted')
    for i, x in enumerate(ex):
        fig.box(x, ey, 60, 30, f'$h_{i + 1}', fill=KEY, size=14)
        fig.text(x + 30, ey + 52, src[i], size=12)
        fig.arrow(x + 30, ey + 42, x + 30, ey + 32, width=1)
        if i:
            fig.arrow(x - 20, ey + 15, x - 2, ey + 15, width=1)
    # attention box
    ax, ay = 150, 150
    fig.box(ax, ay, 150, 40, t('additive attention', '加性注意力'), fill=ATT, size=13)
    for x in ex:
        fig.line(x + 30, ey, ax + 75, ay + 42, color='muted', width=1)
    fig.text(ax + 160, ay + 62, t('keys = values', '键 = 值'), size=11, color='muted', anchor='start')
    # decoder
    dx, dy = 470, 150
    fig.box(dx, dy, 90, 40, 'GRU', fill=LAYER, size=14)
    fig.box(dx, 60, 90, 34, t('dense', '全连接层'), fill=LAYER, size=12)
    fig.arrow(dx + 45, dy, dx + 45, 96)
    fig.text(dx + 45, 22, t("next token's scores", '下一个词元的评分'), size=12)
    fig.arrow(dx + 45, 60, dx + 45, 34)
    # previous state: query
    fig.box(dx - 130, dy - 75, 70, 30, '$s_{t′-1}', fill=QUERY, size=14)
    fig.text(dx - 95, dy - 92, t('query', '查询'), size=11, color='muted')
    fig.path(f'M{dx - 95},{dy - 45} L{dx - 95},{dy - 20} L{ax + 110},{dy - 20} L{ax + 110},{ay - 2}',
             arrow=True)
    fig.path(f'M{dx - 60},{dy - 60} L{dx - 20},{dy - 60} L{dx - 20},{dy + 10} L{dx - 2},{dy + 10}',
             arrow=True)
    # context into the GRU
    fig.arrow(ax + 152, ay + 28, dx - 2, dy + 28)
    fig.text((ax + 150 + dx) / 2, ay + 40, t("context c_{t′}", '上下文 c_{t′}'), size=12,
             color='accent')
    # embedding of the previous token
    fig.box(dx, 250, 90, 30, t('embedding', '嵌入'), fill=PLAIN, size=12)
    fig.text(dx + 45, 302, '$y_{t′-1}', size=14)
    fig.arrow(dx + 45, 292, dx + 45, 282, width=1)
    fig.arrow(dx + 45, 250, dx + 45, 192)
    fig.arrow(dx + 92, dy + 20, dx + 130, dy + 20)
    fig.text(dx + 150, dy + 20, '$s_{t′}', size=14)
    return fig


@figure('multihead')
def multihead(t):
    """h heads, each with its own projections and attention, concatenated and mixed by W_o."""
    fig = Fig(640, 360)
    hx = [70, 230, 460]
    names = ['1', '2', 'h']
    for x, name in zip(hx, names):
        for j, (lab, fill) in enumerate([('q', QUERY), ('k', KEY), ('v', VALUE)]):
            bx = x + j * 40
            fig.box(bx - 18, 230, 36, 30, f'$W_{name}^{{({lab})}}', fill=fill, size=11)
            fig.arrow(bx, 300 - 10 * j, bx, 262, width=1)
            fig.arrow(bx, 230, x + 40, 182, width=1, gap=2)
        fig.box(x - 20, 140, 120, 40, t('attention', '注意力'), fill=ATT, size=12,
                sub=t(f'head {name}', f'头 {name}'))
        fig.arrow(x + 40, 140, x + 40, 112)
    fig.text(370, 160, '…', size=20)
    fig.text(370, 245, '…', size=20)
    fig.box(70, 80, 500, 30, t('concatenate', '拼接'), fill=PLAIN, size=13)
    fig.box(250, 22, 140, 32, t('linear W_o', '线性层 W_o'), fill=LAYER, size=13)
    fig.arrow(320, 80, 320, 56)
    # each head receives all queries, keys and values: one bus per kind
    buses = [(t('queries', '查询'), QUERY, 300), (t('keys', '键'), KEY, 290),
             (t('values', '值'), VALUE, 280)]
    for j, (lab, fill, by) in enumerate(buses):
        bx = 150 + 170 * j
        fig.box(bx - 50, 320, 100, 28, lab, fill=fill, size=12)
        fig.line(bx, 320, bx, by, color='muted', width=0.8)
        fig.line(hx[0] + j * 40, by, hx[-1] + j * 40, by, color='muted', width=0.8)
    return fig


@figure('cnn-rnn-self-attention')
def cnn_rnn_self_attention(t):
    """How many layers or steps connect the first token with the last, for three layer types."""
    fig = Fig(690, 250)
    n, r, gap = 5, 11, 30
    panels = [(20, t('convolution (k = 3)', '卷积（k = 3）')), (250, t('recurrent layer', '循环层')),
              (480, t('self-attention', '自注意力'))]
    for px, title in panels:
        fig.text(px + 2 * gap + 30, 18, title, size=13, bold=True)
    # CNN: two layers, each output linked to three inputs
    px = 50
    rows = [210, 140, 70]
    for level, y in enumerate(rows):
        for i in range(n):
            fig.node(px + i * gap * 1.2, y, r=r, fill=PLAIN if level == 0 else 'fill1')
        if level:
            for i in range(n):
                for di in (-1, 0, 1):
                    j = i + di
                    if 0 <= j < n:
                        hl = level == 2 and i == n - 1 or level == 1 and i >= n - 2 and j >= n - 3
                        fig.connect((px + j * gap * 1.2, rows[level - 1]), (px + i * gap * 1.2, y), r=r,
                                    color='warn' if hl else 'muted', width=1.4 if hl else 0.7)
    fig.text(px + 2.4 * gap, 238, t('reach grows by one per layer', '每层向外多触及一个'),
             size=11, color='muted')
    # RNN: a chain
    px = 280
    for i in range(n):
        fig.node(px + i * gap * 1.2, 210, r=r, fill=PLAIN)
        fig.node(px + i * gap * 1.2, 140, r=r, fill='fill1')
        fig.connect((px + i * gap * 1.2, 210), (px + i * gap * 1.2, 140), r=r, color='muted',
                    width=0.7)
        if i:
            fig.connect((px + (i - 1) * gap * 1.2, 140), (px + i * gap * 1.2, 140), r=r,
                        color='warn', width=1.4)
    fig.text(px + 2.4 * gap, 238, t('n − 1 sequential steps', 'n − 1 个顺序步骤'), size=11,
             color='muted')
    # self-attention: all pairs
    px = 510
    for i in range(n):
        fig.node(px + i * gap * 1.2, 210, r=r, fill=PLAIN)
        fig.node(px + i * gap * 1.2, 100, r=r, fill='fill1')
    for i in range(n):
        for j in range(n):
            hl = j == 0 and i == n - 1
            fig.connect((px + j * gap * 1.2, 210), (px + i * gap * 1.2, 100), r=r,
                        color='warn' if hl else 'muted', width=1.4 if hl else 0.5)
    fig.text(px + 2.4 * gap, 238, t('one layer, every pair', '一层，连接每一对'), size=11,
             color='muted')
    return fig


@figure('positional-rotation')
def positional_rotation(t):
    """Column pairs of the sinusoidal encoding (d = 16) as points on circles, positions 0 to 4."""
    fig = Fig(660, 250)
    d, R, n = 16, 70, 5
    for k, j in enumerate([0, 1, 2]):
        cx, cy = 115 + 215 * k, 125
        omega = 1 / 10000 ** (2 * j / d)
        fig.circle(cx, cy, R, fill=None, stroke='muted', width=1)
        fig.line(cx - R - 8, cy, cx + R + 8, cy, color='muted', width=0.6)
        fig.line(cx, cy - R - 8, cx, cy + R + 8, color='muted', width=0.6)
        fig.text(cx, 18, t(f'pair j = {j}: ω = {omega:.3g}', f'第 j = {j} 对：ω = {omega:.3g}'),
                 size=12)
        for i in range(n):
            angle = i * omega  # the point (cos iω, sin iω)
            x, y = cx + R * math.cos(angle), cy - R * math.sin(angle)
            fig.line(cx, cy, x, y, color='accent' if i else 'muted', width=1.2)
            fig.circle(x, y, 4.5, fill='hl' if i else 'fill0')
            if j == 0 or i in (0, n - 1):
                lx, ly = cx + (R + 17) * math.cos(angle), cy - (R + 17) * math.sin(angle)
                fig.text(lx, ly, f'i={i}', size=10, color='muted')
    fig.text(330, 232, t('horizontal axis: cos iω, vertical axis: sin iω (d = 16)',
                         '横轴：cos iω，纵轴：sin iω（d = 16）'), size=11, color='muted')
    return fig


def _block(fig, x, y, w, layers, gap=16, h=30):
    """Boxes stacked upwards from y (the bottom), with arrows; returns the top y."""
    for i, (label, fill) in enumerate(layers):
        top = y - h
        fig.box(x, top, w, h, label, fill=fill, size=12)
        if i < len(layers) - 1:
            fig.arrow(x + w / 2, top, x + w / 2, top - gap + 2)
        y = top - gap
    return y + gap


@figure('transformer')
def transformer(t):
    """The Transformer: encoder block and decoder block, each with add & norm around sublayers."""
    fig = Fig(660, 560)
    an = t('add & norm', '加 & 规范化')
    w = 190

    def residual(x, y_from, y_to):
        fig.path(f'M{x + w / 2},{y_from} L{x + w + 10},{y_from} L{x + w + 10},{y_to} '
                 f'L{x + w + 2},{y_to}', arrow=True, color='muted', width=1)

    for x, tokens in [(60, t('source tokens', '源词元')),
                      (380, t('target tokens (shifted right)', '目标词元（右移）'))]:
        fig.text(x + w / 2, 542, tokens, size=12)
        fig.box(x, 480, w, 30, t('embedding', '嵌入'), fill=PLAIN, size=12)
        fig.arrow(x + w / 2, 530, x + w / 2, 512)
        fig.op(x + w / 2, 455, r=9)
        fig.text(x + w / 2 + 16, 455, t('positional encoding', '位置编码'), size=11, color='muted',
                 anchor='start')
        fig.arrow(x + w / 2, 480, x + w / 2, 466)
        fig.arrow(x + w / 2, 446, x + w / 2, 412)
    # encoder: boxes 380-410, 328-358, 276-306, 224-254
    ex = 60
    fig.rect(ex - 14, 205, w + 40, 225, fill=None, stroke='muted', dashed=True)
    fig.text(ex - 20, 215, '× L', size=14, anchor='end')
    top = _block(fig, ex, 410, w, [(t('multi-head self-attention', '多头自注意力'), ATT), (an, LAYER),
                                   (t('position-wise FFN', '逐位置前馈网络'), LAYER), (an, LAYER)],
                 gap=22)
    residual(ex, 422, 343)
    residual(ex, 317, 239)
    fig.text(ex - 14, 190, t('encoder', '编码器'), size=13, bold=True, anchor='start')
    # decoder: boxes 382-410, 332-360, 282-310, 232-260, 182-210, 132-160
    dx = 380
    fig.rect(dx - 14, 114, w + 40, 316, fill=None, stroke='muted', dashed=True)
    fig.text(dx + w + 32, 124, '× L', size=14, anchor='start')
    layers = [(t('masked multi-head self-attention', '遮蔽多头自注意力'), ATT), (an, LAYER),
              (t('multi-head attention', '多头注意力'), ATT), (an, LAYER),
              (t('position-wise FFN', '逐位置前馈网络'), LAYER), (an, LAYER)]
    _block(fig, dx, 410, w, layers, gap=22, h=28)
    residual(dx, 422, 346)
    residual(dx, 321, 246)
    residual(dx, 221, 146)
    fig.text(dx + w + 32, 150, t('decoder', '解码器'), size=13, bold=True, anchor='start')
    # the encoder's output: keys and values of the decoder's second attention
    fig.path(f'M{ex + w / 2},{top} L{ex + w / 2},100 L{dx - 40},100 L{dx - 40},296 L{dx - 2},296',
             arrow=True)
    fig.text(dx - 48, 88, t('keys, values', '键、值'), size=11, color='accent', anchor='end')
    fig.box(dx, 40, w, 28, t('linear, softmax', '线性层、softmax'), fill=LAYER, size=12)
    fig.arrow(dx + w / 2, 132, dx + w / 2, 70)
    fig.text(dx + w / 2, 22, t("next token's probabilities", '下一个词元的概率'), size=12)
    fig.arrow(dx + w / 2, 40, dx + w / 2, 32)
    return fig


@figure('causal-mask')
def causal_mask(t):
    """Which keys each query of the decoder's self-attention may use."""
    fig = Fig(330, 240)
    n, cell, x0, y0 = 4, 36, 120, 50
    vals = [['✓' if j <= i else '' for j in range(n)] for i in range(n)]
    shade = [(i, j) for i in range(n) for j in range(n) if j <= i]
    fig.matrix(x0, y0, vals, cell=cell, highlight=shade, hl_fill=ATT, size=14)
    for i in range(n):
        fig.text(x0 - 10, y0 + (i + 0.5) * cell, t(f'query {i + 1}', f'查询 {i + 1}'), size=11,
                 anchor='end')
        fig.text(x0 + (i + 0.5) * cell, y0 - 12, f'{i + 1}', size=11)
    fig.text(x0 + 2 * cell, 18, t('keys (positions)', '键（位置）'), size=12)
    fig.text(x0 + 2 * cell, y0 + n * cell + 22, t('valid lengths 1, 2, 3, 4', '有效长度 1, 2, 3, 4'),
             size=11, color='muted')
    return fig


@figure('vit')
def vit(t):
    """Vision Transformer: patches, linear embedding, class token and positions, encoder, head."""
    fig = Fig(680, 340)
    # image cut into 3 x 3 patches
    x0, y0, s = 20, 170, 40
    fig.text(x0 + 1.5 * s, y0 - 14, t('image', '图像'), size=12)
    for i in range(3):
        for j in range(3):
            fig.rect(x0 + j * s, y0 + i * s, s, s, fill='fill0' if (i + j) % 2 else 'fill3', rx=0)
            fig.text(x0 + (j + 0.5) * s, y0 + (i + 0.5) * s, str(3 * i + j + 1), size=11)
    # token row
    tx, ty, tw = 200, 250, 40
    fig.box(tx, ty, 36, 30, '<cls>', fill=QUERY, size=10)
    for k in range(9):
        fig.box(tx + (k + 1) * (tw + 4), ty, 36, 30, str(k + 1), fill=VALUE, size=11)
    fig.arrow(x0 + 3 * s + 6, y0 + 1.5 * s, tx - 6, ty + 15)
    fig.text(tx - 8, ty + 50, t('flatten each patch, linear map (a p × p convolution, stride p)',
                                '每个图块展平后做线性映射（p × p 卷积，步幅 p）'), size=11,
             color='muted', anchor='start')
    fig.text(tx - 8, ty + 68, t('then add a learned positional embedding to each token',
                                '再给每个词元加上学到的位置嵌入'), size=11, color='accent',
             anchor='start')
    # encoder
    fig.rect(tx, 130, 10 * (tw + 4) - 8, 70, fill=LAYER)
    fig.text(tx + 5 * (tw + 4) - 4, 156, t('Transformer encoder blocks × L', 'Transformer 编码器块 × L'),
             size=13)
    fig.text(tx + 5 * (tw + 4) - 4, 178, t('(pre-norm: LN, attention, +; LN, MLP, +)',
                                          '（前置规范化：LN、注意力、+；LN、MLP、+）'), size=11,
             color='muted')
    for k in range(10):
        fig.arrow(tx + 18 + k * (tw + 4), ty - 24, tx + 18 + k * (tw + 4), 202, width=0.8)
    # head on the class token
    fig.arrow(tx + 18, 130, tx + 18, 86)
    fig.box(tx - 30, 52, 96, 32, t('MLP head', 'MLP 头'), fill=ATT, size=12)
    fig.arrow(tx + 18, 52, tx + 18, 30)
    fig.text(tx + 18, 18, t('class', '类别'), size=12)
    return fig


@figure('pretraining-families')
def pretraining_families(t):
    """Attention patterns of encoder-only, encoder-decoder and decoder-only Transformers."""
    fig = Fig(680, 270)
    cell = 22
    # Drawn as one matrix of all tokens; in an encoder-decoder the two quadrants on the left
    # belong to the encoder's self-attention and the decoder's cross-attention
    specs = [
        (30, t('encoder-only (BERT)', '仅编码器（BERT）'), 6, lambda i, j: True, None),
        (255, t('encoder–decoder (T5)', '编码器-解码器（T5）'), 6,
         lambda i, j: (i < 3 and j < 3) or (i >= 3 and (j < 3 or j <= i)), 3),
        (480, t('decoder-only (GPT)', '仅解码器（GPT）'), 6, lambda i, j: j <= i, None),
    ]
    for x0, title, n, allowed, split in specs:
        fig.text(x0 + n * cell / 2 + 20, 22, title, size=13, bold=True)
        y0 = 60
        vals = [[''] * n for _ in range(n)]
        shade = [(i, j) for i in range(n) for j in range(n) if allowed(i, j)]
        fig.matrix(x0 + 20, y0, vals, cell=cell, highlight=shade, hl_fill=ATT)
        if split:
            fig.line(x0 + 20 + split * cell, y0 - 6, x0 + 20 + split * cell, y0 + n * cell + 6,
                     color='accent', width=1.6)
            fig.line(x0 + 14, y0 + split * cell, x0 + 26 + n * cell, y0 + split * cell,
                     color='accent', width=1.6)
            fig.text(x0 + 20 + 1.5 * cell, y0 + n * cell + 18, t('source', '源'), size=11,
                     color='muted')
            fig.text(x0 + 20 + 4.5 * cell, y0 + n * cell + 18, t('target', '目标'), size=11,
                     color='muted')
        fig.text(x0 + 10, y0 + n * cell / 2, t('queries', '查询'), size=11, color='muted',
                 anchor='end')
        fig.text(x0 + 20 + n * cell / 2, y0 - 14, t('keys', '键'), size=11, color='muted')
    notes = [(30, t('every token sees every token', '每个词元看到所有词元'), ''),
             (255, t('source sees source; target sees source', '源看源；目标看源'),
              t('and itself and earlier targets', '以及自己和之前的目标')),
             (480, t('each token sees itself', '每个词元只看自己'),
              t('and earlier tokens', '和之前的词元'))]
    for x0, line1, line2 in notes:
        fig.text(x0 + 3 * cell + 20, 234, line1, size=11)
        fig.text(x0 + 3 * cell + 20, 250, line2, size=11)
    return fig
