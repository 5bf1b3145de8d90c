"""Details of d2lmini.profiles that a reader or the book build relies on: which
profile the suite picks, where notebooks write files, what ``expect`` accepts and
reports (boundaries, curves that go up and down, the log it writes), how its
validation check finds leaked training data behind capped or wrapped loaders and
how much numerical noise it tolerates, and ``check_close``'s tolerances."""
import json
import math
import pathlib
import tempfile

import pytest
import torch
from torch import nn

import d2lmini as d2l
from d2lmini import profiles
from helpers import FakeModel, Labelled, ShellEvents


@pytest.fixture
def log(tmp_path, monkeypatch):
    """The check log that ``make outputs`` asks for; returns a reader of its records."""
    path = tmp_path / 'checks.jsonl'
    monkeypatch.setenv('D2LMINI_CHECK_LOG', str(path))
    return lambda: [json.loads(line) for line in path.read_text(encoding='utf-8').splitlines()]


class Leaky(Labelled):
    """Validates on the training split: the mistake expect() must catch."""
    def val_dataloader(self):
        return self.get_dataloader(train=True)


def regression():
    model = d2l.LinearRegression(lr=0.01)
    model.board.display = False
    return model


# -- suite_profile and build_dir --------------------------------------------------------
def test_suite_profile_is_full_only_where_a_gpu_is_visible(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    assert profiles.suite_profile() == 'full'
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    assert profiles.suite_profile() == 'quick'


def test_build_dir_follows_d2lmini_build_and_creates_nested_folders(tmp_path, monkeypatch):
    monkeypatch.setenv('D2LMINI_BUILD', str(tmp_path / 'out'))
    path = d2l.build_dir('file-io', 'run')
    assert path == tmp_path / 'out' / 'file-io' / 'run'
    assert isinstance(path, pathlib.Path) and path.is_dir()
    (path / 'x.csv').write_text('a,b\n')
    assert d2l.build_dir('file-io', 'run') == path  # a second call keeps what is there
    assert (path / 'x.csv').read_text() == 'a,b\n'
    assert d2l.build_dir() == tmp_path / 'out'


def test_build_dir_defaults_to_its_own_folder_in_the_temp_dir(tmp_path, monkeypatch):
    monkeypatch.delenv('D2LMINI_BUILD', raising=False)
    monkeypatch.setattr(tempfile, 'tempdir', str(tmp_path / 'tmp'))
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'tmp').mkdir()
    root = d2l.build_dir()
    assert root.parent == tmp_path / 'tmp' and 'd2lmini' in root.name.lower()
    assert root.is_dir()
    assert d2l.build_dir('a', 'b') == root / 'a' / 'b' and (root / 'a' / 'b').is_dir()
    assert d2l.build_dir('a', 'b').is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == ['tmp']  # nothing next to the source


# -- expect: what it accepts --------------------------------------------------------------
def test_expect_takes_a_one_element_tensor(full):
    assert d2l.expect(torch.tensor(0.25), 'w error', below=1) == 0.25
    assert d2l.expect(torch.tensor([[0.5]]), 'w error', below=1) == 0.5


def test_expect_rejects_a_tensor_of_many_values_naming_its_shape():
    with pytest.raises(ValueError, match=r"single number for 'w error'.*shape \(2, 3\)"):
        d2l.expect(torch.ones(2, 3), 'w error', below=1)
    with pytest.raises(ValueError, match=r'shape \(2,\)'):
        d2l.expect(torch.ones(2), 'w error', below=1)


def test_expect_rejects_other_types_naming_them():
    with pytest.raises(TypeError, match=r'(?s)number.*tensor.*Module.*Trainer.*not str'):
        d2l.expect('0.5', 'x', below=1)
    with pytest.raises(TypeError, match='not list'):
        d2l.expect([0.5], 'x', below=1)


def test_expect_reads_the_curve_of_a_trainers_model(full):
    d2l.seed(0)
    model, trainer = regression(), d2l.Trainer(max_epochs=2)
    trainer.fit(model, Labelled(32))
    last = model.board.values('train_loss')[-1]
    assert d2l.expect(trainer, 'train_loss', below=100) == last
    with pytest.raises(AssertionError, match='expected < 1e-09'):
        d2l.expect(trainer, 'train_loss', below=1e-9)


def test_expect_lists_the_recorded_curves_when_the_metric_is_missing():
    with pytest.raises(ValueError, match="'val_acc'.*recorded: train_acc, train_loss"):
        d2l.expect(FakeModel(train_loss=[1.0], train_acc=[0.5]), 'val_acc', above=0.1)
    with pytest.raises(ValueError, match='recorded: nothing'):
        d2l.expect(FakeModel(), 'val_acc', above=0.1)


