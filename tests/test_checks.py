"""Behaviour tests that fail when the book's machinery is broken: every branch of
``expect``, the Trainer's loop (shuffling, clipping, evaluation mode, the split it
validates on, counters across fits, device moves), ``apply_init``, the board's last
point, the per-example loss, and the quick profile's determinism *with* training."""
import math

import pytest
import torch
from torch import nn

import d2lmini as d2l
from d2lmini import profiles
from helpers import FakeModel, Labelled


# -- expect ------------------------------------------------------------------------
def test_expect_full_checks_below_and_above(full):
    assert d2l.expect(FakeModel(train_loss=[2.0, 0.4]), 'train_loss', below=0.5) == 0.4
    with pytest.raises(AssertionError, match='expected < 0.3'):
        d2l.expect(FakeModel(train_loss=[2.0, 0.4]), 'train_loss', below=0.3)
    with pytest.raises(AssertionError, match='expected > 0.5'):
        d2l.expect(FakeModel(train_acc=[0.1, 0.4]), 'train_acc', above=0.5)
    d2l.expect(FakeModel(train_acc=[0.1, 0.6]), 'train_acc', above=0.5)


def test_expect_full_needs_every_check_to_pass(full):
    with pytest.raises(AssertionError):  # above passes, below fails: all(), not any()
        d2l.expect(0.7, 'x', above=0.5, below=0.6)
    with pytest.raises(AssertionError):
        d2l.expect(0.4, 'x', above=0.5, below=0.6)
    assert d2l.expect(0.55, 'x', above=0.5, below=0.6) == 0.55


def test_expect_full_ignores_quick_thresholds(full):
    assert d2l.expect(0.9, 'x', below=1.0, quick_below=0.1) == 0.9


def test_expect_quick_checks_quick_thresholds(quick):
    with pytest.raises(AssertionError, match='< 0.5'):
        d2l.expect(0.6, 'x', below=0.1, quick_below=0.5)
    with pytest.raises(AssertionError, match='> 0.7'):
        d2l.expect(0.6, 'x', above=0.9, quick_above=0.7)
    assert d2l.expect(0.6, 'x', below=0.1, quick_below=0.65) == 0.6
    d2l.expect(0.6, 'x', above=0.9)  # a number has no curve: only finiteness in quick


def test_expect_quick_requires_improvement_of_a_curve(quick):
    with pytest.raises(AssertionError, match='first value'):
        d2l.expect(FakeModel(train_loss=[2.0, 2.1]), 'train_loss', below=0.1)
    with pytest.raises(AssertionError, match='first value'):
        d2l.expect(FakeModel(train_acc=[0.5, 0.4]), 'train_acc', above=0.9)
    d2l.expect(FakeModel(train_loss=[2.0, 1.9]), 'train_loss', below=0.1)
    d2l.expect(FakeModel(train_loss=[2.0, 2.1]), 'train_loss', below=0.1,
               quick_improves=False)


@pytest.mark.parametrize('profile', ['full', 'quick'])
def test_expect_rejects_non_finite_values(monkeypatch, profile):
    monkeypatch.setenv('D2LMINI_PROFILE', profile)
    for bad in (math.nan, math.inf):
        with pytest.raises(AssertionError, match='diverged'):
            d2l.expect(FakeModel(train_loss=[1.0, bad]), 'train_loss', below=10)


def test_expect_explains_a_missing_metric():
    with pytest.raises(ValueError, match='recorded: train_loss'):
        d2l.expect(FakeModel(train_loss=[1.0]), 'val_loss', below=1)
    with pytest.raises(TypeError):
        d2l.expect('0.5', 'x', below=1)


def test_expect_logs_every_check(tmp_path, monkeypatch, full):
    log = tmp_path / 'checks.jsonl'
    monkeypatch.setenv('D2LMINI_CHECK_LOG', str(log))
    d2l.expect(0.2, 'loss', below=0.5)
    with pytest.raises(AssertionError):
        d2l.expect(0.7, 'loss', below=0.5)
    lines = log.read_text().splitlines()
    assert len(lines) == 2 and '"ok": true' in lines[0] and '"ok": false' in lines[1]


def test_check_close():
    assert d2l.check_close(torch.ones(3), [1, 1, 1 + 1e-9], 'ones') < 1e-8
    with pytest.raises(AssertionError, match='differ by up to 1'):
        d2l.check_close(torch.ones(3), [1, 1, 2], 'ones')
    with pytest.raises(AssertionError, match='shapes differ'):
        d2l.check_close(torch.ones(3), torch.ones(2), 'ones')


