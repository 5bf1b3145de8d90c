"""Chapter 8: batch normalization from scratch, Residual, ResNeXtBlock, and the quick
profile's budget for large images."""
import pytest
import torch
from torch import nn
from torch.nn import functional as F

import d2lmini as d2l


# -- batch normalization from scratch ----------------------------------------------------
def _run_side_by_side(ours, theirs, shape, steps=4):
    """Train both layers on the same minibatches, compare everything, then evaluate."""
    torch.manual_seed(0)
    for _ in range(steps):
        X = (torch.randn(shape) * 3 + 2).requires_grad_()
        Y_ours, Y_theirs = ours(X), theirs(X)
        torch.testing.assert_close(Y_ours, Y_theirs, rtol=1e-5, atol=1e-5)
        weights = torch.randn(shape)
        g_ours = torch.autograd.grad((Y_ours * weights).sum(), [X, ours.gamma, ours.beta])
        g_theirs = torch.autograd.grad((Y_theirs * weights).sum(), [X, theirs.weight, theirs.bias])
        for a, b in zip(g_ours, g_theirs):
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(ours.running_mean, theirs.running_mean)
    torch.testing.assert_close(ours.running_var, theirs.running_var)  # unbiased, like PyTorch
    ours.eval(), theirs.eval()
    X = torch.randn(shape) * 3 + 2
    torch.testing.assert_close(ours(X), theirs(X), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(ours(X[:1]), theirs(X[:1]), rtol=1e-5, atol=1e-5)  # one example


@pytest.mark.parametrize('momentum, eps', [(0.1, 1e-5), (0.3, 1e-3)])
def test_batch_norm_matches_batchnorm2d_on_4d_inputs(momentum, eps):
    _run_side_by_side(d2l.BatchNorm(5, num_dims=4, eps=eps, momentum=momentum),
                      nn.BatchNorm2d(5, eps=eps, momentum=momentum), (6, 5, 4, 3))


@pytest.mark.parametrize('momentum, eps', [(0.1, 1e-5), (0.3, 1e-3)])
def test_batch_norm_matches_batchnorm1d_on_2d_inputs(momentum, eps):
    _run_side_by_side(d2l.BatchNorm(7, num_dims=2, eps=eps, momentum=momentum),
                      nn.BatchNorm1d(7, eps=eps, momentum=momentum), (10, 7))


def test_batch_norm_follows_train_and_eval_not_grad_mode():
    layer = d2l.BatchNorm(3, num_dims=2)
    X = torch.randn(8, 3) * 5 + 1
    with torch.no_grad():  # still training mode: minibatch statistics, running stats move
        Y = layer(X)
    torch.testing.assert_close(Y.mean(dim=0), torch.zeros(3), atol=1e-5, rtol=0)
    assert not torch.equal(layer.running_mean, torch.zeros(3))
    layer.eval()
    before = layer.running_mean.clone()
    layer(X)  # evaluation with grad enabled: running statistics, nothing updated
    assert torch.equal(layer.running_mean, before)


def test_batch_norm_state_buffers_and_parameters():
    layer = d2l.BatchNorm(4, num_dims=4)
    assert [name for name, _ in layer.named_parameters()] == ['gamma', 'beta']
    assert set(layer.state_dict()) == {'gamma', 'beta', 'running_mean', 'running_var'}
    assert layer.to(torch.float64).running_var.dtype == torch.float64


def test_batch_norm_errors():
    with pytest.raises(ValueError, match='num_dims'):
        d2l.BatchNorm(3, num_dims=3)
    with pytest.raises(ValueError, match='4-D'):
        d2l.BatchNorm(3, num_dims=4)(torch.randn(2, 3))
    with pytest.raises(ValueError, match='more than one value'):
        d2l.BatchNorm(3, num_dims=2)(torch.randn(1, 3))
    with pytest.raises(ValueError, match='2 or 4'):
        d2l.batch_norm(torch.randn(2, 3, 4), torch.ones(3), torch.zeros(3), torch.zeros(3),
                       torch.ones(3), 1e-5, 0.1, True)


# -- residual blocks ------------------------------------------------------------------------
def test_residual_shapes_and_shortcut():
    X = torch.randn(4, 3, 6, 6)
    assert d2l.Residual(3)(X).shape == (4, 3, 6, 6)
    assert d2l.Residual(6, use_1x1conv=True, strides=2)(X).shape == (4, 6, 3, 3)
    assert d2l.Residual(6, use_1x1conv=True)(X).shape == (4, 6, 6, 6)


def test_residual_is_the_identity_when_its_last_scale_is_zero():
    block = d2l.Residual(3)
    X = torch.rand(4, 3, 6, 6)  # non-negative, so the final ReLU keeps it
    block(X)
    with torch.no_grad():
        block.bn2.weight.zero_()
        block.bn2.bias.zero_()
    torch.testing.assert_close(block(X), X)


def test_residual_refuses_shapes_it_cannot_add():
    with pytest.raises(ValueError, match='use_1x1conv=True'):
        d2l.Residual(3, strides=2)
    with pytest.raises(ValueError, match='does not match'):
        d2l.Residual(6)(torch.randn(2, 3, 6, 6))


def test_resnext_block_groups_are_the_group_width():
    block = d2l.ResNeXtBlock(32, 16, 1)
    X = torch.randn(2, 32, 8, 8)
    assert block(X).shape == (2, 32, 8, 8)
    assert block.conv2.groups == 2 and block.conv2.weight.shape == (32, 16, 3, 3)
    wide = d2l.ResNeXtBlock(256, 4, 0.5)
    wide(torch.randn(1, 256, 4, 4))
    assert wide.conv1.out_channels == 128 and wide.conv2.groups == 32
    down = d2l.ResNeXtBlock(64, 16, 0.25, use_1x1conv=True, strides=2)
    assert down(X).shape == (2, 64, 4, 4) and down.conv2.groups == 1


def test_resnext_block_errors():
    with pytest.raises(ValueError, match='groups of 32'):
        d2l.ResNeXtBlock(48, 32, 1)
    with pytest.raises(ValueError, match='use_1x1conv=True'):
        d2l.ResNeXtBlock(32, 16, 1, strides=2)
    with pytest.raises(ValueError, match='does not match'):
        d2l.ResNeXtBlock(32, 16, 1)(torch.randn(2, 16, 8, 8))


def test_grouped_convolution_is_separate_convolutions():
    torch.manual_seed(0)
    X = torch.randn(2, 8, 5, 5)
    conv = nn.Conv2d(8, 6, 3, padding=1, groups=2, bias=False)
    by_hand = torch.cat([F.conv2d(X[:, :4], conv.weight[:3], padding=1),
                         F.conv2d(X[:, 4:], conv.weight[3:], padding=1)], dim=1)
    torch.testing.assert_close(conv(X), by_hand)


# -- the quick profile's budget for large images ---------------------------------------------
def _loader(side, batch_size=128, shuffle=True, n=1000):
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (n, 1, 28, 28), dtype=torch.uint8, generator=g)
    labels = torch.randint(0, 10, (n,), generator=g)
    return d2l.ImageLoader(images, labels, batch_size, shuffle=shuffle, resize=side), images


