"""Unit tests of d2lmini's core: hyperparameters, Trainer, profiles, board, devices."""
import math

import pytest
import torch
from matplotlib import pyplot as plt
from matplotlib.lines import Line2D

import d2lmini as d2l


# -- HyperParameters and add_to_class -----------------------------------------

class Point(d2l.HyperParameters):
    def __init__(self, a, b, c=3, _private=4, **extra):
        local_not_an_argument = 5  # noqa: F841
        self.save_hyperparameters(ignore=['c'])


def test_save_hyperparameters_saves_arguments_only():
    p = Point(1, 'two', c=30, size=7)
    assert (p.a, p.b, p.size) == (1, 'two', 7)
    assert p.hparams == {'a': 1, 'b': 'two', 'size': 7}
    assert not hasattr(p, 'c')               # ignored
    assert not hasattr(p, '_private')        # private names are skipped
    assert not hasattr(p, 'local_not_an_argument')


def test_add_to_class_adds_a_method_to_existing_instances():
    class A:
        pass
    a = A()

    @d2l.add_to_class(A)
    def double(self, x):
        return 2 * x
    assert a.double(21) == 42


# -- training recovers the true parameters (R1, R2) ----------------------------

def test_scratch_regression_recovers_w_and_b(full):
    d2l.seed(0)
    w, b = torch.tensor([2, -3.4]), 4.2
    data = d2l.SyntheticRegressionData(w, b)
    model = d2l.LinearRegressionScratch(2, lr=0.03)
    d2l.Trainer(max_epochs=3).fit(model, data)
    assert torch.allclose(model.w.detach().reshape(-1), w, atol=0.3)
    assert abs(model.b.item() - b) < 0.35
    assert model.board.values('val_loss')[-1] < 0.1


def test_concise_regression_recovers_w_and_b(full):
    d2l.seed(0)
    w, b = torch.tensor([2, -3.4]), 4.2
    data = d2l.SyntheticRegressionData(w, b)
    model = d2l.LinearRegression(lr=0.03)
    d2l.Trainer(max_epochs=3).fit(model, data)
    w_hat, b_hat = model.get_w_b()
    assert torch.allclose(w_hat.reshape(-1), w, atol=0.02)
    assert abs(b_hat.item() - b) < 0.02


def test_lazy_linear_gets_the_stated_normal_init():
    d2l.seed(0)
    model = d2l.LinearRegression(lr=0.03)
    model(torch.randn(4, 1000))
    assert 0.008 < model.net.weight.std().item() < 0.012
    assert model.net.bias.item() == 0


def test_quick_profile_runs_are_deterministic(quick):
    def run():
        d2l.seed(1)
        data = d2l.SyntheticRegressionData(torch.tensor([1.0, 2.0]), 0.5)
        model = d2l.LinearRegressionScratch(2, lr=0.03)
        d2l.Trainer(max_epochs=3).fit(model, data)
        return model.w.detach().clone()
    assert torch.equal(run(), run())


# -- profiles ------------------------------------------------------------------

def test_quick_profile_caps_epochs_and_batches(quick):
    data = d2l.SyntheticRegressionData(torch.tensor([1.0]), 0.0, num_train=10_000,
                                       num_val=5_000, batch_size=10)
    model = d2l.LinearRegressionScratch(1, lr=0.01)
    trainer = d2l.Trainer(max_epochs=10)
    trainer.fit(model, data)
    assert trainer.max_epochs == d2l.profiles.QUICK_MAX_EPOCHS
    assert trainer.num_train_batches == d2l.profiles.QUICK_MAX_BATCHES
    assert trainer.train_batch_idx == d2l.profiles.QUICK_MAX_EPOCHS * d2l.profiles.QUICK_MAX_BATCHES
    assert trainer.val_batch_idx == d2l.profiles.QUICK_MAX_EPOCHS * d2l.profiles.QUICK_MAX_BATCHES


def test_full_profile_does_not_cap(full):
    loader = d2l.TensorLoader((torch.zeros(1000, 1),), batch_size=1)
    assert d2l.capped_batches(loader) is loader
    assert d2l.capped_epochs(50) == 50


def test_unknown_profile_is_a_clear_error(monkeypatch):
    monkeypatch.setenv('D2LMINI_PROFILE', 'fast')
    with pytest.raises(ValueError, match='full, quick'):
        d2l.profile()


def test_expect_checks_full_figures_and_quick_improvement(monkeypatch):
    class Run:  # stands in for a trained Module
        board = d2l.ProgressBoard(display=False)
    for x, y in [(1, 0.9), (2, 0.5), (3, 0.2)]:
        Run.board.draw(x, torch.tensor(y), 'val_loss')
    monkeypatch.setenv('D2LMINI_PROFILE', 'full')
    assert d2l.expect(Run, 'val_loss', below=0.25) == pytest.approx(0.2)
    with pytest.raises(AssertionError, match='expected < 0.1'):
        d2l.expect(Run, 'val_loss', below=0.1)
    monkeypatch.setenv('D2LMINI_PROFILE', 'quick')
    d2l.expect(Run, 'val_loss', below=0.1)   # quick: improved from 0.9 to 0.2
    with pytest.raises(AssertionError, match='first value'):
        d2l.expect(Run, 'val_loss', above=0.95)  # an accuracy that fell would fail
    with pytest.raises(AssertionError, match='NaN'):
        d2l.expect(float('nan'), 'w error', below=1)
    with pytest.raises(ValueError, match='val_loss'):
        d2l.expect(Run, 'val_acc', above=0.5)


