"""Figures of chapter 8, modern convolutional neural networks.

Colours by kind of layer, the same in every figure of the chapter: convolutions ``fill1``,
pooling ``fill3``, fully connected layers ``fill2``, normalization ``fill5``, the output
``fill4``, inputs and plain operations ``fill0``.
"""
import math

from . import figure, Fig

CONV, POOL, FC, NORM, OUT, PLAIN = 'fill1', 'fill3', 'fill2', 'fill5', 'fill4', 'fill0'


def _column(fig, x, y, w, items, h=30, gap=22, size=12, shapes=None, shape_x=None):
    """Boxes stacked downwards from (x, y), joined by arrows; returns the box tops and the bottom.

    ``items`` are (label, fill) or (label, fill, sub); ``shapes[i]`` (optional) is written
    beside the arrow that leaves box i.
    """
    tops = []
    for i, item in enumerate(items):
        label, fill = item[0], item[1]
        sub = item[2] if len(item) > 2 else None
        bh = h + (10 if sub else 0)
        fig.box(x, y, w, bh, label, fill=fill, size=size, sub=sub)
        tops.append((y, bh))
        y += bh
        if i < len(items) - 1:
            fig.arrow(x + w / 2, y + 2, x + w / 2, y + gap - 2)
            if shapes and shapes[i]:
                fig.text(shape_x if shape_x is not None else x + w / 2 + 10, y + gap / 2,
                         shapes[i], size=11, color='muted', anchor='start')
            y += gap
    return tops, y


@figure('lenet-alexnet')
def lenet_alexnet(t):
    """LeNet and AlexNet side by side, as layer stacks with the tensor shapes between layers."""
    fig = Fig(660, 660)
    conv, pool, fc = t('conv', '卷积'), t('max pool', '最大汇聚'), t('FC', '全连接')
    lenet = [
        (t('input image', '输入图像'), PLAIN),
        (f'5×5 {conv}, 6, {t("pad", "填充")} 2', CONV, '+ sigmoid'),
        (t('2×2 avg pool, stride 2', '2×2 平均汇聚，步幅 2'), POOL),
        (f'5×5 {conv}, 16', CONV, '+ sigmoid'),
        (t('2×2 avg pool, stride 2', '2×2 平均汇聚，步幅 2'), POOL),
        (f'{fc} 120', FC, '+ sigmoid'),
        (f'{fc} 84', FC, '+ sigmoid'),
        (f'{fc} 10', OUT),
    ]
    lenet_shapes = ['1×28×28', '6×28×28', '6×14×14', '16×10×10', '16×5×5', '120', '84']
    alexnet = [
        (t('input image', '输入图像'), PLAIN),
        (f'11×11 {conv}, 96, {t("stride", "步幅")} 4', CONV, '+ ReLU'),
        (f'3×3 {pool}, {t("stride", "步幅")} 2', POOL),
        (f'5×5 {conv}, 256, {t("pad", "填充")} 2', CONV, '+ ReLU'),
        (f'3×3 {pool}, {t("stride", "步幅")} 2', POOL),
        (f'3×3 {conv}, 384, {t("pad", "填充")} 1', CONV, '+ ReLU'),
        (f'3×3 {conv}, 384, {t("pad", "填充")} 1', CONV, '+ ReLU'),
        (f'3×3 {conv}, 256, {t("pad", "填充")} 1', CONV, '+ ReLU'),
        (f'3×3 {pool}, {t("stride", "步幅")} 2', POOL),
        (f'{fc} 4096', FC, t('+ ReLU, dropout 0.5', '+ ReLU，暂退 0.5')),
        (f'{fc} 4096', FC, t('+ ReLU, dropout 0.5', '+ ReLU，暂退 0.5')),
        (f'{fc} 10', OUT),
    ]
    alex_shapes = ['1×224×224', '96×54×54', '96×26×26', '256×26×26', '256×12×12',
                   '384×12×12', '384×12×12', '256×12×12', '256×5×5', '4096', '4096']
    fig.text(130, 18, 'LeNet', size=15, bold=True)
    fig.text(470, 18, 'AlexNet', size=15, bold=True)
    h, gap = 26, 20
    _column(fig, 40, 40, 180, lenet, h=h, gap=gap, shapes=lenet_shapes, shape_x=220 - 68)
    _column(fig, 350, 40, 240, alexnet, h=h, gap=gap, shapes=alex_shapes, shape_x=480)
    return fig