def test_quick_budget_serves_one_fixed_batch_for_large_images(quick):
    loader, images = _loader(224)
    budget = (d2l.ImageLoader.QUICK_LARGE_BATCH, d2l.ImageLoader.QUICK_LARGE_STEPS)
    assert len(loader) == budget[1]
    batches = list(loader)
    assert len(batches) == budget[1]
    first = d2l.scale_and_resize(images[:budget[0]], (224, 224))
    for X, y in batches:
        assert X.shape == (budget[0], 1, 224, 224)
        torch.testing.assert_close(X, first)
    assert [b[1].tolist() for b in list(loader)] == [b[1].tolist() for b in batches]


def test_quick_budget_validation_reads_the_first_images(quick):
    loader, images = _loader(96, shuffle=False)
    size, count = d2l.ImageLoader.QUICK_LARGE_BATCH, d2l.ImageLoader.QUICK_LARGE_VAL_BATCHES
    batches = list(loader)
    assert len(loader) == len(batches) == count
    torch.testing.assert_close(torch.cat([X for X, _ in batches]),
                               d2l.scale_and_resize(images[:size * count], (96, 96)))


def test_quick_budget_leaves_small_images_and_the_full_profile_alone(quick, monkeypatch):
    for side in (28, 32):
        loader, _ = _loader(side, batch_size=128)
        assert len(loader) == 8 and len(next(iter(loader))[1]) == 128
    monkeypatch.setenv('D2LMINI_PROFILE', 'full')
    loader, _ = _loader(224, batch_size=128)
    assert len(loader) == 8 and next(iter(loader))[0].shape == (128, 1, 224, 224)


def test_quick_budget_respects_smaller_batches(quick):
    loader, _ = _loader(64, batch_size=1)
    assert next(iter(loader))[0].shape == (1, 1, 64, 64)


class _TinyCNN(d2l.Classifier):
    def __init__(self, lr=0.1):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(nn.Conv2d(1, 4, 5, stride=4), nn.ReLU(),
                                 nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(16, 10))


class _Data(d2l.DataModule):
    def __init__(self):
        super().__init__()
        self.loaders = {train: _loader(64, shuffle=train)[0] for train in (True, False)}

    def get_dataloader(self, train):
        return self.loaders[train]


@pytest.mark.parametrize('broken', [False, True])
def test_quick_budget_run_learns_and_its_check_catches_an_optimizer_that_never_steps(
        quick, monkeypatch, broken):
    if broken:
        monkeypatch.setattr(torch.optim.SGD, 'step', lambda self, *a, **k: None)
    d2l.seed(0)
    model, trainer = _TinyCNN(lr=0.5), d2l.Trainer(max_epochs=5)
    trainer.fit(model, _Data())
    assert trainer.num_train_batches == d2l.ImageLoader.QUICK_LARGE_STEPS
    losses = model.board.values('train_loss')
    assert len(losses) == 4  # two points per epoch, two epochs
    if broken:
        assert max(losses) - min(losses) < 1e-6  # the same batch, the same weights
        with pytest.raises(AssertionError):
            d2l.expect(model, 'train_loss', below=1.0, quick_below=losses[0] - 0.05)
    else:
        d2l.expect(model, 'train_loss', below=1.0, quick_below=losses[0] - 0.05)
