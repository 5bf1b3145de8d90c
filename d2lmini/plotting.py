"""Plotting helpers with d2l's names: ``use_svg_display``, ``set_figsize``,
``set_axes``, ``plot`` and ``show_images``.

Figures use English text only (the book ships no CJK font) and are reproducible:
SVG output carries no date and a fixed hash salt, so re-running a notebook gives
byte-identical figures.
"""
import itertools

import matplotlib
from matplotlib import pyplot as plt
import numpy as np
import torch

import d2lmini as d2l

matplotlib.rcParams['svg.hashsalt'] = 'd2lmini'


def use_svg_display():
    """Show figures in Jupyter as SVG (sharp at any zoom)."""
    try:
        from matplotlib_inline import backend_inline
    except ImportError:  # not inside Jupyter: nothing to configure
        return
    backend_inline.set_matplotlib_formats('svg', metadata={'Date': None})


def set_figsize(figsize=(3.5, 2.5)):
    """Set the default figure size for matplotlib."""
    use_svg_display()
    d2l.plt.rcParams['figure.figsize'] = figsize


def set_axes(axes, xlabel, ylabel, xlim, ylim, xscale, yscale, legend):
    """Set labels, limits, scales and legend of a matplotlib axes."""
    axes.set(xlabel=xlabel, ylabel=ylabel, xscale=xscale, yscale=yscale,
             xlim=xlim, ylim=ylim)
    if legend:
        axes.legend(legend)
    axes.grid(True)


def plot(X, Y=None, xlabel=None, ylabel=None, legend=[], xlim=None,
         ylim=None, xscale='linear', yscale='linear',
         fmts=('-', 'm--', 'g-.', 'r:'), figsize=(3.5, 2.5), axes=None):
    """Plot one or several curves.

    ``X`` and ``Y`` may each be one curve (a list of numbers, a 1-D tensor or
    array) or a list of curves. With ``Y=None`` the curves in ``X`` are drawn
    against their index; one ``X`` curve may serve several ``Y`` curves.
    """
    xs, ys = _as_curves(X, Y)
    set_figsize(figsize)
    if axes is None:
        axes = d2l.plt.gca()
    axes.cla()
    for x, y, fmt in zip(xs, ys, itertools.cycle(fmts)):
        if x is None:
            axes.plot(_to_numpy(y), fmt)
        else:
            axes.plot(_to_numpy(x), _to_numpy(y), fmt)
    set_axes(axes, xlabel, ylabel, xlim, ylim, xscale, yscale, legend)


def _as_curves(X, Y):
    """Turn plot()'s flexible arguments into two equally long lists of curves."""
    def curves(V):
        if isinstance(V, (torch.Tensor, np.ndarray)):
            return [V] if V.ndim == 1 else list(V)
        V = list(V)
        return [V] if V and np.ndim(V[0]) == 0 else V

    if Y is None:
        ys = curves(X)
        return [None] * len(ys), ys
    xs, ys = curves(X), curves(Y)
    if len(xs) == 1:
        xs = xs * len(ys)
    if len(xs) != len(ys):
        raise ValueError(f'plot() got {len(xs)} x-curves for {len(ys)} '
                         'y-curves; pass one x-curve or one per y-curve')
    return xs, ys


def _to_numpy(values):
    if isinstance(values, torch.Tensor):
        return values.detach().cpu().numpy()
    return np.asarray(values)


def show_images(imgs, num_rows, num_cols, titles=None, scale=1.5):
    """Show a grid of images (tensors or arrays, HxW or CxHxW or HxWxC)."""
    figsize = (num_cols * scale, num_rows * scale)
    _, axes = d2l.plt.subplots(num_rows, num_cols, figsize=figsize)
    axes = np.asarray(axes).flatten()
    for i, (ax, img) in enumerate(zip(axes, imgs)):
        img = _to_numpy(img)
        if img.ndim == 3 and img.shape[0] in (1, 3):  # CxHxW -> HxWxC
            img = img.transpose(1, 2, 0)
        if img.ndim == 3 and img.shape[2] == 1:
            img = img[:, :, 0]
        ax.imshow(img, cmap='gray' if img.ndim == 2 else None)
        ax.axes.get_xaxis().set_visible(False)
        ax.axes.get_yaxis().set_visible(False)
        if titles:
            ax.set_title(titles[i])
    return axes
