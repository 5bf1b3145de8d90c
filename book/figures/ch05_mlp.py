"""Figures of chapter 5, multilayer perceptrons."""
from . import figure, Fig
from .ch04_classification import _mark


def _layers(fig, x_positions, sizes, names, r=17, dropped=(), top=40, spacing=46, fills=None):
    """Draw a fully connected network, left to right. Returns the node centres per layer.

    ``names`` are the label prefixes per layer (e.g. 'x', 'h', 'o'); ``dropped`` lists
    (layer, index) pairs of units that are switched off (drawn dashed, without edges)."""
    fills = fills or ['fill0', 'fill1', 'fill3']
    tallest = max(sizes)
    centres = []
    for x, n in zip(x_positions, sizes):
        y0 = top + (tallest - n) * spacing / 2
        centres.append([(x, y0 + i * spacing) for i in range(n)])
    dropped = set(dropped)
    for l in range(len(sizes) - 1):
        for i, a in enumerate(centres[l]):
            for j, b in enumerate(centres[l + 1]):
                if (l, i) in dropped or (l + 1, j) in dropped:
                    continue
                fig.connect(a, b, r=r, color='muted', width=1)
    for l, layer in enumerate(centres):
        for i, (x, y) in enumerate(layer):
            label = f'${names[l]}_{i + 1}'
            if (l, i) in dropped:
                fig.circle(x, y, r, fill='paper', stroke='muted', dashed=True)
                fig.text(x, y, label, color='muted')
            else:
                fig.node(x, y, label, r=r, fill=fills[l])
    return centres


@figure('xor-hidden')
def xor_hidden(t):
    """XOR: no line separates the labels in the input plane; two ReLU units map them apart."""
    fig = Fig(700, 236)
    s = 140  # side of a plot

    def axes(x0, y0, xlab, ylab):
        fig.rect(x0, y0, s, s, fill='fill0', stroke='muted', rx=2, width=1)
        fig.text(x0 + s / 2, y0 + s + 16, xlab)
        fig.text(x0 - 16, y0 + s / 2, ylab)

    def pos(x0, y0, p, sx, sy):
        return x0 + (0.2 + 0.6 * p[0] / sx) * s, y0 + s - (0.2 + 0.6 * p[1] / sy) * s

    def point(x0, y0, p, lab, sx, sy, text):
        cx, cy = pos(x0, y0, p, sx, sy)
        _mark(fig, cx, cy, lab)
        fig.text(cx, cy + (-17 if p[1] > 0 else 17), text, size=10.5, color='muted')

    inputs = [(0, 0), (0, 1), (1, 0), (1, 1)]
    labels = [0, 1, 1, 0]
    x0, y0 = 40, 44
    axes(x0, y0, '$x_1', '$x_2')
    for p, lab in zip(inputs, labels):
        point(x0, y0, p, lab, 1, 1, f'({p[0]}, {p[1]})')
    fig.text(x0 + s / 2, 22, t('inputs: no line separates', '输入：没有直线能分开'))

    fig.arrow(x0 + s + 30, y0 + s / 2 + 12, x0 + s + 186, y0 + s / 2 + 12, width=1.4)
    fig.text(x0 + s + 108, y0 + s / 2 - 24, '$h_1 = ReLU(x_1 + x_2)', size=12.5)
    fig.text(x0 + s + 108, y0 + s / 2 - 4, '$h_2 = ReLU(x_1 + x_2 - 1)', size=12.5)

    x1 = x0 + s + 230
    axes(x1, y0, '$h_1', '$h_2')
    hidden = [(max(a + b, 0), max(a + b - 1, 0)) for a, b in inputs]
    for p, lab in dict(zip(hidden, labels)).items():  # (0, 1) and (1, 0) land on one point
        point(x1, y0, p, lab, 2, 1, f'({p[0]}, {p[1]})')
    # the output o = h1 - 2 h2 equals 1/2 on the line h2 = (h1 - 1/2) / 2
    fig.line(*pos(x1, y0, (0.7, 0.1), 2, 1), *pos(x1, y0, (2.3, 0.9), 2, 1),
             color='accent', width=1.6)
    fig.text(x1 + s / 2, 22, t('hidden units: a line separates', '隐藏单元：一条直线就能分开'))
    fig.text(x1 + s + 12, y0 + s / 2 - 10, '$o = h_1 - 2h_2', size=12.5, anchor='start')
    fig.text(x1 + s + 12, y0 + s / 2 + 10, t('is 1/2 on the line', '在蓝线上等于 1/2'),
             size=11.5, anchor='start', color='muted')
    return fig


