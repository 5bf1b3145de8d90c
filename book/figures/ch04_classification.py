"""Figures of chapter 4, linear neural networks for classification."""
import random

from . import figure, Fig


@figure('softmax-regression-net')
def softmax_regression_net(t):
    """Softmax regression as a one-layer network: every input feeds every logit, then softmax."""
    fig = Fig(540, 250)
    r = 17
    x_in, x_out, x_soft, x_prob = 70, 230, 330, 460
    ys_in = [80, 125, 170]
    ys_out = [57.5, 102.5, 147.5, 192.5]
    for y_i in ys_in:
        for y_o in ys_out:
            fig.connect((x_in, y_i), (x_out, y_o), r=r, color='muted', width=1)
    for i, y in enumerate(ys_in, start=1):
        fig.node(x_in, y, f'$x_{i}', r=r, fill='fill0')
    for j, y in enumerate(ys_out, start=1):
        fig.node(x_out, y, f'$o_{j}', r=r, fill='fill1')
        fig.arrow(x_out + r + 1, y, x_soft - 36, y)
        fig.arrow(x_soft + 36, y, x_prob - r - 1, y)
        fig.node(x_prob, y, f'$ŷ_{j}', r=r, fill='fill3')
    fig.box(x_soft - 35, 35, 70, 180, 'softmax', fill='fill2')
    fig.text(x_in, 18, t('inputs (features)', '输入（特征）'))
    fig.text(x_out, 18, t('logits', '未规范化的预测'))
    fig.text(x_prob, 18, t('probabilities', '概率'))
    fig.brace_label(x_in - r, x_out + r, 226, t('fully connected layer:  o = xW + b',
                                                  '全连接层：o = xW + b'))
    return fig


def _clip(p, q, box):
    """The part of the segment from p to q that lies inside box (x0, y0, x1, y1)."""
    (px, py), (qx, qy) = p, q
    dx, dy = qx - px, qy - py
    lo, hi = 0.0, 1.0
    for d, start, low, high in ((dx, px, box[0], box[2]), (dy, py, box[1], box[3])):
        if abs(d) < 1e-12:
            continue
        a, b = (low - start) / d, (high - start) / d
        lo, hi = max(lo, min(a, b)), min(hi, max(a, b))
    return (px + lo * dx, py + lo * dy), (px + hi * dx, py + hi * dy)


def _mark(fig, x, y, cls, size=6.5, muted=False):
    """A data point: class 0 is a circle, class 1 a square (shape and colour both differ)."""
    stroke = 'muted' if muted else 'ink'
    if cls == 0:
        fig.circle(x, y, size, fill='fill1', stroke=stroke, width=1.1)
    else:
        fig.rect(x - size, y - size, 2 * size, 2 * size, fill='hl', stroke=stroke, rx=1, width=1.1)