@figure('receptive-field')
def receptive_field(t):
    """Two stacked 3 x 3 convolutions: one output depends on a 5 x 5 input region."""
    fig = Fig(660, 270)
    cell = 24
    y0 = 60
    # input 7x7 with the central 5x5 shaded, middle 5x5 with the central 3x3, output 3x3 centre
    grids = [(30, 7, 5, t('input', '输入')),
             (250, 5, 3, t('after the first 3×3 convolution', '第一个 3×3 卷积之后')),
             (470, 3, 1, t('after the second 3×3 convolution', '第二个 3×3 卷积之后'))]
    boxes = []
    for x, n, k, label in grids:
        top = y0 + (7 - n) * cell / 2
        lo = (n - k) // 2
        shade = [(i, j) for i in range(lo, lo + k) for j in range(lo, lo + k)]
        fig.matrix(x, top, [[''] * n for _ in range(n)], cell=cell, highlight=shade,
                   hl_fill='fill1' if k > 1 else 'hl')
        fig.text(x + n * cell / 2, y0 + 7 * cell + 22, label, size=12)
        boxes.append((x + lo * cell, top + lo * cell, k * cell))
    # dashed lines joining each shaded region to the region it produces
    for (x1, y1, s1), (x2, y2, s2) in zip(boxes, boxes[1:]):
        fig.line(x1 + s1, y1, x2, y2, color='muted', dashed=True)
        fig.line(x1 + s1, y1 + s1, x2, y2 + s2, color='muted', dashed=True)
    fig.text(30 + 3.5 * cell, y0 - 26, t('5 × 5 pixels seen', '看到 5 × 5 个像素'), size=12,
             color='accent')
    return fig


@figure('vgg')
def vgg(t):
    """AlexNet's individually designed layers next to VGG's repeated block."""
    fig = Fig(720, 450)
    conv, pool, fc = t('conv', '卷积'), t('max pool', '最大汇聚'), t('FC', '全连接')
    fig.text(110, 18, 'AlexNet', size=15, bold=True)
    st = t('stride', '步幅')
    alexnet = [
        (f'11×11 {conv}, 96, {st} 4', CONV), (f'3×3 {pool}, {st} 2', POOL),
        (f'5×5 {conv}, 256', CONV), (f'3×3 {pool}, {st} 2', POOL),
        (f'3×3 {conv}, 384', CONV), (f'3×3 {conv}, 384', CONV), (f'3×3 {conv}, 256', CONV),
        (f'3×3 {pool}, {st} 2', POOL),
        (f'{fc} 4096', FC), (f'{fc} 4096', FC), (f'{fc} 10', OUT)]
    _column(fig, 30, 36, 160, alexnet, h=24, gap=14, size=11)
    fig.text(370, 18, 'VGG', size=15, bold=True)
    block = t('VGG block', 'VGG 块')
    vgg_items = [(f'{block} 1', CONV), (f'{block} 2', CONV), ('…', PLAIN),
                 (f'{block} n', CONV),
                 (f'{fc} 4096', FC), (f'{fc} 4096', FC), (f'{fc} 10', OUT)]
    tops, _ = _column(fig, 290, 36, 160, vgg_items, h=30, gap=22, size=12)
    # the block in detail
    fig.text(610, 18, t('VGG block', 'VGG 块'), size=15, bold=True)
    detail = [(f'3×3 {conv}, {t("pad", "填充")} 1', CONV, '+ ReLU'), ('…', PLAIN),
              (f'3×3 {conv}, {t("pad", "填充")} 1', CONV, '+ ReLU'),
              (f'2×2 {pool}, {t("stride", "步幅")} 2', POOL)]
    dtops, dbottom = _column(fig, 530, 56, 160, detail, h=30, gap=22, size=12)
    fig.rect(520, 44, 180, dbottom - 44 + 12, fill=None, stroke='muted', dashed=True, rx=6)
    # bracket showing the repeated convolutions
    top, bottom = dtops[0][0], dtops[2][0] + dtops[2][1]
    fig.path(f'M514,{top:.1f} L508,{top:.1f} L508,{bottom:.1f} L514,{bottom:.1f}', color='muted')
    fig.text(500, (top + bottom) / 2, t('× k', '× k'), size=12, color='muted', anchor='end')
    # link the first block on the left to the detail
    fig.line(450, tops[0][0] + tops[0][1] / 2, 520, 60, color='muted', dashed=True)
    return fig


