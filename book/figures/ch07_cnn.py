"""Figures of chapter 7, convolutional neural networks."""
from . import figure, Fig

# The running example of section 7.2 (also printed there by code): a 3 x 4 input and a 2 x 2 kernel.
X_72 = [[1, 3, 0, 2], [2, 0, 1, 4], [0, 1, 3, 1]]
K_72 = [[2, 0], [1, -1]]


def _corr(X, K):
    kh, kw = len(K), len(K[0])
    return [[sum(K[a][b] * X[i + a][j + b] for a in range(kh) for b in range(kw))
             for j in range(len(X[0]) - kw + 1)] for i in range(len(X) - kh + 1)]


def _num(v):
    return f'({v})' if v < 0 else str(v)


@figure('conv-correlation')
def conv_correlation(t):
    """Two-dimensional cross-correlation: the shaded window times the kernel gives the shaded output."""
    fig = Fig(470, 190)
    X, K = X_72, K_72
    Y = _corr(X, K)
    cell, y0 = 36, 44
    win = (1, 2)  # top-left corner of the highlighted window
    x_in = 20
    fig.text(x_in + 2 * cell, 20, t('input', '输入'))
    fig.matrix(x_in, y0, X, cell=cell, size=14,
               highlight=[(win[0] + a, win[1] + b) for a in range(2) for b in range(2)])
    x_op = x_in + 4 * cell + 24
    fig.text(x_op, y0 + 1.5 * cell, '⋆', size=28)
    x_k = x_op + 26
    fig.text(x_k + cell, 20, t('kernel', '卷积核'))
    fig.matrix(x_k, y0 + cell / 2, K, cell=cell, size=14, fill='fill1')
    x_eq = x_k + 2 * cell + 24
    fig.text(x_eq, y0 + 1.5 * cell, '=', size=22)
    x_out = x_eq + 26
    fig.text(x_out + 1.5 * cell, 20, t('output', '输出'))
    fig.matrix(x_out, y0 + cell / 2, Y, cell=cell, size=14, fill='fill3', highlight=[win])
    window = [X[win[0] + a][win[1] + b] for a in range(2) for b in range(2)]
    kernel = [K[a][b] for a in range(2) for b in range(2)]
    terms = ' + '.join(f'{x}×{_num(k)}' for x, k in zip(window, kernel))
    fig.text(fig.width / 2, y0 + 3 * cell + 30, f'{terms} = {Y[win[0]][win[1]]}', size=14,
             color='muted')
    return fig


@figure('conv-pad-stride')
def conv_pad_stride(t):
    """A 5 x 5 input padded by one zero per side, a 3 x 3 window moved with stride 2: 3 x 3 outputs."""
    n, p, k, s = 5, 1, 3, 2
    m = n + 2 * p
    out = (n + 2 * p - k) // s + 1
    cell = 30
    fig = Fig(520, 320)
    x0, y0 = 30, 62
    fig.text(x0 + m * cell / 2, 16, t('input (blue) padded with zeros', '输入（蓝色）四周填充一圈零'))
    for i in range(m):
        for j in range(m):
            pad = i < p or j < p or i >= p + n or j >= p + n
            fig.rect(x0 + j * cell, y0 + i * cell, cell, cell, fill='fill0' if pad else 'fill1',
                     rx=0, width=0.8)
            if pad:
                fig.text(x0 + (j + 0.5) * cell, y0 + (i + 0.5) * cell, '0', size=11,
                         color='muted')
    # three window positions (top-left corners in padded coordinates) and their outputs
    windows = [((0, 0), 'ink', False), ((0, s), 'accent', True), ((s, 0), 'warn', True)]
    ocell = 40
    xo = x0 + m * cell + 90
    yo = y0 + (m * cell - out * ocell) / 2
    fig.text(xo + out * ocell / 2, yo - 20, t('output', '输出'))
    fig.matrix(xo, yo, [[''] * out for _ in range(out)], cell=ocell, fill='fill3')
    for (r, c), color, dashed in windows:
        inset = 3 if dashed else 0
        fig.rect(x0 + c * cell + inset, y0 + r * cell + inset, k * cell - 2 * inset,
                 k * cell - 2 * inset, fill=None, stroke=color, rx=2, width=2.6, dashed=dashed)
        i, j = r // s, c // s
        fig.rect(xo + j * ocell + 3, yo + i * ocell + 3, ocell - 6, ocell - 6, fill=None,
                 stroke=color, rx=2, width=2.6, dashed=dashed)
    # the stride, marked above the grid between the first two window positions
    ys = y0 - 10
    fig.path(f'M{x0 + 0.5 * cell:.1f},{ys + 4:.1f} L{x0 + 0.5 * cell:.1f},{ys:.1f} '
             f'L{x0 + (s + 0.5) * cell:.1f},{ys:.1f} L{x0 + (s + 0.5) * cell:.1f},{ys + 4:.1f}',
             color='muted', width=1)
    fig.text(x0 + (s / 2 + 0.5) * cell, ys - 11, t('stride 2', '步幅 2'), size=12, color='muted')
    fig.arrow(x0 + m * cell + 14, y0 + m * cell / 2, xo - 14, y0 + m * cell / 2)
    fig.text(fig.width / 2, y0 + m * cell + 30, '⌊(5 − 3 + 2 + 2) / 2⌋ = 3', size=13,
             color='muted')
    return fig


