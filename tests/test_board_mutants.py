"""ProgressBoard details: mode choice, per-epoch timing and ETA, the figure it draws, and what it
shows at the end of a notebook cell (complements the board tests of test_core, test_checks and
test_profiles_detail)."""
import re
from types import SimpleNamespace

import matplotlib
import pytest
import torch
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

import d2lmini as d2l
from d2lmini import board as board_module
from helpers import ShellEvents


class Handle:
    def __init__(self, updates):
        self.updates = updates

    def update(self, obj):
        self.updates.append(obj)


@pytest.fixture
def clock(monkeypatch):
    """A controllable time.perf_counter for the board; set clock[0]."""
    now = [100.0]
    monkeypatch.setattr(board_module, 'time', SimpleNamespace(perf_counter=lambda: now[0]))
    return now


@pytest.fixture
def screen(monkeypatch):
    """Records what the board displays (with its keyword arguments) and the in-place updates."""
    record = SimpleNamespace(shown=[], updates=[])

    def display(obj, **kwargs):
        record.shown.append((obj, kwargs))
        return Handle(record.updates)
    monkeypatch.setattr(d2l.ProgressBoard, '_display', staticmethod(display))
    return record


@pytest.fixture
def no_shell(monkeypatch):
    monkeypatch.setattr(board_module, '_ipython', lambda: None)


def _shell(monkeypatch, kernel):
    shell = SimpleNamespace(events=ShellEvents())
    if kernel:
        shell.kernel = object()
    monkeypatch.setattr(board_module, '_ipython', lambda: shell)
    return shell


def _ydata(fig):
    (line,) = fig.axes[0].get_lines()
    return [float(y) for y in line.get_ydata()]


# -- which mode ------------------------------------------------------------------------------
def test_board_is_live_in_a_jupyter_kernel_without_the_variable(monkeypatch):
    monkeypatch.delenv('D2LMINI_BOARD', raising=False)
    _shell(monkeypatch, kernel=True)
    assert board_module.board_mode() == 'live'


@pytest.mark.parametrize('shell', [None, SimpleNamespace(events=None)],
                         ids=['script', 'terminal-ipython'])
def test_board_is_static_outside_a_kernel_without_the_variable(monkeypatch, shell):
    monkeypatch.delenv('D2LMINI_BOARD', raising=False)
    monkeypatch.setattr(board_module, '_ipython', lambda: shell)
    assert board_module.board_mode() == 'static'


def test_an_empty_variable_means_automatic(monkeypatch):
    monkeypatch.setenv('D2LMINI_BOARD', '  ')
    _shell(monkeypatch, kernel=True)
    assert board_module.board_mode() == 'live'


# -- draw's arguments and averaging ----------------------------------------------------------
@pytest.mark.parametrize('every_n', [0, -3, 2.5, '2'])
def test_draw_rejects_an_every_n_that_is_not_a_positive_integer(every_n):
    board = d2l.ProgressBoard(display=False)
    with pytest.raises(ValueError, match='every_n'):
        board.draw(0, 1.0, 'loss', every_n=every_n)
    assert board.points('loss') == []


def test_board_averages_bfloat16_losses_and_mixes_them_with_floats():
    board = d2l.ProgressBoard(display=False)
    board.draw(0, torch.tensor(0.5, dtype=torch.bfloat16), 'loss', every_n=2)
    board.draw(1, 1.5, 'loss', every_n=2)
    board.draw(2, torch.tensor(0.25, dtype=torch.bfloat16), 'loss')
    assert board.points('loss') == [(1.0, 1.0), (2.0, 0.25)]


def test_mean_of_tensors_and_numbers_stays_on_the_tensors_device():
    mean = board_module._mean([torch.tensor(1.0, device='meta'), 2.0, 3])
    assert isinstance(mean, torch.Tensor) and mean.device.type == 'meta'
    cpu = board_module._mean([torch.tensor(1.0), 2.0, torch.tensor([6.0])])
    assert isinstance(cpu, torch.Tensor) and cpu.item() == 3.0


# -- end of epoch: timing, ETA, device, the static line ---------------------------------------
def _trainer(epoch, max_epochs, **kwargs):
    return SimpleNamespace(epoch=epoch, max_epochs=max_epochs, **kwargs)


def _per_epoch(line):
    return float(re.search(r'\(([\d.]+) s/epoch', line).group(1))


def test_epoch_time_runs_from_the_first_point_to_each_epoch_end(monkeypatch, capsys, clock,
                                                                no_shell):
    monkeypatch.setenv('D2LMINI_BOARD', 'static')
    board = d2l.ProgressBoard()
    assert board.render().axes[0].get_title() == ''  # no title before the first epoch ends
    board.draw(0, 1.0, 'loss')  # the first point starts the clock
    clock[0] = 103.0
    board.end_epoch(_trainer(0, 4, gpus=[]))
    assert '3 s/epoch' in board.title and 'ETA 9 s' in board.title  # 3 s x 3 epochs to go
    clock[0] = 104.0  # the next epoch starts when the last one ended, not at its first point
    board.draw(1, 0.5, 'loss')
    clock[0] = 105.0
    board.end_epoch(_trainer(1, 4, gpus=[]))
    assert '2.5 s/epoch' in board.title and 'ETA 5 s' in board.title  # (3 + 2) / 2, x 2
    assert board.render().axes[0].get_title() == board.title
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split(':')[0] for line in lines] == ['epoch 1/4', 'epoch 2/4']
    assert [_per_epoch(line) for line in lines] == [3.0, 2.5]
    assert 'loss 0.5000' in lines[1] and lines[1].rstrip(')').endswith('cpu')