@figure('nin')
def nin(t):
    """A VGG network and a NiN network side by side, with their blocks and heads."""
    fig = Fig(700, 410)
    conv, pool = t('conv', '卷积'), t('max pool', '最大汇聚')
    fig.text(170, 18, 'VGG', size=15, bold=True)
    fig.text(520, 18, 'NiN', size=15, bold=True)
    vgg_items = [(f'3×3 {conv}', CONV, '+ ReLU'), (f'3×3 {conv}', CONV, '+ ReLU'),
                 (f'2×2 {pool}', POOL), ('…', PLAIN),
                 (t('FC 4096', '全连接 4096'), FC, '+ ReLU'), (t('FC 4096', '全连接 4096'), FC, '+ ReLU'),
                 (t('FC, one output per class', '全连接，每类一个输出'), OUT)]
    tops, bottom = _column(fig, 80, 40, 180, vgg_items, h=28, gap=20)
    fig.rect(70, 32, 200, tops[2][0] + tops[2][1] - 32 + 8, fill=None, stroke='muted', dashed=True,
             rx=6)
    fig.text(66, (32 + tops[2][0] + tops[2][1]) / 2, t('VGG block', 'VGG 块'), size=12,
             color='muted', anchor='end')
    nin_items = [(t('conv (k × k)', '卷积（k × k）'), CONV, '+ ReLU'),
                 (f'1×1 {conv}', CONV, '+ ReLU'), (f'1×1 {conv}', CONV, '+ ReLU'),
                 (f'3×3 {pool}, ' + t('stride 2', '步幅 2'), POOL), ('…', PLAIN),
                 (t('NiN block, one channel per class', 'NiN 块，每类一个通道'), CONV),
                 (t('global average pooling', '全局平均汇聚'), OUT)]
    ntops, nbottom = _column(fig, 430, 40, 180, nin_items, h=28, gap=20)
    fig.rect(420, 32, 200, ntops[2][0] + ntops[2][1] - 32 + 8, fill=None, stroke='muted',
             dashed=True, rx=6)
    fig.text(624, (32 + ntops[2][0] + ntops[2][1]) / 2, t('NiN block', 'NiN 块'), size=12,
             color='muted', anchor='start')
    return fig


@figure('inception')
def inception(t):
    """The Inception block: four parallel branches, concatenated along the channels."""
    fig = Fig(660, 320)
    conv, pool, pad = t('conv', '卷积'), t('max pool', '最大汇聚'), t('pad', '填充')
    fig.box(250, 14, 160, 34, t('input', '输入'), fill=PLAIN, size=13)
    xs = [20, 180, 340, 500]
    w = 140
    branches = [
        [None, (f'1×1 {conv}', CONV)],
        [(f'1×1 {conv}', CONV), (f'3×3 {conv}, {pad} 1', CONV)],
        [(f'1×1 {conv}', CONV), (f'5×5 {conv}, {pad} 2', CONV)],
        [(f'3×3 {pool}, {pad} 1', POOL), (f'1×1 {conv}', CONV)],
    ]
    rows, h = [96, 170], 32
    y_cat = 240
    fig.line(330, 48, 330, 68)
    fig.line(xs[0] + w / 2, 68, xs[-1] + w / 2, 68)
    for x, items in zip(xs, branches):
        cx = x + w / 2
        first = rows[0] if items[0] is not None else rows[1]
        fig.arrow(cx, 68, cx, first - 2)
        if items[0] is not None:
            fig.box(x, rows[0], w, h, items[0][0], fill=items[0][1], size=12)
            fig.arrow(cx, rows[0] + h + 2, cx, rows[1] - 2)
        fig.box(x, rows[1], w, h, items[1][0], fill=items[1][1], size=12)
        fig.arrow(cx, rows[1] + h + 2, cx, y_cat - 2)
    fig.box(20, y_cat, 620, 34, t('concatenate along the channels', '沿通道维连结'), fill=OUT,
            size=13)
    fig.text(330, 298, t('every convolution is followed by a ReLU', '每个卷积之后都有 ReLU'),
             size=12, color='muted')
    return fig


@figure('googlenet')
def googlenet(t):
    """GoogLeNet for 96 x 96 inputs: stem, three stages of Inception blocks, head."""
    fig = Fig(620, 530)
    inc = t('Inception:', 'Inception 块：')
    items = [
        (t('input image', '输入图像'), PLAIN),
        (t('7×7 conv, 64, stride 2; 3×3 max pool, stride 2', '7×7 卷积，64，步幅 2；3×3 最大汇聚，步幅 2'),
         CONV),
        (t('1×1 conv, 64; 3×3 conv, 192; 3×3 max pool, stride 2',
           '1×1 卷积，64；3×3 卷积，192；3×3 最大汇聚，步幅 2'), CONV),
        (f'2 × {inc} 256, 480', CONV),
        (t('3×3 max pool, stride 2', '3×3 最大汇聚，步幅 2'), POOL),
        (f'5 × {inc} 512, 512, 512, 528, 832', CONV),
        (t('3×3 max pool, stride 2', '3×3 最大汇聚，步幅 2'), POOL),
        (f'2 × {inc} 832, 1024', CONV),
        (t('global average pooling', '全局平均汇聚'), POOL),
        (t('FC, 10 outputs', '全连接，10 个输出'), OUT),
    ]
    shapes = ['1×96×96', '64×24×24', '192×12×12', '480×12×12', '480×6×6', '832×6×6',
              '832×3×3', '1024×3×3', '1024']
    tops, _ = _column(fig, 60, 20, 380, items, h=32, gap=20, size=12, shapes=shapes,
                      shape_x=460)
    # brackets naming the three parts
    parts = [(tops[1][0], tops[2][0] + tops[2][1], t('stem', '主干')),
             (tops[3][0], tops[7][0] + tops[7][1], t('body', '主体')),
             (tops[8][0], tops[9][0] + tops[9][1], t('head', '头部'))]
    for top, bottom, label in parts:
        fig.path(f'M54,{top:.1f} L46,{top:.1f} L46,{bottom:.1f} L54,{bottom:.1f}', color='muted')
        fig.text(40, (top + bottom) / 2, label, size=12, color='muted', anchor='end')
    return fig