def _stack(fig, x, y, size, depth, fill, dx=7, dy=-7, width=1.0, labels=None):
    """``depth`` squares of side ``size`` drawn back to front, the front one at (x, y)."""
    for d in reversed(range(depth)):
        fig.rect(x + d * dx, y + d * dy, size, size, fill=fill, rx=1, width=width)
    return x + (depth - 1) * dx + size, y + (depth - 1) * dy


# Section 7.4's example: two input channels and a kernel with two slices.
X_74 = [[[3, 0, 1], [1, 2, 0], [2, 1, 1]], [[0, 1, 2], [2, 1, 3], [1, 0, 2]]]
K_74 = [[[1, -1], [0, 2]], [[2, 0], [1, 1]]]


@figure('conv-multi-in')
def conv_multi_in(t):
    """Two input channels, each cross-correlated with its own kernel slice; the results add up."""
    cell = 32
    fig = Fig(600, 270)
    rows = [48, 160]
    Ys = [_corr(X_74[c], K_74[c]) for c in range(2)]
    total = [[Ys[0][i][j] + Ys[1][i][j] for j in range(2)] for i in range(2)]
    win = [(0, 0), (0, 1), (1, 0), (1, 1)]
    x_in, x_k, x_y = 70, 210, 330
    fig.text(x_in + 1.5 * cell, 20, t('input', '输入'))
    fig.text(x_k + cell, 20, t('kernel', '卷积核'))
    fig.text(x_y + cell, 20, t('per channel', '各通道结果'))
    for c, y in enumerate(rows):
        fig.text(20, y + 1.5 * cell, t(f'channel {c}', f'通道 {c}'), size=12, color='muted',
                 anchor='start')
        fig.matrix(x_in, y, X_74[c], cell=cell, size=13, highlight=win)
        fig.text(x_in + 3 * cell + 19, y + 1.5 * cell, '⋆', size=26)
        fig.matrix(x_k, y + cell / 2, K_74[c], cell=cell, size=13, fill='fill1')
        fig.text(x_k + 2 * cell + 30, y + 1.5 * cell, '=', size=20)
        fig.matrix(x_y, y + cell / 2, Ys[c], cell=cell, size=13, fill='fill5', highlight=[(0, 0)])
    # the sum of the two channels
    x_sum = x_y + 2 * cell + 60
    y_sum = (rows[0] + rows[1]) / 2 + cell / 2
    for y in rows:
        fig.arrow(x_y + 2 * cell + 6, y + 1.5 * cell, x_sum - 8, y_sum + cell, gap=0)
    fig.text(x_sum - 22, y_sum - 14, '+', size=20)
    fig.text(x_sum + cell, y_sum - 20, t('output', '输出'))
    fig.matrix(x_sum, y_sum, total, cell=cell, size=13, fill='fill3', highlight=[(0, 0)])
    fig.text(x_sum + cell, y_sum + 2 * cell + 20, f'{Ys[0][0][0]} + {Ys[1][0][0]} = {total[0][0]}',
             size=13, color='muted')
    return fig


@figure('conv-multi-out')
def conv_multi_out(t):
    """c_o kernels, each a c_i-deep stack of k x k slices, give c_o output channels."""
    fig = Fig(600, 270)
    ci = 3
    fills = ['fill2', 'fill4']
    # input: a stack of 3 feature maps
    xi, yi, size = 30, 70, 100
    right, top = _stack(fig, xi, yi, size, ci, 'fill1', dx=10, dy=-10)
    fig.text(xi + (right - xi) / 2, yi + size + 22, t('input: 3 channels', '输入：3 个通道'))
    fig.text(xi + (right - xi) / 2, yi + size + 40, '3 × h × w', size=12, color='muted')
    # two kernels, each a stack of 3 slices, and the output channel each one produces
    xk, ks = 230, 34
    centres = [70, 170]
    xo, osz = 470, 64
    for o, yc in enumerate(centres):
        kr, _ = _stack(fig, xk, yc - ks / 2 + 7, ks, ci, fills[o], dx=7, dy=-7)
        fig.arrow(right + 8, yi + size / 2 - 5 + 10 * o, xk - 8, yc)
        fig.text(kr + 12, yc - 9, t(f'kernel {o}', f'核 {o}'), size=12, anchor='start')
        fig.text(kr + 12, yc + 9, '3 × k_h × k_w', size=11, color='muted', anchor='start')
        fig.arrow(kr + 100, yc, xo - 8, yc)
        fig.rect(xo, yc - osz / 2, osz, osz, fill=fills[o], rx=1)
        fig.text(xo + osz + 10, yc, t(f'channel {o}', f'通道 {o}'), size=12, anchor='start')
    fig.text(xk + 60, 240, t('kernel tensor 2 × 3 × k_h × k_w', '核张量 2 × 3 × k_h × k_w'),
             size=12, color='muted')
    fig.text(xo + osz / 2 + 20, 240, t('output: 2 channels', '输出：2 个通道'))
    return fig


