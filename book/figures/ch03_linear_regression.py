"""Figures of chapter 3, linear neural networks for regression."""
import math

from . import figure, Fig


@figure('linreg-net')
def linreg_net(t):
    """Linear regression as a network: d inputs, one output node, a weight on every edge."""
    fig = Fig(500, 230)
    out = (300, 52)
    xs = [170, 250, 350, 430]
    y_in = 180
    labels = ['$x_1', '$x_2', None, '$x_d']
    weights = ['$w_1', '$w_2', None, '$w_d']
    fig.text(20, out[1], t('output layer', '输出层'), anchor='start', color='muted')
    fig.text(20, y_in, t('input layer', '输入层'), anchor='start', color='muted')
    for x, label, w in zip(xs, labels, weights):
        if label is None:
            fig.text(x, y_in, '⋯', size=18)
            continue
        fig.node(x, y_in, label, r=18, fill='fill1')
        fig.connect((x, y_in), out, r=18)
        # weight label part way along the edge, pushed off it at right angles:
        # to the left of the first edge, to the right of all others
        px, py = x + 0.6 * (out[0] - x), y_in + 0.6 * (out[1] - y_in)
        ex, ey = out[0] - x, out[1] - y_in
        norm = (ex ** 2 + ey ** 2) ** 0.5
        nx, ny = ey / norm, -ex / norm  # a unit normal
        if (nx > 0) == (x == xs[0]):
            nx, ny = -nx, -ny
        fig.text(px + 14 * nx, py + 14 * ny, w, size=14, color='accent')
    fig.node(*out, '$o_1', r=20, fill='fill3')
    fig.text(out[0] + 32, out[1], '= w_1x_1 + ⋯ + w_dx_d + b', anchor='start', size=14,
             math=True)
    return fig


def _axes(fig, x0, y0, x1, y1, xlabel, ylabel):
    fig.arrow(x0, y0, x1, y0, color='muted')
    fig.arrow(x0, y0, x0, y1, color='muted')
    fig.text((x0 + x1) / 2, y0 + 18, xlabel, color='muted')
    fig.text(x0 - 14, (y0 + y1) / 2, ylabel, color='muted', anchor='end')


def _curve(points):
    return 'M' + ' L'.join(f'{x:.1f},{y:.1f}' for x, y in points)


@figure('fit-complexity')
def fit_complexity(t):
    """Training and generalization error against model complexity (schematic)."""
    fig = Fig(560, 300)
    x0, y0, x1, y1 = 90, 250, 520, 30
    _axes(fig, x0, y0, x1, y1, t('model complexity', '模型复杂度'), t('error', '误差'))

    def train(u):  # u in [0, 1]: falls steadily towards zero
        return 0.08 + 0.78 * math.exp(-3.2 * u)

    def gen(u):  # the training error plus a gap that grows with complexity
        return train(u) + 0.06 + 0.75 * u ** 2.4

    us = [i / 80 for i in range(81)]
    sx = lambda u: x0 + 20 + u * (x1 - x0 - 60)
    sy = lambda v: y0 - v * (y0 - y1 - 20)
    best = min(us, key=gen)
    # shaded regions on either side of the best complexity
    fig.rect(x0 + 2, y1 + 4, sx(best) - x0 - 2, y0 - y1 - 6, fill='fill1', stroke=None,
             opacity=0.45, rx=0)
    fig.rect(sx(best), y1 + 4, x1 - 20 - sx(best), y0 - y1 - 6, fill='fill4', stroke=None,
             opacity=0.45, rx=0)
    fig.text((x0 + sx(best)) / 2, y1 + 20, t('underfitting', '欠拟合'), bold=True)
    fig.text((sx(best) + x1 - 20) / 2, y1 + 20, t('overfitting', '过拟合'), bold=True)
    fig.path(_curve([(sx(u), sy(train(u))) for u in us]), color='accent', width=2.2)
    fig.path(_curve([(sx(u), sy(gen(u))) for u in us if gen(u) < 1.05]), color='warn', width=2.2)
    fig.line(sx(best), y0, sx(best), y1 + 4, color='muted', dashed=True)
    fig.circle(sx(best), sy(gen(best)), 4, fill='warn', stroke='warn')
    # a small legend in the free space above the curves
    lx, ly = sx(0.5), y1 + 50
    for k, (color, label) in enumerate([('warn', t('generalization error', '泛化误差')),
                                        ('accent', t('training error', '训练误差'))]):
        fig.line(lx, ly + 20 * k, lx + 26, ly + 20 * k, color=color, width=2.2)
        fig.text(lx + 34, ly + 20 * k, label, anchor='start', size=12)
    # the gap between the two curves at a large complexity
    ug = 0.86
    fig.line(sx(ug), sy(train(ug)) - 3, sx(ug), sy(gen(ug)) + 3, color='ink', width=1)
    fig.text(sx(ug) + 8, (sy(train(ug)) + sy(gen(ug))) / 2, t('gap', '差距'), anchor='start',
             size=12)
    return fig