def _cuboid(fig, x, y, w, h, d, fill, stroke='ink'):
    """A box in oblique projection: front face w x h at (x, y), depth d going up and right."""
    dx, dy = d * 0.6, -d * 0.5
    _para(fig, x, y, w, dx, dy, fill, stroke)
    fig.path(f'M{x + w:.1f},{y:.1f} L{x + w + dx:.1f},{y + dy:.1f} L{x + w + dx:.1f},'
             f'{y + h + dy:.1f} L{x + w:.1f},{y + h:.1f} Z', fill=fill, color=stroke, width=1)
    fig.rect(x, y, w, h, fill=fill, stroke=stroke, rx=0, width=1)
    return dx, dy


def _para(fig, x, y, w, dx, dy, fill, stroke='ink'):
    """A parallelogram on the top face: from the edge (x, y)-(x + w, y), going back by (dx, dy)."""
    fig.path(f'M{x:.1f},{y:.1f} L{x + dx:.1f},{y + dy:.1f} L{x + w + dx:.1f},{y + dy:.1f} '
             f'L{x + w:.1f},{y:.1f} Z', fill=fill, color=stroke, width=1)


@figure('bn-axes')
def bn_axes(t):
    """Batch and layer normalization: which values of an (N, C, H x W) tensor share statistics."""
    fig = Fig(660, 290)
    W, H, D = 160, 130, 110  # front face: channels across, positions down; depth: examples
    for x0, title, mode in [(70, t('batch normalization', '批量规范化'), 'bn'),
                            (400, t('layer normalization', '层规范化'), 'ln')]:
        y0 = 100
        dx, dy = _cuboid(fig, x0, y0, W, H, D, 'fill0')
        if mode == 'bn':  # one channel, every example and position: a vertical slab
            c0, c1 = 0.40, 0.52
            fig.rect(x0 + c0 * W, y0, (c1 - c0) * W, H, fill='hl', stroke='ink', rx=0, width=1)
            _para(fig, x0 + c0 * W, y0, (c1 - c0) * W, dx, dy, 'hl')
        else:  # one example (the front slice), every channel and position
            f = 0.14
            fig.rect(x0, y0, W, H, fill='hl', stroke='ink', rx=0, width=1)
            _para(fig, x0, y0, W, dx * f, dy * f, 'hl')
            fig.path(f'M{x0 + W:.1f},{y0:.1f} L{x0 + W + dx * f:.1f},{y0 + dy * f:.1f} '
                     f'L{x0 + W + dx * f:.1f},{y0 + H + dy * f:.1f} L{x0 + W:.1f},{y0 + H:.1f} Z',
                     fill='hl', color='ink', width=1)
        fig.text(x0 + W / 2, y0 + H + 18, t('C (channels)', 'C（通道）'), size=12, color='muted')
        fig.text(x0 - 8, y0 + H / 2, 'H × W', size=12, color='muted', anchor='end')
        fig.text(x0 + W + dx / 2 + 10, y0 + H + dy / 2 + 14, t('N (examples)', 'N（样本）'),
                 size=12, color='muted', anchor='start')
        fig.text(x0 + (W + dx) / 2, 20, title, size=14, bold=True)
    return fig


def _ellipse(fig, cx, cy, rx, ry, fill=None, color='ink', width=1.2, dashed=False):
    d = (f'M{cx - rx:.1f},{cy:.1f} A{rx:.1f},{ry:.1f} 0 1,0 {cx + rx:.1f},{cy:.1f} '
         f'A{rx:.1f},{ry:.1f} 0 1,0 {cx - rx:.1f},{cy:.1f} Z')
    fig.path(d, fill=fill, color=color, width=width, dashed=dashed)