@figure('mlp-one-hidden')
def mlp_one_hidden(t):
    """An MLP with 3 inputs, one hidden layer of 4 units and 2 outputs."""
    fig = Fig(470, 250)
    xs = [70, 235, 400]
    _layers(fig, xs, [3, 4, 2], ['x', 'h', 'o'], top=44)
    for x, label in zip(xs, [t('input layer', '输入层'), t('hidden layer', '隐藏层'),
                             t('output layer', '输出层')]):
        fig.text(x, 18, label)
    fig.text((xs[0] + xs[1]) / 2, 222, '$W^{(1)}, b^{(1)}', color='muted')
    fig.text((xs[1] + xs[2]) / 2, 222, '$W^{(2)}, b^{(2)}', color='muted')
    return fig


@figure('dropout-net')
def dropout_net(t):
    """The MLP before dropout and in one training step with dropout (h1 and h3 switched off)."""
    fig = Fig(700, 258)
    xs_left = [50, 160, 270]
    xs_right = [420, 530, 640]
    _layers(fig, xs_left, [3, 4, 2], ['x', 'h', 'o'], top=54)
    _layers(fig, xs_right, [3, 4, 2], ['x', 'h', 'o'], top=54, dropped=[(1, 0), (1, 2)])
    fig.text(160, 20, t('without dropout', '不使用暂退法'), size=14, bold=True)
    fig.text(530, 20, t('one training step with dropout', '使用暂退法的某一步训练'), size=14,
             bold=True)
    fig.line(345, 36, 345, 232, color='muted', width=1, dashed=True)
    fig.text(530, 240, t('dashed: units dropped in this step (output 0, no gradient)',
                         '虚线：本步被丢弃的单元（输出为 0，也没有梯度）'), size=12, color='muted')
    return fig


