"""The ``ProgressBoard``: training curves that work in every place a notebook runs.

Modes (``D2LMINI_BOARD`` overrides the automatic choice):

* ``live`` (Jupyter, VS Code, Colab): one figure, updated in place through a
  display handle at most a few times per second, with epoch, seconds per epoch
  and ETA in its title. No ``clear_output``, so nothing flickers.
* ``static`` (book builds, nbval, papermill, scripts): the final figure once, at
  the end of the cell, plus one text line per epoch.
* ``off``: record values only.

Values handed to :meth:`ProgressBoard.draw` may be tensors on any device. They
are averaged on that device and read back to the host only when the figure is
drawn, so plotting never forces a per-batch host synchronisation.
"""
import collections
import os
import time

import numpy as np
import torch
from matplotlib.figure import Figure

from .base import HyperParameters

MODES = ('live', 'static', 'off')
Point = collections.namedtuple('Point', ['x', 'y'])


def _ipython():
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def board_mode():
    """``live`` inside a Jupyter kernel, ``static`` elsewhere, unless D2LMINI_BOARD says."""
    mode = os.environ.get('D2LMINI_BOARD', '').strip().lower()
    if mode:
        if mode not in MODES:
            raise ValueError(f'D2LMINI_BOARD={mode!r} is not one of {", ".join(MODES)}')
        return mode
    shell = _ipython()
    return 'live' if shell is not None and hasattr(shell, 'kernel') else 'static'


def _mean(values):
    """Mean of numbers and/or scalar tensors; stays on the tensors' device."""
    tensors = [v for v in values if isinstance(v, torch.Tensor)]
    if not tensors:
        return float(np.mean(values))
    device = tensors[0].device
    stacked = torch.stack([torch.as_tensor(v, device=device).detach().reshape(()).float()
                           for v in values])
    return stacked.mean()


def _to_floats(values):
    """Host floats for a list of numbers and tensors, with one transfer per device."""
    out = list(values)
    by_device = {}
    for i, v in enumerate(out):
        if isinstance(v, torch.Tensor):
            by_device.setdefault(v.device, []).append(i)
    for idx in by_device.values():
        floats = torch.stack([out[i].reshape(()).float() for i in idx]).tolist()
        for i, f in zip(idx, floats):
            out[i] = f
    return out