# -- Trainer details -------------------------------------------------------------

def test_clip_gradients_bounds_the_norm():
    model = torch.nn.Linear(3, 2)
    for p in model.parameters():
        p.grad = torch.full_like(p, 10.0)
    trainer = d2l.Trainer(max_epochs=1)
    trainer.clip_gradients(1.0, model)
    norm = math.sqrt(sum((p.grad ** 2).sum().item() for p in model.parameters()))
    assert norm == pytest.approx(1.0, rel=1e-4)
    trainer.clip_gradients(5.0, model)  # already small enough: unchanged
    norm2 = math.sqrt(sum((p.grad ** 2).sum().item() for p in model.parameters()))
    assert norm2 == pytest.approx(norm)


def test_missing_gpu_is_announced_or_refused(monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, 'device_count', lambda: 0)
    trainer = d2l.Trainer(max_epochs=1, num_gpus=1)
    assert trainer.gpus == []
    assert 'training on the CPU' in capsys.readouterr().out
    monkeypatch.setenv('D2LMINI_REQUIRE_GPU', '1')
    with pytest.raises(RuntimeError, match='D2LMINI_REQUIRE_GPU'):
        d2l.Trainer(max_epochs=1, num_gpus=1)


def test_bad_arguments_get_clear_errors():
    with pytest.raises(ValueError, match='max_epochs'):
        d2l.Trainer(max_epochs=-1)
    with pytest.raises(ValueError, match='batch_size'):
        d2l.TensorLoader((torch.zeros(4),), batch_size=0)
    with pytest.raises(ValueError, match='same first dimension'):
        d2l.TensorLoader((torch.zeros(4), torch.zeros(5)), batch_size=2)
    with pytest.raises(NotImplementedError, match='self.net'):
        d2l.Module()(torch.zeros(1))


def test_tensor_loader_covers_every_example_once_per_pass():
    X = torch.arange(10)
    loader = d2l.TensorLoader((X, X * 2), batch_size=3, shuffle=True)
    assert len(loader) == 4
    for _ in range(2):
        batches = list(loader)
        seen = torch.cat([b[0] for b in batches])
        assert sorted(seen.tolist()) == list(range(10))
        assert all(torch.equal(b[1], b[0] * 2) for b in batches)


# -- ProgressBoard -----------------------------------------------------------------

def test_board_keeps_one_line_per_curve_and_averages_every_n():
    board = d2l.ProgressBoard(display=False)
    for i in range(100):
        board.draw(i, torch.tensor(float(i)), 'loss', every_n=10)
        board.draw(i, float(-i), 'other', every_n=50)
        if i % 20 == 0:
            board.render()
    fig = board.render()
    lines = [a for a in fig.axes[0].get_children() if isinstance(a, Line2D)]
    assert sorted(line.get_label() for line in lines) == ['loss', 'other']
    assert board.values('loss') == [4.5 + 10 * k for k in range(10)]
    assert board.points('other') == [(49.0, -24.5), (99.0, -74.5)]


def test_board_prints_one_line_per_epoch_when_static(monkeypatch, capsys):
    monkeypatch.setenv('D2LMINI_PROFILE', 'full')
    monkeypatch.setenv('D2LMINI_BOARD', 'static')
    data = d2l.SyntheticRegressionData(torch.tensor([1.0]), 0.0)
    model = d2l.LinearRegressionScratch(1, lr=0.03)
    d2l.Trainer(max_epochs=3).fit(model, data)
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split(':')[0] for line in lines] == ['epoch 1/3', 'epoch 2/3', 'epoch 3/3']
    assert all('val_loss' in line and 's/epoch' in line for line in lines)


def test_board_mode_rejects_unknown_values(monkeypatch):
    monkeypatch.setenv('D2LMINI_BOARD', 'sometimes')
    with pytest.raises(ValueError, match='live, static, off'):
        d2l.board.board_mode()


def test_live_board_updates_one_figure_in_place(monkeypatch, capsys):
    """Live mode: one display, then updates of the same display id; no text lines."""
    from IPython.core.displaypub import DisplayPublisher
    from IPython.core.interactiveshell import InteractiveShell

    class Recorder(DisplayPublisher):
        def publish(self, data, metadata=None, source=None, *, transient=None,
                    update=False, **kwargs):
            calls.append(('update' if update else 'display', (transient or {}).get('display_id'),
                          'image/svg+xml' in data))

    calls = []
    plt.close('all')
    InteractiveShell.clear_instance()  # a shell left by another test may hold its boards' callbacks
    monkeypatch.setenv('D2LMINI_PROFILE', 'full')
    monkeypatch.setenv('D2LMINI_BOARD', 'live')
    shell = InteractiveShell.instance()
    try:
        monkeypatch.setattr(shell, 'display_pub', Recorder(shell=shell))
        data = d2l.SyntheticRegressionData(torch.tensor([1.0]), 0.0)
        model = d2l.LinearRegressionScratch(1, lr=0.03)
        d2l.Trainer(max_epochs=3).fit(model, data)
        shell.events.trigger('post_execute')  # the end of the cell
    finally:
        InteractiveShell.clear_instance()
    kinds = [kind for kind, _, _ in calls]
    assert kinds[0] == 'display' and set(kinds[1:]) == {'update'} and len(kinds) >= 4
    assert len({display_id for _, display_id, _ in calls}) == 1
    assert all(svg for _, _, svg in calls)
    assert capsys.readouterr().out == ''
    assert model.board.title.startswith('3 epochs')