def test_seconds_per_epoch_average_the_last_five_epochs(monkeypatch, capsys, clock, no_shell):
    """A slow first epoch (warm-up) stops counting once five faster ones followed."""
    monkeypatch.setenv('D2LMINI_BOARD', 'static')
    board = d2l.ProgressBoard()
    board.draw(0, 1.0, 'loss')
    for epoch, seconds in enumerate([10, 1, 1, 1, 1, 1]):
        clock[0] += seconds
        board.end_epoch(_trainer(epoch, 6, gpus=[]))
    assert board.title.startswith('6 epochs') and '1 s/epoch' in board.title
    per_epoch = [_per_epoch(line) for line in capsys.readouterr().out.strip().splitlines()]
    assert per_epoch == [10.0, 5.5, 4.0, 3.25, 2.8, 1.0]


def test_end_of_epoch_without_any_point_drawn(monkeypatch, capsys, clock, no_shell):
    """A model that plots nothing still gets its epoch lines (with zero seconds)."""
    monkeypatch.setenv('D2LMINI_BOARD', 'static')
    board = d2l.ProgressBoard()
    board.end_epoch(_trainer(0, 2, gpus=[]))
    assert 'ETA 0 s' in board.title
    assert capsys.readouterr().out.startswith('epoch 1/2')


def test_static_line_lists_every_curve_and_the_first_gpu(monkeypatch, capsys, clock, no_shell):
    monkeypatch.setenv('D2LMINI_BOARD', 'static')
    board = d2l.ProgressBoard()
    board.draw(0, 0.5, 'loss')
    board.draw(0, torch.tensor(0.25), 'val_loss')
    gpus = [torch.device('cuda', 0), torch.device('cuda', 1)]
    board.end_epoch(_trainer(0, 2, gpus=gpus))
    board.end_epoch(_trainer(1, 2, gpus=gpus))
    first, last = capsys.readouterr().out.strip().splitlines()
    assert 'loss 0.5000, val_loss 0.2500' in first
    assert 'cuda:0' in first and 'cuda:1' not in first
    assert board.title.startswith('2 epochs') and board.title.endswith('on cuda:0')


@pytest.mark.parametrize('trainer', [_trainer(0, 1), _trainer(0, 1, gpus=[])],
                         ids=['no-gpus-attribute', 'no-gpus'])
def test_static_line_and_title_name_the_cpu(monkeypatch, capsys, clock, no_shell, trainer):
    monkeypatch.setenv('D2LMINI_BOARD', 'static')
    board = d2l.ProgressBoard()
    board.draw(0, 0.5, 'loss')
    board.end_epoch(trainer)
    assert capsys.readouterr().out.strip().endswith('cpu)')
    assert board.title.endswith('on cpu')


# -- the figure ----------------------------------------------------------------------------------
def test_figure_has_the_boards_labels_scales_and_limits():
    board = d2l.ProgressBoard(xlabel='epoch', ylabel='loss', xlim=(1, 10), ylim=(0.1, 2),
                              xscale='log', yscale='log', display=False)
    for i in range(1, 4):
        board.draw(i, 1.0 / i, 'loss')
    ax = board.render().axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ('epoch', 'loss')
    assert (ax.get_xscale(), ax.get_yscale()) == ('log', 'log')
    assert tuple(ax.get_xlim()) == (1, 10)
    assert tuple(ax.get_ylim()) == pytest.approx((0.1, 2))


def test_curves_take_the_boards_line_styles_and_colors_in_turn():
    board = d2l.ProgressBoard(colors=['red', 'green'], display=False)
    for label in ['a', 'b', 'c']:
        board.draw(0, 1.0, label)
        board.draw(1, 2.0, label)
    lines = board.render().axes[0].get_lines()
    assert [line.get_label() for line in lines] == ['a', 'b', 'c']
    assert [line.get_linestyle() for line in lines] == ['-', '--', '-.']
    assert [to_hex(line.get_color()) for line in lines] == ['#ff0000', '#008000', '#ff0000']
    legend = board.render().axes[0].get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ['a', 'b', 'c']


def test_figure_keeps_its_grid_and_size_over_repeated_renders():
    board = d2l.ProgressBoard(display=False)
    with matplotlib.rc_context({'figure.figsize': (6.0, 4.0)}):  # e.g. after d2l.set_figsize
        for i in range(4):
            board.draw(i, float(i), 'loss')
            fig = board.render()
    assert tuple(fig.get_size_inches()) == (3.5, 2.5)
    ax = fig.axes[0]
    assert all(g.get_visible() for g in ax.get_xgridlines() + ax.get_ygridlines())
    wide = d2l.ProgressBoard(figsize=(5, 3), display=False)
    assert tuple(wide.render().get_size_inches()) == (5, 3)