@figure('distribution-shift')
def distribution_shift(t):
    """Covariate, label and concept shift: what changes between training and deployment."""
    rng = random.Random(4)
    pw, ph, gap = 200, 108, 22          # one small plot
    left, top = 96, 52                  # room for row labels and panel titles
    fig = Fig(left + 3 * pw + 2 * gap + 12, top + 2 * ph + 16 + 92)

    def cloud(x_lo, x_hi, n, avoid=(100,)):
        """n points spread over x_lo..x_hi of a small plot, at least 17 px apart
        and clear of the vertical rule lines at the x positions in ``avoid``."""
        points, new = [], []
        while len(new) < n:
            p = (rng.uniform(x_lo, x_hi), rng.uniform(14, ph - 14))
            if all(abs(p[0] - a) >= 10 for a in avoid) and all((p[0] - q[0]) ** 2 + (p[1] - q[1]) ** 2 >= 17 ** 2 for q in points):
                points.append(p)
                new.append(p)
        return new

    rows = [top, top + ph + 16]
    fig.text(left - 10, rows[0] + ph / 2, t('training', '训练'), anchor='end')
    fig.text(left - 10, rows[1] + ph / 2, t('deployment', '部署'), anchor='end')
    titles = [t('covariate shift', '协变量偏移'), t('label shift', '标签偏移'),
              t('concept shift', '概念偏移')]
    notes = [(t('p(x) changes,', 'p(x) 变了，'), t('p(y | x) stays', 'p(y | x) 不变')),
             (t('p(y) changes,', 'p(y) 变了，'), t('p(x | y) stays', 'p(x | y) 不变')),
             (t('p(y | x) changes', 'p(y | x) 变了'), t('(the rule itself)', '（规则本身变了）'))]
    for k in range(3):
        x0 = left + k * (pw + gap)
        fig.text(x0 + pw / 2, 22, titles[k], size=14, bold=True)
        for y0 in rows:
            fig.rect(x0, y0, pw, ph, fill='fill0', stroke='muted', rx=3, width=1)
        fig.text(x0 + pw / 2, rows[1] + ph + 20, notes[k][0], size=12.5)
        fig.text(x0 + pw / 2, rows[1] + ph + 38, notes[k][1], size=12.5)

    # covariate shift: the inputs move, the rule (x < 100 -> circle) stays
    x0 = left
    src = cloud(18, 112, 13)
    dst = cloud(82, 184, 13)
    for pts, y0 in ((src, rows[0]), (dst, rows[1])):
        fig.line(x0 + 100, y0 + 6, x0 + 100, y0 + ph - 6, color='accent', width=1.6, dashed=True)
        for x, y in pts:
            _mark(fig, x0 + x, y0 + y, 0 if x < 100 else 1)

    # label shift: each class keeps its cloud, the proportions change
    x0 = left + pw + gap
    circles, squares = cloud(16, 88, 13), cloud(112, 184, 13)
    for y0, n0, n1 in ((rows[0], 7, 7), (rows[1], 13, 2)):
        fig.line(x0 + 100, y0 + 6, x0 + 100, y0 + ph - 6, color='accent', width=1.6, dashed=True)
        for x, y in circles[:n0]:
            _mark(fig, x0 + x, y0 + y, 0)
        for x, y in squares[:n1]:
            _mark(fig, x0 + x, y0 + y, 1)

    # concept shift: the same inputs, labelled by a different rule
    x0 = left + 2 * (pw + gap)
    pts = (cloud(14, 50, 4, avoid=()) + cloud(70, 92, 4, avoid=())
           + cloud(110, 186, 7, avoid=()))  # a band of points between the two rules
    for y0, cut in ((rows[0], 100), (rows[1], 62)):
        fig.line(x0 + cut, y0 + 6, x0 + cut, y0 + ph - 6, color='accent', width=1.6, dashed=True)
        for x, y in pts:
            _mark(fig, x0 + x, y0 + y, 0 if x < cut else 1)

    # legend
    ly = fig.height - 18
    _mark(fig, left + 6, ly, 0)
    fig.text(left + 18, ly, t('class 1', '类别 1'), anchor='start', size=12.5)
    _mark(fig, left + 96, ly, 1)
    fig.text(left + 108, ly, t('class 2', '类别 2'), anchor='start', size=12.5)
    fig.line(left + 190, ly, left + 214, ly, color='accent', width=1.6, dashed=True)
    fig.text(left + 222, ly, t('the labelling rule: which side gets which class',
                               '标注规则：线的哪一侧属于哪个类别'), anchor='start', size=12.5)
    return fig