def _star(fig, cx, cy, r=8, fill='warn'):
    pts = []
    for i in range(10):
        rr = r if i % 2 == 0 else r * 0.45
        a = -math.pi / 2 + i * math.pi / 5
        pts.append(f'{cx + rr * math.cos(a):.1f},{cy + rr * math.sin(a):.1f}')
    fig.path('M' + ' L'.join(pts) + ' Z', fill=fill, color=fill, width=0.8)


@figure('function-classes')
def function_classes(t):
    """Non-nested and nested function classes, and the target function f*."""
    fig = Fig(680, 290)
    fig.text(190, 20, t('non-nested function classes', '非嵌套函数类'), size=14, bold=True)
    fig.text(510, 20, t('nested function classes', '嵌套函数类'), size=14, bold=True)
    # left: classes of growing size that drift away from f*; each label sits in its own part
    left = [(110, 160, 40, 32, 'fill1'), (155, 155, 62, 46, 'fill3'),
            (205, 152, 82, 60, 'fill2'), (250, 150, 100, 76, 'fill5')]
    for cx, cy, rx, ry, fill in reversed(left):
        _ellipse(fig, cx, cy, rx, ry, fill=fill)
    for i, (cx, cy, rx, ry, _) in enumerate(left):
        fig.text(cx + rx - 16, cy, f'$F_{i + 1}', size=13)
    _star(fig, 46, 196)
    fig.text(58, 210, '$f^*', size=14, anchor='start')
    # right: each class contains the previous one; labels at the top of each ring
    right = [(480, 175, 40, 32, 'fill1'), (492, 165, 70, 56, 'fill3'),
             (505, 160, 100, 82, 'fill2'), (515, 158, 132, 108, 'fill5')]
    for cx, cy, rx, ry, fill in reversed(right):
        _ellipse(fig, cx, cy, rx, ry, fill=fill)
    for i, (cx, cy, rx, ry, _) in enumerate(right):
        y = cy if i == 0 else cy - ry + 13
        fig.text(cx + (12 if i == 0 else 0), y, f'$F_{i + 1}', size=13)
    _star(fig, 626, 150)  # inside the largest class only: each enlargement comes closer
    fig.text(626, 170, '$f^*', size=14)
    return fig


@figure('residual-block')
def residual_block(t):
    """A regular block learns f(x); a residual block learns g(x) = f(x) - x and adds x."""
    fig = Fig(600, 420)
    layer, act = t('weight layer', '权重层'), t('activation', '激活函数')
    for x0, title, residual in [(60, t('regular block', '普通块'), False),
                                (360, t('residual block', '残差块'), True)]:
        cx = x0 + 80
        fig.text(cx + (30 if residual else 0), 18, title, size=14, bold=True)
        fig.text(cx, 50, '$x', size=15)
        fig.arrow(cx, 60, cx, 86)
        fig.box(x0, 88, 160, 32, layer, fill=CONV, size=12)
        fig.arrow(cx, 122, cx, 146)
        fig.box(x0, 148, 160, 32, act, fill=PLAIN, size=12)
        fig.arrow(cx, 182, cx, 206)
        fig.box(x0, 208, 160, 32, layer, fill=CONV, size=12)
        inner = t('g(x) = f(x) − x', 'g(x) = f(x) − x') if residual else 'f(x)'
        fig.rect(x0 - 14, 78, 188, 172, fill=None, stroke='muted', dashed=True, rx=6)
        if residual:
            fig.text(x0 + 86, 264, inner, size=12, color='accent', anchor='start')
        else:
            fig.text(x0 - 20, 164, inner, size=12, color='accent', anchor='end')
        if residual:
            fig.op(cx, 300, r=10)
            fig.arrow(cx, 242, cx, 288)
            # the shortcut: from x around the right side into the addition
            fig.path(f'M{cx},{66} L{x0 + 200},{66} L{x0 + 200},{300} L{cx + 12},{300}',
                     arrow=True, color='accent', width=1.6)
            fig.text(x0 + 206, 180, 'x', size=14, color='accent', anchor='start', math=True)
            y_act = 330
            fig.box(x0, y_act, 160, 32, act, fill=PLAIN, size=12)
            fig.arrow(cx, 312, cx, y_act - 2)
        else:
            y_act = 270
            fig.box(x0, y_act, 160, 32, act, fill=PLAIN, size=12)
            fig.arrow(cx, 242, cx, y_act - 2)
        fig.arrow(cx, y_act + 34, cx, y_act + 60)
        fig.text(cx, y_act + 72, 'f(x)', size=14, math=True)
    return fig