# -- expect: thresholds are strict, curves compare last with first ---------------------
def test_expect_full_thresholds_are_strict(full):
    with pytest.raises(AssertionError, match='expected < 0.5'):
        d2l.expect(0.5, 'loss', below=0.5)
    with pytest.raises(AssertionError, match='expected > 0.5'):
        d2l.expect(0.5, 'acc', above=0.5)


def test_expect_quick_thresholds_are_strict(quick):
    with pytest.raises(AssertionError, match='expected < 0.5'):
        d2l.expect(0.5, 'loss', below=0.1, quick_below=0.5)
    with pytest.raises(AssertionError, match='expected > 0.5'):
        d2l.expect(0.5, 'acc', above=0.9, quick_above=0.5)


def test_expect_quick_accepts_a_single_point_curve(quick):
    assert d2l.expect(FakeModel(val_loss=[0.7]), 'val_loss', below=0.1) == 0.7
    assert d2l.expect(FakeModel(val_acc=[0.2]), 'val_acc', above=0.9) == 0.2


def test_expect_quick_compares_the_last_value_with_the_first(quick):
    # a loss that dipped in the middle but ended above where it began did not improve
    with pytest.raises(AssertionError, match='< first value 0.9'):
        d2l.expect(FakeModel(loss=[0.9, 0.3, 1.2]), 'loss', below=0.1)
    # an accuracy that rose in the middle but ended below where it began
    with pytest.raises(AssertionError, match='> first value 0.5'):
        d2l.expect(FakeModel(acc=[0.5, 0.8, 0.4]), 'acc', above=0.9)
    with pytest.raises(AssertionError, match='> first value 0.5'):
        d2l.expect(FakeModel(acc=[0.5, 0.2, 0.3, 0.4]), 'acc', above=0.9)
    # ending better than the start passes, whatever happened in between
    assert d2l.expect(FakeModel(loss=[0.9, 1.5, 0.8]), 'loss', below=0.1) == 0.8
    assert d2l.expect(FakeModel(acc=[0.5, 0.2, 0.6]), 'acc', above=0.9) == 0.6


def test_expect_quick_a_flat_curve_did_not_improve(quick):
    with pytest.raises(AssertionError, match='first value 2'):
        d2l.expect(FakeModel(loss=[2.0, 2.0]), 'loss', below=0.1)
    with pytest.raises(AssertionError, match='first value 0.5'):
        d2l.expect(FakeModel(acc=[0.5, 0.5]), 'acc', above=0.9)


def test_expect_names_every_failed_requirement(full):
    with pytest.raises(AssertionError, match=r'acc = 0.7, expected < 0.6 and > 0.5 \(full profile\)'):
        d2l.expect(0.7, 'acc', above=0.5, below=0.6)


def test_expect_prints_what_it_checked(full, capsys):
    assert d2l.expect(0.25, 'val_loss', below=0.5) == 0.25
    assert d2l.expect(0.5, 'lr') == 0.5
    out = capsys.readouterr().out.splitlines()
    assert out == ['val_loss = 0.25 (expected < 0.5, full profile): ok',
                   'lr = 0.5 (expected finite, full profile): ok']


def test_expect_logs_metric_value_expectation_and_profile(full, log):
    d2l.expect(0.25, 'val_loss', below=0.5)
    with pytest.raises(AssertionError):
        d2l.expect(0.75, 'val_acc', above=0.8)
    ok, failed = log()
    assert set(ok) == {'what', 'detail', 'ok', 'profile', 'value'}
    assert ok['what'] == 'val_loss' and ok['ok'] is True and ok['profile'] == 'full'
    assert ok['value'] == 0.25 and '0.25' in ok['detail'] and '< 0.5' in ok['detail']
    assert failed['what'] == 'val_acc' and failed['ok'] is False and failed['value'] == 0.75
    assert '> 0.8' in failed['detail']


def test_expect_logs_in_the_quick_profile_too(quick, log):
    d2l.expect(0.5, 'x')
    (record,) = log()
    assert record['profile'] == 'quick' and record['ok'] is True and 'finite' in record['detail']


# -- expect's validation check -------------------------------------------------------------
def test_validation_check_also_runs_when_given_the_trainer(full):
    model, trainer = regression(), d2l.Trainer(max_epochs=1)
    trainer.fit(model, Leaky())
    with pytest.raises(AssertionError, match='validation data is the training data') as info:
        d2l.expect(trainer, 'val_loss', below=100)
    assert 'data.val_dataloader()' in str(info.value)  # what to use instead