@figure('data-pipelines')
def data_pipelines(t):
    """Two ways to make a minibatch: per example (Dataset + DataLoader) or per batch (tensors)."""
    fig = Fig(700, 282)
    h, y1, y2 = 46, 46, 184

    def row(y, boxes, fill):
        x = 20
        ends = []
        for label, sub, w in boxes:
            fig.box(x, y, w, h, label, fill=fill, sub=sub, size=13)
            ends.append((x, x + w))
            x += w + 34
        for (_, a), (b, _) in zip(ends, ends[1:]):
            fig.arrow(a + 2, y + h / 2, b - 2, y + h / 2)
        return ends

    fig.text(20, 20, t('torch.utils.data: one example at a time',
                       'torch.utils.data：一次处理一个样本'), anchor='start', size=14, bold=True)
    ends = row(y1, [('dataset[i]', t('read one file', '读一个文件'), 118),
                    ('transform', t('decode, resize, to tensor', '解码、缩放、转张量'), 170),
                    ('collate', t('stack 256 examples', '堆叠 256 个样本'), 150),
                    (t('batch', '批量'), '(X, y)', 96)], 'fill1')
    fig.brace_label(ends[0][0], ends[1][1], y1 + h + 12,
                    t('repeated for every example, in worker processes',
                      '每个样本做一遍，在工作进程中执行'))
    fig.text(20, 158, t('d2lmini: one batch at a time', 'd2lmini：一次处理一个批量'),
             anchor='start', size=14, bold=True)
    ends = row(y2, [(t('uint8 tensor', 'uint8 张量'), '60000×1×28×28', 150),
                    ('index\\_select', t('256 random rows', '随机取 256 行'), 138),
                    (t('scale & resize', '转浮点、改尺寸'), 'F.interpolate', 150),
                    (t('batch', '批量'), '(X, y)', 96)], 'fill3')
    fig.brace_label(ends[0][0], ends[3][1], y2 + h + 12,
                    t('once per batch, on the device that trains',
                      '每个批量一次，在训练所用的设备上执行'))
    return fig


@figure('shattering')
def shattering(t):
    """Lines shatter three points in the plane (all 8 labelings), but not four (XOR)."""
    cell, gap = 78, 12
    fig = Fig(8 * (cell + gap) + 2 * cell + 60, cell + 74)
    pts = [(0, 0), (1, 0), (0, 1)]

    def place(x0, p):
        m = 16
        return x0 + m + p[0] * (cell - 2 * m), 24 + cell - m - p[1] * (cell - 2 * m)

    for k in range(8):
        labels = [(k >> i) & 1 for i in range(3)]
        x0 = 10 + k * (cell + gap)
        fig.rect(x0, 24, cell, cell, fill='fill0', stroke='muted', rx=3, width=1)
        box = (x0 + 2, 26, x0 + cell - 2, 22 + cell)
        if len(set(labels)) == 1:   # all alike: any line that misses the points
            a, b = (x0 + cell - 22, 26), (x0 + cell - 2, 46)
        else:                        # cut off the point whose label is in the minority
            odd = next(i for i in range(3) if labels.count(labels[i]) == 1)
            others = [place(x0, pts[j]) for j in range(3) if j != odd]
            po = place(x0, pts[odd])
            a = ((po[0] + others[0][0]) / 2, (po[1] + others[0][1]) / 2)
            b = ((po[0] + others[1][0]) / 2, (po[1] + others[1][1]) / 2)
            d = (b[0] - a[0], b[1] - a[1])  # extend the cut a little beyond both midpoints
            a, b = (a[0] - 0.45 * d[0], a[1] - 0.45 * d[1]), (b[0] + 0.45 * d[0], b[1] + 0.45 * d[1])
        a, b = _clip(a, b, box)
        fig.line(*a, *b, color='accent', width=1.6)
        for p, lab in zip(pts, labels):
            _mark(fig, *place(x0, p), lab, size=6)
    fig.text(10 + 4 * (cell + gap) - gap / 2, 12,
             t('3 points: every labelling is cut by some line',
               '3 个点：每一种标注都能被某条直线分开'), size=13)
    x0 = 10 + 8 * (cell + gap) + 28
    fig.rect(x0, 24, cell, cell, fill='fill0', stroke='muted', rx=3, width=1)
    for p, lab in zip([(0, 0), (1, 0), (0, 1), (1, 1)], [0, 1, 1, 0]):
        _mark(fig, *place(x0, p), lab, size=6)
    fig.text(x0 + cell / 2, 12, t('4 points (XOR)', '4 个点（异或）'), size=13)
    fig.text(x0 + cell / 2, 24 + cell + 16, t('no line works', '没有直线能分开'), size=12.5,
             color='warn')
    fig.text(10 + 4 * (cell + gap) - gap / 2, 24 + cell + 16,
             t('circle and square: the two labels; blue line: a separating line',
               '圆和方块代表两种标签；蓝线是一条分隔线'), size=12.5, color='muted')
    fig.width = x0 + cell + 14
    return fig