# -- the training loop ---------------------------------------------------------------
class Recorder(d2l.LinearRegression):
    """Linear regression that records what the Trainer does with it."""
    def __init__(self, lr=0.01):
        super().__init__(lr)
        self.board.display = False
        self.train_labels, self.val_labels, self.val_modes = [], [], []

    def training_step(self, batch):
        self.train_labels.append(batch[-1].mean().item())
        return super().training_step(batch)

    def validation_step(self, batch):
        self.val_labels.append(batch[-1].mean().item())
        self.val_modes.append(self.training)
        return super().validation_step(batch)


def test_trainer_validates_on_the_validation_split_in_eval_mode(full):
    model = Recorder()
    d2l.Trainer(max_epochs=2).fit(model, Labelled())
    assert set(model.train_labels) == {0.0} and set(model.val_labels) == {1.0}
    assert model.val_modes and not any(model.val_modes)
    assert len(model.train_labels) == 2 * 8 and len(model.val_labels) == 2 * 8


def test_batch_counters_restart_with_every_fit(full):
    model, data = Recorder(), Labelled()
    trainer = d2l.Trainer(max_epochs=2)
    trainer.fit(model, data)
    first = model.board.points('train_loss')
    model.board = d2l.ProgressBoard(display=False)
    trainer.fit(model, data)
    assert [p.x for p in model.board.points('train_loss')] == [p.x for p in first]
    assert trainer.train_batch_idx == 16 and trainer.val_batch_idx == 16


def test_trainer_steps_and_zeroes_gradients(full):
    d2l.seed(0)
    data = d2l.SyntheticRegressionData(w=torch.tensor([2.0, -3.4]), b=4.2)
    model = d2l.LinearRegression(lr=0.03)
    model.board.display = False
    d2l.Trainer(max_epochs=3).fit(model, data)
    w, b = model.get_w_b()
    assert torch.allclose(w.reshape(-1), torch.tensor([2.0, -3.4]), atol=0.05)
    assert abs(b.item() - 4.2) < 0.05


def test_fit_clips_gradients_when_asked(full, monkeypatch):
    norms = []
    plain = d2l.Trainer.clip_gradients

    def spy(self, grad_clip_val, model):
        plain(self, grad_clip_val, model)
        grads = [p.grad for p in model.parameters() if p.grad is not None]
        norms.append(torch.sqrt(sum((g ** 2).sum() for g in grads)).item())
    monkeypatch.setattr(d2l.Trainer, 'clip_gradients', spy)
    model = Recorder(lr=0.5)
    d2l.Trainer(max_epochs=1, gradient_clip_val=0.01).fit(model, Labelled())
    assert len(norms) == 8 and max(norms) <= 0.01 + 1e-6
    norms.clear()
    d2l.Trainer(max_epochs=1).fit(Recorder(), Labelled())
    assert norms == []  # no clipping unless asked


def test_clip_gradients_rescales_to_the_threshold():
    model = nn.Linear(3, 2)
    for p in model.parameters():
        p.grad = torch.full_like(p, 10.0)
    d2l.Trainer(max_epochs=1).clip_gradients(1.0, model)
    norm = torch.sqrt(sum((p.grad ** 2).sum() for p in model.parameters()))
    assert abs(norm.item() - 1.0) < 1e-4
    for p in model.parameters():
        p.grad = torch.full_like(p, 0.01)
    d2l.Trainer(max_epochs=1).clip_gradients(1.0, model)
    assert all(torch.allclose(p.grad, torch.full_like(p, 0.01)) for p in model.parameters())


def test_tensorloader_shuffles_every_pass_and_keeps_order_otherwise():
    X = torch.arange(100).reshape(-1, 1)
    seen = lambda loader: torch.cat([b[0] for b in loader]).reshape(-1)  # noqa: E731
    ordered = d2l.TensorLoader((X,), 10, shuffle=False)
    assert torch.equal(seen(ordered), torch.arange(100))
    shuffled = d2l.TensorLoader((X,), 10, shuffle=True)
    a, b = seen(shuffled), seen(shuffled)
    assert sorted(a.tolist()) == list(range(100)) and sorted(b.tolist()) == list(range(100))
    assert not torch.equal(a, torch.arange(100)) and not torch.equal(a, b)