def _block_chain(fig, x, y, w, items, gap=14, h=26, size=12):
    """A vertical chain of boxes with arrows; returns the bottom y."""
    for i, (label, fill) in enumerate(items):
        fig.box(x, y, w, h, label, fill=fill, size=size)
        y += h
        if i < len(items) - 1:
            fig.arrow(x + w / 2, y + 1, x + w / 2, y + gap - 1)
            y += gap
    return y


@figure('resnet-block')
def resnet_block(t):
    """ResNet's residual block, with an identity shortcut and with a 1 x 1 convolution on it."""
    fig = Fig(680, 400)
    conv, bn = t('conv', '卷积'), t('batch norm', '批量规范化')
    for x0, title, projected in [(40, t('identity shortcut', '恒等捷径'), False),
                                 (360, t('1×1 convolution on the shortcut', '捷径上的 1×1 卷积'),
                                  True)]:
        w = 150
        cx = x0 + w / 2
        fig.text(x0 + 110, 18, title, size=14, bold=True)
        fig.text(cx, 46, '$x', size=15)
        fig.arrow(cx, 56, cx, 72)
        stride = t(', stride s', '，步幅 s') if projected else ''
        bottom = _block_chain(fig, x0, 74, w, [(f'3×3 {conv}{stride}', CONV), (bn, NORM),
                                               ('ReLU', PLAIN), (f'3×3 {conv}', CONV), (bn, NORM)])
        fig.op(cx, bottom + 30, r=10)
        fig.arrow(cx, bottom + 2, cx, bottom + 18)
        fig.box(x0, bottom + 58, w, 26, 'ReLU', fill=PLAIN, size=12)
        fig.arrow(cx, bottom + 42, cx, bottom + 56)
        fig.arrow(cx, bottom + 86, cx, bottom + 106)
        sx = x0 + w + 80
        if projected:
            fig.path(f'M{cx},62 L{sx},62 L{sx},{bottom / 2 + 20:.1f}', color='accent', width=1.6,
                     arrow=True)
            fig.box(sx - 48, bottom / 2 + 22, 96, 40, f'1×1 {conv}', fill=CONV, size=12,
                    sub=t('stride s', '步幅 s'))
            fig.path(f'M{sx},{bottom / 2 + 62:.1f} L{sx},{bottom + 30} L{cx + 12},{bottom + 30}',
                     color='accent', width=1.6, arrow=True)
        else:
            fig.path(f'M{cx},62 L{sx},62 L{sx},{bottom + 30} L{cx + 12},{bottom + 30}',
                     color='accent', width=1.6, arrow=True)
    return fig


@figure('resnet18')
def resnet18(t):
    """ResNet-18 for 96 x 96 inputs: stem, four stages of two residual blocks, head."""
    fig = Fig(640, 500)
    block = t('residual block', '残差块')
    items = [
        (t('input image', '输入图像'), PLAIN),
        (t('7×7 conv, 64, stride 2; batch norm; ReLU', '7×7 卷积，64，步幅 2；批量规范化；ReLU'), CONV),
        (t('3×3 max pool, stride 2', '3×3 最大汇聚，步幅 2'), POOL),
        (f'2 × {block}, 64', CONV),
        (f'2 × {block}, 128 ' + t('(the first: stride 2, 1×1 conv)', '（第一个：步幅 2，1×1 卷积）'), CONV),
        (f'2 × {block}, 256 ' + t('(the first: stride 2, 1×1 conv)', '（第一个：步幅 2，1×1 卷积）'), CONV),
        (f'2 × {block}, 512 ' + t('(the first: stride 2, 1×1 conv)', '（第一个：步幅 2，1×1 卷积）'), CONV),
        (t('global average pooling', '全局平均汇聚'), POOL),
        (t('FC, 10 outputs', '全连接，10 个输出'), OUT),
    ]
    shapes = ['1×96×96', '64×48×48', '64×24×24', '64×24×24', '128×12×12', '256×6×6', '512×3×3',
              '512']
    tops, _ = _column(fig, 60, 20, 400, items, h=32, gap=22, size=12, shapes=shapes, shape_x=480)
    parts = [(tops[1][0], tops[2][0] + tops[2][1], t('stem', '主干')),
             (tops[3][0], tops[6][0] + tops[6][1], t('stages', '阶段')),
             (tops[7][0], tops[8][0] + tops[8][1], t('head', '头部'))]
    for top, bottom, label in parts:
        fig.path(f'M54,{top:.1f} L46,{top:.1f} L46,{bottom:.1f} L54,{bottom:.1f}', color='muted')
        fig.text(40, (top + bottom) / 2, label, size=12, color='muted', anchor='end')
    return fig