def test_validation_check_of_a_model_with_a_submodule_named_model(full):
    class Wrapper(d2l.LinearRegression):
        def __init__(self):
            super().__init__(lr=0.01)
            self.board.display = False
            self.model = nn.Identity()  # a part called "model" does not make it a Trainer

        def forward(self, X):
            return self.model(self.net(X))
    model = Wrapper()
    d2l.Trainer(max_epochs=1).fit(model, Leaky())
    with pytest.raises(AssertionError, match='validation data is the training data'):
        d2l.expect(model, 'val_loss', below=100)


def test_validation_check_sees_through_the_quick_profiles_capped_loaders(quick):
    model, trainer = regression(), d2l.Trainer(max_epochs=1)
    trainer.fit(model, Leaky())
    assert not hasattr(trainer.val_dataloader, 'tensors')  # capped: the tensors are inside
    with pytest.raises(AssertionError, match='validation data is the training data'):
        d2l.expect(model, 'val_loss', below=100)


class Listed(Labelled):
    """The same data as plain lists of batches: loaders without tensors behind them."""
    def get_dataloader(self, train):
        return list(super().get_dataloader(train))


@pytest.mark.parametrize('prof', ['full', 'quick'])
def test_validation_check_accepts_loaders_without_tensors(monkeypatch, prof):
    monkeypatch.setenv('D2LMINI_PROFILE', prof)
    d2l.seed(0)
    model = regression()
    d2l.Trainer(max_epochs=2).fit(model, Listed())
    recorded = model.board.values('val_loss')[-1]
    # (trained on labels 0, validated on labels 1: the curve need not improve)
    assert d2l.expect(model, 'val_loss', below=100, quick_below=100,
                      quick_improves=False) == recorded


class Unsupervised(d2l.Module):
    """Batches of one tensor: the model reconstructs its input."""
    def __init__(self):
        super().__init__()
        self.net = nn.Linear(4, 4)
        self.board.display = False

    def loss(self, X_hat, X):
        return nn.functional.mse_loss(X_hat, X)

    def training_step(self, batch):
        l = self.loss(self(batch[0]), batch[0])
        self.plot('loss', l, train=True)
        return l

    def validation_step(self, batch):
        self.plot('loss', self.loss(self(batch[0]), batch[0]), train=False)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.05)


class Inputs(Labelled):
    def get_dataloader(self, train):
        i = slice(0, self.n) if train else slice(self.n, None)
        return self.get_tensorloader((self.X,), train, i)


def test_validation_check_of_batches_with_a_single_tensor(full):
    torch.manual_seed(0)
    model = Unsupervised()
    d2l.Trainer(max_epochs=1).fit(model, Inputs())
    assert d2l.expect(model, 'val_loss', below=100) == model.board.values('val_loss')[-1]

    class LeakyInputs(Inputs):
        def val_dataloader(self):
            return self.get_dataloader(train=True)
    model = Unsupervised()
    d2l.Trainer(max_epochs=1).fit(model, LeakyInputs())
    with pytest.raises(AssertionError, match='validation data is the training data'):
        d2l.expect(model, 'val_loss', below=100)


def test_validation_leak_is_logged_as_a_failed_check(full, log):
    model = regression()
    d2l.Trainer(max_epochs=1).fit(model, Leaky())
    with pytest.raises(AssertionError):
        d2l.expect(model, 'val_loss', below=100)
    (record,) = log()
    assert record['what'] == 'val_loss' and record['ok'] is False
    assert 'training data' in record['detail']


def test_validation_check_skips_a_fit_without_validation_data(full):
    class NoValidation(Labelled):
        def val_dataloader(self):
            return None
    model = regression()
    trainer = d2l.Trainer(max_epochs=1)
    trainer.fit(model, Labelled(32))
    trainer.fit(model, NoValidation())  # the board keeps the first fit's val_loss
    assert trainer.val_dataloader is None
    assert d2l.expect(model, 'val_loss', below=100) == model.board.values('val_loss')[-1]


def test_validation_check_skips_a_trainer_that_loaded_no_data(full):
    model = regression()
    d2l.Trainer(max_epochs=3).prepare_model(model)  # a trainer, but no data prepared yet
    for epoch, loss in [(1, 0.9), (2, 0.4)]:
        model.board.draw(epoch, loss, 'val_loss')
    assert d2l.expect(model, 'val_loss', below=0.5) == 0.4