def test_loader_for_moves_tensor_data_to_the_device_once(full):
    loader = d2l.TensorLoader((torch.zeros(10, 2), torch.zeros(10)), 4)
    moved = d2l.loader_for(loader, torch.device('meta'))
    tensors = moved.tensors if hasattr(moved, 'tensors') else moved.loader.tensors
    assert all(t.device.type == 'meta' for t in tensors)
    assert all(t.device.type == 'cpu' for t in loader.tensors)  # the original is untouched
    assert d2l.loader_for(None, 'cpu') is None
    plain = [(torch.zeros(2), torch.zeros(2))]
    assert d2l.loader_for(plain, torch.device('meta')) is plain  # other loaders pass through


def test_apply_init_initializes_the_lazy_layers():
    model = d2l.LeNet()

    def halves(module):
        if type(module) in (nn.Linear, nn.Conv2d):
            nn.init.constant_(module.weight, 0.5)
    model.apply_init([torch.zeros(1, 1, 28, 28)], halves)
    weights = [m.weight for m in model.net if type(m) in (nn.Linear, nn.Conv2d)]
    assert len(weights) == 5 and all(torch.all(w == 0.5) for w in weights)


def test_per_example_loss_and_accuracy():
    model = d2l.SoftmaxRegression(3, lr=0.1)
    Y_hat = torch.tensor([[5.0, 0, 0], [0, 5.0, 0], [0, 0, 5.0], [5.0, 0, 0]])
    Y = torch.tensor([0, 1, 0, 0])
    per = model.loss(Y_hat, Y, averaged=False)
    assert per.shape == (4,) and per[2] > per[0] + 4
    assert torch.allclose(per.mean(), model.loss(Y_hat, Y))
    assert model.accuracy(Y_hat, Y, averaged=False).tolist() == [1, 1, 0, 1]
    assert model.accuracy(Y_hat, Y).item() == 0.75


def test_board_keeps_the_last_point_and_draws_it():
    board = d2l.ProgressBoard(display=False)
    for i in range(1, 11):
        board.draw(i, float(i), 'y', every_n=5)
    assert board.points('y') == [(5.0, 3.0), (10.0, 8.0)]
    fig = board.render()
    (line,) = fig.axes[0].get_lines()
    assert list(line.get_xdata()) == [5.0, 10.0] and list(line.get_ydata()) == [3.0, 8.0]


# -- expect's validation check ------------------------------------------------------------
def test_expect_catches_validation_on_the_training_data(full):
    class Leaky(Labelled):
        def val_dataloader(self):
            return self.get_dataloader(train=True)
    model = Recorder()
    d2l.Trainer(max_epochs=1).fit(model, Leaky())
    with pytest.raises(AssertionError, match='validation data is the training data'):
        d2l.expect(model, 'val_loss', below=100)


def test_expect_catches_validation_in_training_mode(full):
    class DropoutRegression(d2l.LinearRegression):
        def __init__(self):
            super().__init__(lr=0.01)
            self.net = nn.Sequential(nn.Dropout(0.5), nn.Linear(4, 1))
            self.board.display = False

    class NoEvalTrainer(d2l.Trainer):
        def fit_epoch(self):
            self.model.train()
            for batch in self.train_dataloader:
                loss = self.model.training_step(self.prepare_batch(batch))
                self.optim.zero_grad()
                loss.backward()
                self.optim.step()
                self.train_batch_idx += 1
            with torch.no_grad():  # forgot self.model.eval()
                for batch in self.val_dataloader:
                    self.model.validation_step(self.prepare_batch(batch))
                    self.val_batch_idx += 1
    d2l.seed(0)
    model = DropoutRegression()
    NoEvalTrainer(max_epochs=1).fit(model, Labelled())
    with pytest.raises(AssertionError, match='evaluation mode'):
        d2l.expect(model, 'val_loss', below=100)
    d2l.seed(0)
    model = DropoutRegression()
    d2l.Trainer(max_epochs=1).fit(model, Labelled())
    d2l.expect(model, 'val_loss', below=100)  # the real Trainer passes


def test_quick_profile_trains_and_repeats_exactly(quick):
    def run():
        d2l.seed(0)
        data = d2l.SyntheticRegressionData(w=torch.tensor([2.0, -3.4]), b=4.2)
        model = d2l.LinearRegression(lr=0.03)
        model.board.display = False
        trainer = d2l.Trainer(max_epochs=5)
        trainer.fit(model, data)
        return trainer, model.board.values('val_loss')
    trainer, first = run()
    _, second = run()
    assert trainer.max_epochs == profiles.QUICK_MAX_EPOCHS
    assert first == second
    assert first[-1] < 0.1 * first[0]  # it trained: the loss fell by more than 10x