@figure('backprop-graph')
def backprop_graph(t):
    """The computational graph of the one-hidden-layer MLP with weight decay.

    Boxes are variables, circles are operations; the backward pass visits it right to left."""
    fig = Fig(740, 346)
    y = 150            # the main row
    r = 17
    bw, bh = 42, 30    # variable boxes

    def var(x, yy, label, fill='fill1'):
        fig.box(x - bw / 2, yy - bh / 2, bw, bh, label, fill=fill, size=14)

    def op(x, yy, label):
        fig.node(x, yy, label, r=r, fill='fill2', size=14)

    xs = dict(x=40, mul1=110, z=175, phi=240, h=305, mul2=370, o=435, l=500, L=565, plus=635,
              J=700)
    var(xs['x'], y, '$x', fill='fill0')
    op(xs['mul1'], y, '×')
    var(xs['z'], y, '$z')
    op(xs['phi'], y, '$φ')
    var(xs['h'], y, '$h')
    op(xs['mul2'], y, '×')
    var(xs['o'], y, '$o')
    op(xs['l'], y, '$l')
    var(xs['L'], y, '$L')
    op(xs['plus'], y, '+')
    var(xs['J'], y, '$J', fill='hl')
    chain = ['x', 'mul1', 'z', 'phi', 'h', 'mul2', 'o', 'l', 'L', 'plus', 'J']
    for a, b in zip(chain, chain[1:]):
        ga = bw / 2 + 1 if a in ('x', 'z', 'h', 'o', 'L', 'J') else r + 1
        gb = bw / 2 + 1 if b in ('x', 'z', 'h', 'o', 'L', 'J') else r + 1
        fig.arrow(xs[a] + ga, y, xs[b] - gb, y)
    # the label enters the loss from above
    var(xs['l'], 70, '$y', fill='fill0')
    fig.arrow(xs['l'], 70 + bh / 2 + 1, xs['l'], y - r - 1)
    # the parameters sit below the products and also feed the regularizer
    yw, yreg = 225, 292
    var(xs['mul1'], yw, '$W^{(1)}', fill='fill3')
    var(xs['mul2'], yw, '$W^{(2)}', fill='fill3')
    fig.arrow(xs['mul1'], yw - bh / 2 - 1, xs['mul1'], y + r + 1)
    fig.arrow(xs['mul2'], yw - bh / 2 - 1, xs['mul2'], y + r + 1)
    reg_x, reg_w, reg_h = 370, 190, 36
    fig.box(reg_x - reg_w / 2, yreg - reg_h / 2, reg_w, reg_h,
            '$λ/2 (‖W^{(1)}‖^2 + ‖W^{(2)}‖^2)', fill='fill2', size=13, rx=18)
    fig.path(f'M{xs["mul1"]},{yw + bh / 2 + 1} L{xs["mul1"]},{yreg} L{reg_x - reg_w / 2 - 1},{yreg}',
             arrow=True)
    fig.arrow(xs['mul2'], yw + bh / 2 + 1, xs['mul2'], yreg - reg_h / 2 - 1)
    s_x = 545
    var(s_x, yreg, '$s')
    fig.arrow(reg_x + reg_w / 2 + 1, yreg, s_x - bw / 2 - 1, yreg)
    fig.path(f'M{s_x + bw / 2 + 1},{yreg} L{xs["plus"]},{yreg} L{xs["plus"]},{y + r + 1}',
             arrow=True)
    # forward and backward directions
    fig.arrow(150, 26, 420, 26, color='accent', width=1.6)
    fig.text(285, 12, t('forward pass: compute and store', '前向传播：计算并保存'), size=12,
             color='accent')
    fig.arrow(700, 48, 560, 48, color='warn', width=1.6, dashed=True)
    fig.text(630, 34, t('backward pass', '反向传播'), size=12, color='warn')
    # legend, in one row along the bottom
    x = 14
    for kind, label in [('fill0', t('input, label', '输入、标签')), ('fill3', t('parameter', '参数')),
                        ('fill1', t('variable', '变量')), (None, t('operation', '运算'))]:
        if kind is None:
            fig.node(x + 12, 330, None, r=9, fill='fill2')
        else:
            fig.box(x, 322, 24, 16, None, fill=kind)
        fig.text(x + 32, 330, label, anchor='start', size=12)
        x += 44 + max(60, 7 * len(label))
    return fig


@figure('k-fold')
def k_fold(t):
    """K-fold cross-validation with K = 5: each fold is held out once."""
    fig = Fig(500, 236)
    w, h, x0, y0 = 62, 28, 92, 34
    for k in range(5):
        y = y0 + k * (h + 8)
        fig.text(x0 - 12, y + h / 2, t(f'round {k + 1}', f'第 {k + 1} 轮'), anchor='end')
        for j in range(5):
            held = j == k
            fig.box(x0 + j * w, y, w, h, t('val.', '验证') if held else t('train', '训练'),
                    fill='hl' if held else 'fill1', size=12)
        fig.arrow(x0 + 5 * w + 10, y + h / 2, x0 + 5 * w + 50, y + h / 2)
        fig.text(x0 + 5 * w + 60, y + h / 2, f'$L_{k + 1}', anchor='start')
    fig.text(x0 + 2.5 * w, 18, t('the training data, split into 5 folds',
                                 '训练数据，分成 5 折'))
    fig.text(x0 + 5 * w + 90, y0 + 5 * (h + 8) + 12,
             t('estimate of the error: (L₁ + … + L₅) / 5', '误差的估计：(L₁ + … + L₅) / 5'),
             size=13, anchor='end')
    return fig