def test_validation_check_keeps_the_models_board_and_draws_nothing(full, monkeypatch):
    shown = []
    monkeypatch.setattr(d2l.ProgressBoard, '_display', staticmethod(
        lambda obj, **kwargs: shown.append(obj)))
    monkeypatch.setenv('D2LMINI_BOARD', 'live')
    model = regression()
    d2l.Trainer(max_epochs=2).fit(model, Labelled(32))
    board, curve = model.board, model.board.values('val_loss')
    model.train(False)
    d2l.expect(model, 'val_loss', below=100)
    assert shown == []  # the re-evaluation records on a hidden board
    assert model.board is board and model.board.values('val_loss') == curve
    assert not model.training  # the mode it was in


class Drifting(d2l.Module):
    """Reports a chosen validation loss, so the recorded and re-evaluated values can differ."""
    def __init__(self, reported):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1))
        self.board.display = False
        self.reported = reported

    def training_step(self, batch):
        l = ((self.w - 1) ** 2).sum()
        self.plot('loss', l, train=True)
        return l

    def validation_step(self, batch):
        self.plot('loss', torch.tensor(self.reported, dtype=torch.float64), train=False)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def drifted(recorded, reevaluated):
    model = Drifting(recorded)
    d2l.Trainer(max_epochs=1).fit(model, Labelled(32))
    model.reported = reevaluated
    return model


def test_validation_check_tolerates_float_noise_only(full):
    # relative noise, as from non-deterministic GPU reductions, is accepted...
    assert d2l.expect(drifted(1.0, 1.0002), 'val_loss', below=100) == 1.0
    assert d2l.expect(drifted(250.0, 250.05), 'val_loss', below=1000) == 250.0
    # ...and so is absolute noise around a loss of zero
    assert d2l.expect(drifted(0.0, 3e-6), 'val_loss', below=100) == 0.0
    # a real difference is not
    with pytest.raises(AssertionError, match=r'recorded 1\b.*gives 1.01.*model\.eval\(\)'):
        d2l.expect(drifted(1.0, 1.01), 'val_loss', below=100)
    with pytest.raises(AssertionError, match='evaluation mode'):
        d2l.expect(drifted(0.0, 1e-3), 'val_loss', below=100)


def test_validation_mismatch_is_logged_as_a_failed_check(full, log):
    with pytest.raises(AssertionError):
        d2l.expect(drifted(1.0, 1.01), 'val_loss', below=100)
    (record,) = log()
    assert record['what'] == 'val_loss' and record['ok'] is False
    assert '1.01' in record['detail'] and 'recorded 1' in record['detail']


# -- check_close -------------------------------------------------------------------------
def test_check_close_of_empty_tensors_agrees_with_no_difference(capsys):
    assert d2l.check_close(torch.empty(0), [], 'no rows') == 0.0
    assert d2l.check_close(torch.empty(0, 3), torch.zeros(0, 3), 'no rows') == 0.0
    assert capsys.readouterr().out.splitlines() == ['no rows: ok (largest difference 0)'] * 2


def test_check_close_uses_the_given_tolerances():
    assert d2l.check_close(100.0, 100.5, 'big', rtol=1e-2) == pytest.approx(0.5)
    with pytest.raises(AssertionError, match=r'differ by up to 0.5.*rtol=1e-05'):
        d2l.check_close(100.0, 100.5, 'big')
    assert d2l.check_close(0.0, 5e-4, 'tiny', atol=1e-3) == pytest.approx(5e-4)
    with pytest.raises(AssertionError, match=r'tiny: .*atol=1e-08'):
        d2l.check_close(0.0, 5e-4, 'tiny')


def test_check_close_does_not_call_nan_equal():
    with pytest.raises(AssertionError, match='nan result'):
        d2l.check_close(torch.tensor([1.0, math.nan]), [1.0, math.nan], 'nan result')


def test_check_close_accepts_tensors_that_need_grad(capsys):
    w = torch.ones(2, requires_grad=True)
    assert d2l.check_close(w * 2, [2.0, 2.0], 'grad') == 0.0
    assert capsys.readouterr().out == 'grad: ok (largest difference 0)\n'


def test_check_close_logs_what_it_compared(log):
    d2l.check_close(torch.ones(3), [1, 1, 1.5], 'ones', atol=1.0)
    with pytest.raises(AssertionError):
        d2l.check_close(torch.ones(3), [1, 1, 1.5], 'halves')
    passed, failed = log()
    assert passed['what'] == 'ones' and passed['ok'] is True
    assert 'largest difference 0.5' in passed['detail'] and 'atol=1' in passed['detail']
    assert failed['what'] == 'halves' and failed['ok'] is False