@figure('conv-1x1')
def conv_1x1(t):
    """A 1 x 1 convolution: at every pixel, the same c_o x c_i matrix maps the c_i input values."""
    ci, co, n, cell, gap = 3, 2, 4, 20, 8
    fig = Fig(640, 210)
    pix = (1, 2)
    x0, y0 = 20, 60
    w_map = n * cell
    w_in = ci * (w_map + gap) - gap
    fig.text(x0 + w_in / 2, 28, t('input: 3 channels', '输入：3 个通道'))
    for c in range(ci):
        x = x0 + c * (w_map + gap)
        fig.matrix(x, y0, [[''] * n for _ in range(n)], cell=cell, fill='fill1', highlight=[pix])
        fig.text(x + w_map / 2, y0 + w_map + 14, f'c = {c}', size=11, color='muted')
    wc = 30
    xm = x0 + w_in + 50
    ym = y0 + (w_map - co * wc) / 2
    yc = y0 + (pix[0] + 0.5) * cell
    fig.text(xm + ci * wc / 2, 28, t('weights', '权重'))
    fig.matrix(xm, ym, [['$w_{00}', '$w_{01}', '$w_{02}'], ['$w_{10}', '$w_{11}', '$w_{12}']],
               cell=wc, fill='fill2', size=11)
    fig.text(xm + ci * wc / 2, ym + co * wc + 16, '2 × 3', size=12, color='muted')
    fig.arrow(x0 + w_in + 8, y0 + w_map / 2, xm - 8, y0 + w_map / 2)
    xo = xm + ci * wc + 50
    w_out = co * (w_map + gap) - gap
    fig.text(xo + w_out / 2, 28, t('output: 2 channels', '输出：2 个通道'))
    for o in range(co):
        x = xo + o * (w_map + gap)
        fig.matrix(x, y0, [[''] * n for _ in range(n)], cell=cell, fill='fill3', highlight=[pix])
        fig.text(x + w_map / 2, y0 + w_map + 14, f'o = {o}', size=11, color='muted')
    fig.arrow(xm + ci * wc + 8, y0 + w_map / 2, xo - 8, y0 + w_map / 2)
    fig.text(fig.width / 2, y0 + w_map + 50,
             t('the same 2 × 3 matrix maps the 3 values of every pixel to 2 values',
               '每个像素的 3 个值都由同一个 2 × 3 矩阵映射为 2 个值'), size=13, color='muted')
    return fig


# Section 7.5's example.
X_75 = [[1, 5, 2, 0], [3, 2, 8, 1], [0, 4, 2, 6], [7, 1, 3, 2]]