class ProgressBoard(HyperParameters):
    """A board that plots data points as training goes (d2l's signature)."""
    min_interval = 0.25  # seconds between live redraws

    def __init__(self, xlabel=None, ylabel=None, xlim=None,
                 ylim=None, xscale='linear', yscale='linear',
                 ls=['-', '--', '-.', ':'], colors=['C0', 'C1', 'C2', 'C3'],
                 fig=None, axes=None, figsize=(3.5, 2.5), display=True):
        self.save_hyperparameters()
        self._xs, self._ys, self._pending, self._lines = {}, {}, {}, {}
        self._handle, self._last_render, self._shown_pending = None, 0.0, False
        self._epoch_clock, self._epoch_times, self.title = None, [], ''

    # -- recording ---------------------------------------------------------
    def draw(self, x, y, label, every_n=1):
        """Add point ``(x, y)`` to the curve ``label``.

        Every ``every_n`` calls, the mean of the collected ``y`` values becomes
        one plotted point at the latest ``x``.
        """
        if not isinstance(every_n, int) or every_n < 1:
            raise ValueError(f'every_n must be a positive integer, got {every_n!r}')
        if isinstance(y, torch.Tensor):
            y = y.detach()
        pending = self._pending.setdefault(label, [])
        pending.append(y)
        if self._epoch_clock is None:
            self._epoch_clock = time.perf_counter()
        if len(pending) < every_n:
            return
        self._xs.setdefault(label, []).append(float(x))
        self._ys.setdefault(label, []).append(_mean(pending))
        pending.clear()
        self._after_draw()

    def labels(self):
        """Names of the curves recorded so far."""
        return list(self._xs)

    def values(self, label):
        """The plotted y values of curve ``label`` as floats (reads tensors back)."""
        ys = self._ys.get(label, [])
        ys[:] = _to_floats(ys)
        return list(ys)

    def points(self, label):
        """The plotted ``(x, y)`` points of curve ``label``."""
        return [Point(x, y) for x, y in zip(self._xs.get(label, []), self.values(label))]

    @property
    def data(self):
        """d2l's view of the board: each curve label mapped to its list of points, each
        with ``.x`` and ``.y`` (e.g. ``board.data['val_loss'][-1].y``)."""
        return {label: self.points(label) for label in self._xs}

    # -- progress ----------------------------------------------------------
    def end_epoch(self, trainer):
        """Called by the Trainer after each epoch: title, ETA, one line if static."""
        now = time.perf_counter()
        done, total = trainer.epoch + 1, trainer.max_epochs
        start = self._epoch_clock if self._epoch_clock is not None else now
        self._epoch_times.append(now - start)
        self._epoch_clock = now
        per_epoch = float(np.mean(self._epoch_times[-5:]))
        gpus = getattr(trainer, 'gpus', None)
        device = str(gpus[0]) if gpus else 'cpu'
        if done < total:
            eta = per_epoch * (total - done)
            self.title = f'epoch {done}/{total}, {per_epoch:.2g} s/epoch, ETA {eta:.0f} s'
        else:
            self.title = f'{total} epochs, {per_epoch:.2g} s/epoch on {device}'
        mode = self._mode()
        if mode == 'static':
            latest = ', '.join(f'{k} {self.values(k)[-1]:.4f}' for k in self.labels())
            print(f'epoch {done}/{total}: {latest} ({per_epoch:.2f} s/epoch, {device})')
        elif mode == 'live':
            self._live_update(force=True)

    # -- display -----------------------------------------------------------
    def _mode(self):
        return board_mode() if self.display else 'off'

    def _after_draw(self):
        mode = self._mode()
        if mode == 'live':
            self._live_update()
        elif mode == 'static':
            self._show_at_end_of_cell()

    def _figure(self):
        if self.axes is None:
            if self.fig is None:
                self.fig = Figure(figsize=self.figsize)
            self.axes = self.fig.add_subplot() if not self.fig.axes else self.fig.axes[0]
        elif self.fig is None:
            self.fig = self.axes.figure
        return self.fig

    def render(self):
        """Bring the figure up to date with the recorded points and return it."""
        fig, ax = self._figure(), self.axes
        for i, label in enumerate(self._xs):
            if label not in self._lines:
                (self._lines[label],) = ax.plot(
                    [], [], linestyle=self.ls[i % len(self.ls)],
                    color=self.colors[i % len(self.colors)], label=label)
            self._lines[label].set_data(self._xs[label], self.values(label))
        ax.relim()
        ax.autoscale_view()
        ax.set(xlabel=self.xlabel, ylabel=self.ylabel,
               xscale=self.xscale, yscale=self.yscale)
        if self.xlim:
            ax.set_xlim(self.xlim)
        if self.ylim:
            ax.set_ylim(self.ylim)
        if self._lines:
            ax.legend(loc='best')
        ax.set_title(self.title, fontsize='small')
        ax.grid(True)
        return fig

    @staticmethod
    def _display(obj, **kwargs):
        # Jupyter renders a bare Figure only once the inline backend registered
        # its image formatter, which matplotlib >= 3.10 does lazily: make sure.
        from IPython.display import display
        from .plotting import use_svg_display
        use_svg_display()
        return display(obj, **kwargs)

    def _live_update(self, force=False):
        now = time.perf_counter()
        if not force and now - self._last_render < self.min_interval:
            self._show_at_end_of_cell()  # make sure the last points are drawn
            return
        self.render()
        if self._handle is None:
            self._handle = self._display(self.fig, display_id=True)
            self._show_at_end_of_cell()  # the end of the cell releases the handle
        else:
            self._handle.update(self.fig)
        self._last_render = time.perf_counter()

    def _show_at_end_of_cell(self):
        """Draw the final figure once, when the running cell finishes."""
        shell = _ipython()
        if shell is None or self._shown_pending:
            return
        self._shown_pending = True

        def show():
            shell.events.unregister('post_execute', show)
            self._shown_pending = False
            if self._mode() == 'live' and self._handle is not None:
                self._live_update(force=True)
                self._handle = None  # a later cell gets a figure of its own
            elif self._mode() != 'off':
                self._display(self.render())
        shell.events.register('post_execute', show)