# -- the board and Module.forward (core) ------------------------------------------------------
def test_board_has_no_points_for_a_curve_it_never_recorded():
    board = d2l.ProgressBoard(display=False)
    assert board.points('val_loss') == [] and board.values('val_loss') == []
    board.draw(1, 0.5, 'train_loss')
    assert board.points('val_loss') == []
    assert board.points('train_loss') == [(1.0, 0.5)]


def test_module_forward_names_the_model_the_shape_and_the_cause():
    class Tiny(d2l.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Linear(4, 1)
    with pytest.raises(d2l.ShapeError) as info:
        Tiny()(torch.zeros(3, 5))
    message, cause = str(info.value), info.value.__cause__
    assert isinstance(cause, RuntimeError) and str(cause) and str(cause) in message
    assert message.startswith('Tiny cannot process an input of shape (3, 5): ')
    assert 'check the shape the data module produces' in message


def test_module_without_net_says_what_to_do():
    with pytest.raises(NotImplementedError, match=r'self\.net.*forward\(\)'):
        d2l.Module()(torch.zeros(1))


def test_live_board_redraws_at_most_every_min_interval_but_always_at_epoch_end(monkeypatch):
    from types import SimpleNamespace
    from d2lmini import board as board_module
    clock = [100.0]
    monkeypatch.setattr(board_module, 'time', SimpleNamespace(perf_counter=lambda: clock[0]))
    shown, updates = [], []

    class Handle:
        def update(self, obj):
            updates.append(obj)

    def display(obj, **kwargs):
        shown.append(kwargs)
        return Handle()
    monkeypatch.setattr(d2l.ProgressBoard, '_display', staticmethod(display))
    monkeypatch.setenv('D2LMINI_BOARD', 'live')
    board = d2l.ProgressBoard()
    for i in range(5):  # a burst of points: one figure, no redraws
        board.draw(i, float(i), 'loss')
    assert shown == [{'display_id': True}] and updates == []
    clock[0] += board.min_interval
    board.draw(5, 5.0, 'loss')  # min_interval has passed: redraw in place
    assert len(shown) == 1 and len(updates) == 1
    board.end_epoch(SimpleNamespace(epoch=0, max_epochs=2, gpus=[]))  # forced, no time passed
    assert len(shown) == 1 and len(updates) == 2
    assert board.values('loss') == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]


def test_linear_regression_starts_from_small_weights_and_zero_bias():
    torch.manual_seed(0)
    model = d2l.LinearRegression(lr=0.03)
    model(torch.zeros(1, 200))  # the lazy layer creates its parameters
    w, b = model.get_w_b()
    assert w.shape == (1, 200) and torch.all(b == 0)
    assert abs(w.mean().item()) < 0.005 and 0.005 < w.std().item() < 0.015  # N(0, 0.01^2)


def test_static_board_shows_its_figure_once_when_the_cell_ends(monkeypatch):
    from types import SimpleNamespace
    from d2lmini import board as board_module

    shell = SimpleNamespace(events=ShellEvents())  # an IPython shell that is not a kernel
    monkeypatch.setattr(board_module, '_ipython', lambda: shell)
    shown = []
    monkeypatch.setattr(d2l.ProgressBoard, '_display', staticmethod(
        lambda obj, **kwargs: shown.append(obj)))
    monkeypatch.setenv('D2LMINI_BOARD', 'static')
    board = d2l.ProgressBoard()
    for i in range(4):
        board.draw(i, float(i), 'loss')
    assert len(shell.events.callbacks) == 1 and shown == []  # once per cell, not per point
    shell.events.cell_finished()
    assert shell.events.callbacks == [] and len(shown) == 1
    (line,) = shown[0].axes[0].get_lines()
    assert list(line.get_ydata()) == [0.0, 1.0, 2.0, 3.0]
    board.draw(4, 4.0, 'loss')  # the next cell shows the figure again
    shell.events.cell_finished()
    assert len(shown) == 2 and shell.events.callbacks == []


def test_seed_repeats_python_numpy_and_torch_draws():
    import random
    import numpy as np

    def draws(*args):
        d2l.seed(*args)
        return random.random(), float(np.random.rand()), torch.rand(1).item()
    assert draws() == draws(0)  # the default seed is 0
    assert draws(3) == draws(3)
    assert draws(3) != draws(4)