@figure('pooling')
def pooling(t):
    """2 x 2 max and average pooling with stride 2: each coloured window gives one output."""
    cell = 36
    fig = Fig(590, 230)
    fills = {(0, 0): 'fill1', (0, 1): 'fill2', (1, 0): 'fill3', (1, 1): 'fill4'}
    x0, y0 = 30, 50
    fig.text(x0 + 2 * cell, 22, t('input', '输入'))
    for i in range(4):
        for j in range(4):
            fig.rect(x0 + j * cell, y0 + i * cell, cell, cell, fill=fills[(i // 2, j // 2)], rx=0,
                     width=1)
            fig.text(x0 + (j + 0.5) * cell, y0 + (i + 0.5) * cell, str(X_75[i][j]), size=14)
    for r in (0, 2):  # heavier outlines around the four windows
        for c in (0, 2):
            fig.rect(x0 + c * cell, y0 + r * cell, 2 * cell, 2 * cell, fill=None, rx=0, width=2.2)
    windows = [[[X_75[2 * i + a][2 * j + b] for a in range(2) for b in range(2)] for j in range(2)]
               for i in range(2)]
    mx = [[max(w) for w in row] for row in windows]
    av = [[sum(w) / 4 for w in row] for row in windows]
    ocell = 44
    for k, (name, vals, x) in enumerate([(t('max pooling', '最大汇聚'), mx, 300),
                                          (t('average pooling', '平均汇聚'), av, 460)]):
        yo = y0 + cell - ocell / 2 + cell / 2
        fig.text(x + ocell, 22, name)
        for i in range(2):
            for j in range(2):
                fig.rect(x + j * ocell, yo + i * ocell, ocell, ocell, fill=fills[(i, j)], rx=0,
                         width=1.2)
                fig.text(x + (j + 0.5) * ocell, yo + (i + 0.5) * ocell, f'{vals[i][j]:g}', size=14)
    fig.arrow(x0 + 4 * cell + 12, y0 + 2 * cell, 300 - 12, y0 + 2 * cell)
    fig.text(fig.width / 2, y0 + 4 * cell + 28,
             t('window 2 × 2, stride 2: max(1, 5, 3, 2) = 5, mean = 2.75',
               '窗口 2 × 2，步幅 2：max(1, 5, 3, 2) = 5，平均值 = 2.75'), size=13, color='muted')
    return fig


@figure('lenet')
def lenet(t):
    """LeNet-5 as trained in section 7.6: tensor shapes and the layers between them."""
    fig = Fig(790, 330)
    # row 1: the convolutional part, feature maps drawn to scale (at most 6 maps of a stack shown)
    scale = 3.0
    y_base = 150  # bottom edge of the front squares
    tensors = [  # (x, channels, side, label)
        (20, 1, 28, '1 × 28 × 28'),
        (235, 6, 28, '6 × 28 × 28'),
        (440, 6, 14, '6 × 14 × 14'),
        (590, 16, 10, '16 × 10 × 10'),
        (728, 16, 5, '16 × 5 × 5'),
    ]
    fills = ['fill0', 'fill1', 'fill1', 'fill3', 'fill3']
    ends = []
    for (x, ch, side, label), fill in zip(tensors, fills):
        size = side * scale
        depth = min(ch, 6)
        step = 4 if ch > 1 else 0
        right, top = _stack(fig, x, y_base - size, size, depth, fill, dx=step, dy=-step,
                            width=0.9)
        ends.append((x, right, top))
        fig.text(x + (right - x) / 2, y_base + 16, label, size=12, color='muted')
    ops = [t('conv 5×5, pad 2', '卷积 5×5，填充 2'), t('avg pool 2×2', '平均汇聚 2×2'),
           t('conv 5×5', '卷积 5×5'), t('avg pool 2×2', '平均汇聚 2×2')]
    subs = ['+ sigmoid', t('stride 2', '步幅 2'), '+ sigmoid', t('stride 2', '步幅 2')]
    for k, (op, sub) in enumerate(zip(ops, subs)):
        x1 = ends[k][1] + 6
        x2 = ends[k + 1][0] - 6
        y = y_base - 30
        fig.arrow(x1, y, x2, y)
        fig.text((x1 + x2) / 2, y - 36, op, size=11)
        fig.text((x1 + x2) / 2, y - 21, sub, size=11, color='muted')
    fig.text(20, 18, t('convolutional part', '卷积部分'), size=13, anchor='start', bold=True)
    # row 2: the dense part
    y2 = 250
    fig.text(20, y2 - 45, t('fully connected part', '全连接部分'), size=13, anchor='start',
             bold=True)
    boxes = [(t('flatten', '展平'), '400'), (t('FC + sigmoid', '全连接 + sigmoid'), '120'),
             (t('FC + sigmoid', '全连接 + sigmoid'), '84'), (t('FC (output)', '全连接（输出）'), '10')]
    bw, bh, gap = 132, 48, 54
    x = 60
    prev = None
    for k, (name, size) in enumerate(boxes):
        fill = 'fill0' if k == 0 else ('fill2' if k < 3 else 'fill4')
        fig.box(x, y2 - bh / 2, bw, bh, name, fill=fill, size=13, sub=size)
        if prev is not None:
            fig.arrow(prev + 4, y2, x - 4, y2)
        prev = x + bw
        x += bw + gap
    # link from the last feature map to the flatten box
    last = ends[-1]
    fig.path(f'M{(last[0] + last[1]) / 2:.1f},{y_base + 28:.1f} L{(last[0] + last[1]) / 2:.1f},'
             f'{y2 - 62:.1f} L{60 + bw / 2:.1f},{y2 - 62:.1f} L{60 + bw / 2:.1f},{y2 - bh / 2 - 4:.1f}',
             arrow=True, color='muted')
    fig.text(fig.width - 34, y2 + 50, t('output: 10 logits, one per class',
                                         '输出：10 个 logit，每类一个'),
             size=12, color='muted', anchor='end')
    return fig