@figure('resnext-block')
def resnext_block(t):
    """The ResNeXt block: 1 x 1 reduction, grouped 3 x 3 convolution, 1 x 1 expansion."""
    fig = Fig(640, 470)
    conv = t('conv', '卷积')
    cx, w, x0 = 250, 240, 130
    fig.text(cx, 22, '$x', size=15)
    fig.text(cx + 12, 22, t('(c channels)', '（c 个通道）'), size=12, color='muted', anchor='start')
    fig.arrow(cx, 32, cx, 50)
    fig.box(x0, 52, w, 40, t('1×1 conv, c → b', '1×1 卷积，c → b'), fill=CONV, size=12,
            sub=t('+ batch norm, ReLU', '+ 批量规范化，ReLU'))
    # the grouped convolution: g separate boxes
    ytop = 130
    groups = 4
    gw, ggap = 48, 16
    gx0 = cx - (groups * gw + (groups - 1) * ggap) / 2
    for i in range(groups):
        gx = gx0 + i * (gw + ggap)
        fig.arrow(cx, 94, gx + gw / 2, ytop - 2, gap=1)
        label = f'3×3' if i < groups - 1 else '…'
        fig.box(gx, ytop, gw, 40, label, fill=CONV, size=12)
        fig.arrow(gx + gw / 2, ytop + 42, cx, ytop + 86, gap=1)
    fig.rect(gx0 - 10, ytop - 10, groups * gw + (groups - 1) * ggap + 20, 60, fill=None,
             stroke='muted', dashed=True, rx=6)
    fig.text(gx0 + groups * gw + (groups - 1) * ggap + 18, ytop + 12,
             t('grouped 3×3 conv:', '分组 3×3 卷积：'), size=12, color='muted', anchor='start')
    fig.text(gx0 + groups * gw + (groups - 1) * ggap + 18, ytop + 30,
             t('b / g groups of g channels', 'b / g 组，每组 g 个通道'), size=12, color='muted',
             anchor='start')
    fig.box(x0, ytop + 88, w, 26, t('concatenate; batch norm, ReLU', '连结；批量规范化，ReLU'),
            fill=NORM, size=12)
    fig.arrow(cx, ytop + 116, cx, ytop + 136)
    fig.box(x0, ytop + 138, w, 40, t('1×1 conv, b → c', '1×1 卷积，b → c'), fill=CONV, size=12,
            sub=t('+ batch norm', '+ 批量规范化'))
    ya = ytop + 210
    fig.arrow(cx, ytop + 180, cx, ya - 12)
    fig.op(cx, ya, r=10)
    fig.path(f'M{cx},40 L{x0 + w + 210},40 L{x0 + w + 210},{ya} L{cx + 12},{ya}', color='accent',
             width=1.6, arrow=True)
    fig.box(x0 + 60, ya + 26, w - 120, 26, 'ReLU', fill=PLAIN, size=12)
    fig.arrow(cx, ya + 12, cx, ya + 24)
    fig.arrow(cx, ya + 54, cx, ya + 74)
    fig.text(cx, ya + 86, t('output (c channels)', '输出（c 个通道）'), size=12)
    fig.text(20, 450, t('b: bottleneck channels; the argument groups of d2l.ResNeXtBlock is the group width g',
                        'b：瓶颈通道数；d2l.ResNeXtBlock 的参数 groups 就是组宽 g'),
             size=12, color='muted', anchor='start')
    return fig


@figure('densenet-block')
def densenet_block(t):
    """ResNet adds a block's input to its output; DenseNet concatenates them."""
    fig = Fig(700, 310)
    # top: ResNet
    fig.text(20, 24, 'ResNet', size=15, bold=True, anchor='start')
    y = 70
    fig.text(60, y, '$x', size=15)
    fig.arrow(72, y, 118, y)
    fig.box(120, y - 18, 80, 36, '$g', fill=CONV, size=14)
    fig.arrow(202, y, 226, y)
    fig.op(238, y, r=10)
    fig.path(f'M96,{y} L96,{y + 36} L238,{y + 36} L238,{y + 12}', color='accent', width=1.6,
             arrow=True)
    fig.arrow(250, y, 272, y)
    fig.text(280, y, 'x + g(x)', size=14, anchor='start', math=True)
    fig.text(420, y, t('add: the parts can no longer be told apart',
                       '相加：两部分从此无法区分'), size=12, color='muted', anchor='start')
    # bottom: DenseNet, a growing stack of channel groups
    fig.text(20, 150, 'DenseNet', size=15, bold=True, anchor='start')
    yc, seg, sw = 225, 18, 26
    colors = ['fill0', 'fill1', 'fill3', 'fill2']
    names = ['$x', '$f_1', '$f_2', '$f_3']

    def stack(x, n):
        top = yc - n * seg / 2
        for s in range(n):
            fig.rect(x, top + s * seg, sw, seg, fill=colors[s], rx=0, width=1)
            fig.text(x + sw / 2, top + (s + 0.5) * seg, names[s], size=11)
        return top

    x = 30
    for k in range(3):
        top = stack(x, k + 1)
        fx = x + sw + 26
        cx = fx + 44 + 26
        fig.arrow(x + sw + 2, yc, fx - 2, yc)
        fig.box(fx, yc - 15, 44, 30, f'$f_{k + 1}', fill=CONV, size=13)
        fig.arrow(fx + 46, yc, cx - 2, yc)
        fig.box(cx, yc - 15, 50, 30, t('concat', '连结'), fill=OUT, size=11)
        # the earlier channels bypass the layer and go straight into the concatenation
        fig.path(f'M{x + sw / 2:.1f},{top - 2:.1f} L{x + sw / 2:.1f},{yc - 50:.1f} '
                 f'L{cx + 25:.1f},{yc - 50:.1f} L{cx + 25:.1f},{yc - 17:.1f}', color='accent',
                 width=1.4, arrow=True)
        fig.arrow(cx + 52, yc, cx + 74, yc)
        x = cx + 76
    stack(x, 4)
    fig.text(350, 292, t('concatenate: every layer sees all earlier features',
                         '连结：每一层都看到之前所有的特征'), size=12, color='muted')
    return fig