@figure('oo-design')
def oo_design(t):
    """The three classes of a training run and what passes between them."""
    fig = Fig(660, 240)
    bw, bh = 160, 116
    dx, tx, mx, y = 15, 250, 485, 64

    def block(x, title, lines, fill):
        fig.rect(x, y, bw, bh, fill=fill)
        fig.text(x + bw / 2, y + 22, title, bold=True, size=14)
        for k, line in enumerate(lines):
            fig.text(x + bw / 2, y + 52 + k * 21, line, size=12, color='muted')

    block(dx, 'DataModule', [t('training data', '训练数据'),
                             t('validation data', '验证数据')], 'fill2')
    block(tx, 'Trainer', [t('epochs, device', '迭代周期、设备'),
                          t('backward, update', '反向传播、更新'),
                          t('zeroes gradients', '梯度清零')], 'fill0')
    block(mx, 'Module', [t('parameters, forward', '参数、前向传播'), t('loss', '损失'),
                         t('optimizer', '优化器')], 'fill3')
    # DataModule -> Trainer: minibatches
    fig.arrow(dx + bw + 2, y + bh / 2, tx - 2, y + bh / 2)
    fig.text((dx + bw + tx) / 2, y + bh / 2 - 14, t('minibatches', '小批量'), size=12)
    # Trainer <-> Module
    fig.arrow(tx + bw + 2, y + 36, mx - 2, y + 36)
    fig.text((tx + bw + mx) / 2, y + 22, t('a batch', '一个批量'), size=12)
    fig.arrow(mx - 2, y + bh - 30, tx + bw + 2, y + bh - 30)
    fig.text((tx + bw + mx) / 2, y + bh - 16, t('its loss', '它的损失'), size=12)
    fig.text(tx + bw / 2, 26, 'trainer.fit(model, data)', size=14)
    fig.text(tx + bw / 2, y + bh + 32,
             t('the module draws its losses on its progress board',
               '模型把损失画在自己的进度面板上'), size=12, color='muted')
    return fig


@figure('wd-subspace')
def wd_subspace(t):
    """Why weight decay helps with 20 examples and 200 weights (schematic: the two axes stand
    for the 20 directions the training inputs span and the 180 they do not reach)."""
    fig = Fig(600, 320)
    ox, oy = 150, 250
    fig.arrow(ox - 40, oy, 560, oy, color='muted')
    fig.arrow(ox, oy + 30, ox, 30, color='muted')
    fig.text(ox + 10, oy + 22, t('the 20 directions the training inputs span',
                                 '训练输入张成的 20 个方向'), anchor='start', color='muted',
             size=12)
    fig.text(ox - 10, 40, t('the 180 other directions', '其余 180 个方向'), anchor='end',
             color='muted', size=12)
    # weights that fit the training set exactly: a set parallel to the untouched directions
    fx = 420
    fig.line(fx, oy, fx, 40, color='accent', dashed=True, width=1.6)
    fig.text(fx + 8, 50, t('weights that fit the', '完全拟合训练集'), anchor='start',
             color='accent', size=12)
    fig.text(fx + 8, 66, t('training set exactly', '的权重'), anchor='start', color='accent',
             size=12)
    w0 = (ox + 40, 120)
    plain = (fx, 120)
    decayed = (fx - 6, oy - 18)
    fig.circle(*w0, 5, fill='ink', stroke='ink')
    fig.text(w0[0] - 8, w0[1] - 16, t('initial w', '初始 w'), anchor='start', size=13)
    # plain SGD moves only along the span of the training inputs
    fig.arrow(w0[0] + 6, w0[1], plain[0] - 6, plain[1], color='warn', width=1.8)
    fig.circle(*plain, 5, fill='warn', stroke='warn')
    fig.text((w0[0] + plain[0]) / 2, w0[1] - 14, t('no decay', '无衰减'), color='warn', size=13)
    fig.text(plain[0] + 10, plain[1] + 16, t('keeps its random part', '保留随机初值的分量'),
             anchor='start', size=12, color='warn')
    # with decay the untouched component shrinks as well
    curve = [(w0[0] + (decayed[0] - w0[0]) * s ** 0.6,
              w0[1] + (decayed[1] - w0[1]) * (1 - (1 - s) ** 2)) for s in
             [i / 30 for i in range(31)]]
    fig.path('M' + ' L'.join(f'{x:.1f},{y:.1f}' for x, y in curve[:-1]) +
             f' L{decayed[0] - 6:.1f},{decayed[1]:.1f}', color='hl', width=2.2, arrow=True)
    fig.circle(*decayed, 5, fill='hl', stroke='ink')
    fig.text(w0[0] + 40, oy - 20, t('with weight decay', '有权重衰减'), anchor='start', size=13)
    fig.text(decayed[0] + 16, decayed[1] - 2, t('random part shrunk', '随机分量被压缩'),
             anchor='start', size=12)
    return fig