def test_title_fits_in_the_figure(clock):
    """Even a long title (slow epochs, long ETA) stays inside the small default figure and
    in small type."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    board = d2l.ProgressBoard(display=False)
    board.draw(0, 1.0, 'loss')
    clock[0] += 120.0
    board.end_epoch(_trainer(11, 200, gpus=[]))
    assert 'ETA 22560 s' in board.title  # 120 s/epoch x 188 epochs to go
    fig = board.render()
    FigureCanvasAgg(fig).draw()
    extent = fig.axes[0].title.get_window_extent()
    assert fig.axes[0].get_title() == board.title
    assert extent.x0 >= 0 and extent.x1 <= fig.bbox.x1
    ax = fig.axes[0]  # a status line, in smaller type than the axis labels
    assert ax.title.get_fontsize() < min(ax.xaxis.label.get_fontsize(),
                                         ax.yaxis.label.get_fontsize())


def test_board_draws_on_the_axes_it_was_given():
    ax = Figure().add_subplot()
    board = d2l.ProgressBoard(axes=ax, display=False)
    board.draw(0, 1.0, 'loss')
    board.draw(1, 2.0, 'loss')
    fig = board.render()
    assert fig is ax.figure and fig.axes == [ax]
    assert _ydata(fig) == [1.0, 2.0]


def test_board_draws_on_the_first_axes_of_the_figure_it_was_given():
    fig = Figure()
    ax = fig.add_subplot()
    board = d2l.ProgressBoard(fig=fig, display=False)
    board.draw(0, 1.0, 'loss')
    assert board.render() is fig and fig.axes == [ax]
    assert _ydata(fig) == [1.0]


# -- end of the cell -------------------------------------------------------------------------
def test_live_board_draws_its_last_points_when_the_cell_ends(monkeypatch, clock, screen):
    monkeypatch.setenv('D2LMINI_BOARD', 'live')
    shell = _shell(monkeypatch, kernel=True)
    board = d2l.ProgressBoard()
    for i in range(3):  # one display, then a burst within min_interval
        board.draw(i, float(i), 'loss')
    assert len(screen.shown) == 1 and screen.updates == []
    shell.events.cell_finished()  # no time passed: the update is forced anyway
    assert len(screen.updates) == 1 and _ydata(screen.updates[0]) == [0.0, 1.0, 2.0]
    assert shell.events.callbacks == []
    clock[0] += 1.0  # a later cell gets a figure of its own
    board.draw(3, 3.0, 'loss')
    assert len(screen.shown) == 2 and screen.shown[1][1] == {'display_id': True}
    assert len(screen.updates) == 1


def test_hidden_board_shows_nothing_when_the_cell_ends(monkeypatch, clock, screen):
    monkeypatch.setenv('D2LMINI_BOARD', 'static')
    shell = _shell(monkeypatch, kernel=False)
    board = d2l.ProgressBoard()
    board.draw(0, 1.0, 'loss')
    board.display = False  # e.g. a check re-running the model switched it off
    shell.events.cell_finished()
    assert screen.shown == [] and screen.updates == [] and shell.events.callbacks == []


def test_board_switched_from_live_to_static_shows_a_new_figure(monkeypatch, clock, screen):
    monkeypatch.setenv('D2LMINI_BOARD', 'live')
    shell = _shell(monkeypatch, kernel=True)
    board = d2l.ProgressBoard()
    board.draw(0, 0.0, 'loss')
    clock[0] += 1.0
    board.draw(1, 1.0, 'loss')  # slow points: redrawn in place, nothing left for the cell end
    assert len(screen.shown) == 1 and len(screen.updates) == 1
    monkeypatch.setenv('D2LMINI_BOARD', 'static')
    clock[0] += 1.0
    board.draw(2, 2.0, 'loss')
    shell.events.cell_finished()
    assert len(screen.shown) == 2 and len(screen.updates) == 1  # the old figure stays as it was
    assert _ydata(screen.shown[1][0]) == [0.0, 1.0, 2.0]


def test_slow_live_board_gets_a_new_figure_in_the_next_cell(monkeypatch, clock, screen):
    # every point arrives after min_interval: the end of the first cell must still release the
    # figure, or fitting again in a later cell redraws the earlier cell's figure
    monkeypatch.setenv('D2LMINI_BOARD', 'live')
    shell = _shell(monkeypatch, kernel=True)
    board = d2l.ProgressBoard()
    for i in range(3):
        clock[0] += 1.0
        board.draw(i, float(i), 'loss')
    assert len(screen.shown) == 1 and len(screen.updates) == 2
    shell.events.cell_finished()
    clock[0] += 1.0
    board.draw(3, 3.0, 'loss')  # the next cell
    assert len(screen.shown) == 2 and _ydata(screen.shown[1][0]) == [0.0, 1.0, 2.0, 3.0]