@figure('anynet')
def anynet(t):
    """The AnyNet design space: network, stage and block, with their design parameters."""
    fig = Fig(760, 450)
    conv = t('conv', '卷积')
    # left: the network
    fig.text(100, 18, t('network', '网络'), size=14, bold=True)
    items = [(t('input', '输入'), PLAIN), (t('stem', '主干'), CONV), (t('stage 1', '阶段 1'), OUT),
             (t('stage 2', '阶段 2'), OUT), ('…', PLAIN), (t('stage 4', '阶段 4'), OUT),
             (t('head', '头部'), FC)]
    shapes = ['(1, r)', '(c_0, r/2)', '(c_1, r/4)', '(c_2, r/8)', '', '(c_4, r/32)']
    tops, _ = _column(fig, 40, 36, 120, items, h=30, gap=26, size=12, shapes=shapes, shape_x=110)
    # middle: a stage
    fig.text(330, 18, t('stage i', '阶段 i'), size=14, bold=True)
    block = t('block', '块')
    stage = [(f'{block} 1, ' + t('stride 2', '步幅 2'), OUT), (f'{block} 2', OUT), ('…', PLAIN),
             (f'{block} d_i', OUT)]
    stops, sbottom = _column(fig, 260, 60, 140, stage, h=32, gap=26, size=12)
    fig.rect(248, 46, 164, sbottom - 46 + 12, fill=None, stroke='muted', dashed=True, rx=6)
    fig.line(160, tops[2][0] + tops[2][1] / 2, 248, 60, color='muted', dashed=True)
    fig.text(330, sbottom + 34, t('d_i blocks, c_i channels', 'd_i 个块，c_i 个通道'), size=12,
             color='muted')
    # right: the block
    fig.text(600, 18, t('block (ResNeXt)', '块（ResNeXt）'), size=14, bold=True)
    bx, bw = 520, 160
    btems = [(f'1×1 {conv}', CONV), (t('3×3 conv, groups of width g_i', '3×3 卷积，组宽 g_i'), CONV),
             (f'1×1 {conv}', CONV)]
    y = 60
    for i, (label, fill) in enumerate(btems):
        fig.box(bx, y, bw, 30, label, fill=fill, size=11)
        y += 30
        if i < 2:
            fig.arrow(bx + bw / 2, y + 2, bx + bw / 2, y + 24)
            y += 26
    fig.op(bx + bw / 2, y + 30, r=10)
    fig.arrow(bx + bw / 2, y + 2, bx + bw / 2, y + 18)
    fig.path(f'M{bx + bw / 2},50 L{bx + bw + 24},50 L{bx + bw + 24},{y + 30} L{bx + bw / 2 + 12},'
             f'{y + 30}', color='accent', width=1.6, arrow=True)
    fig.rect(508, 40, 214, y + 50 - 40, fill=None, stroke='muted', dashed=True, rx=6)
    fig.line(400, stops[1][0] + stops[1][1] / 2, 508, 60, color='muted', dashed=True)
    fig.text(615, y + 72, t('bottleneck ratio k_i: b = c_i / k_i', '瓶颈比 k_i：b = c_i / k_i'),
             size=12, color='muted')
    fig.text(380, 432, t('design parameters of stage i: depth d_i, width c_i, bottleneck ratio k_i, '
                         'group width g_i', '阶段 i 的设计参数：深度 d_i，宽度 c_i，瓶颈比 k_i，组宽 g_i'),
             size=12, color='muted')
    return fig
