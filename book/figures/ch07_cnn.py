"""Figures of chapter 7, convolutional neural networks."""
from . import figure, Fig


@figure('conv-correlation')
def conv_correlation(t):
    """Two-dimensional cross-correlation: the shaded window times the kernel gives the shaded output."""
    fig = Fig(520, 190)
    X = [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    K = [[0, 1], [2, 3]]
    Y = [[19, 25], [37, 43]]
    cell = 34
    y0 = 40
    fig.text(20 + 1.5 * cell, 18, t('input', '输入'))
    fig.matrix(20, y0, X, cell=cell, highlight=[(0, 0), (0, 1), (1, 0), (1, 1)], size=14)
    fig.text(20 + 3 * cell + 28, y0 + 1.5 * cell, '*', size=22)
    kx = 20 + 3 * cell + 56
    fig.text(kx + cell, 18, t('kernel', '卷积核'))
    fig.matrix(kx, y0 + cell / 2, K, cell=cell, size=14, fill='fill1')
    fig.text(kx + 2 * cell + 28, y0 + 1.5 * cell, '=', size=22)
    yx = kx + 2 * cell + 56
    fig.text(yx + cell, 18, t('output', '输出'))
    fig.matrix(yx, y0 + cell / 2, Y, cell=cell, highlight=[(0, 0)], size=14, fill='fill3')
    fig.text(260, y0 + 3 * cell + 24,
             '0×0 + 1×1 + 3×2 + 4×3 = 19', size=13, color='muted')
    return fig
