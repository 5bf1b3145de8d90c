"""corr2d, init_cnn and LeNet."""
import pytest
import torch
from torch import nn
from torch.nn import functional as F

import d2lmini as d2l


def test_corr2d_equals_conv2d_without_flipping():
    torch.manual_seed(0)
    X, K = torch.randn(7, 9), torch.randn(3, 2)
    expected = F.conv2d(X[None, None], K[None, None])[0, 0]
    assert torch.allclose(d2l.corr2d(X, K), expected, atol=1e-6)


def test_corr2d_rejects_impossible_shapes():
    with pytest.raises(ValueError, match='larger than the input'):
        d2l.corr2d(torch.ones(2, 2), torch.ones(3, 1))
    with pytest.raises(ValueError, match='two matrices'):
        d2l.corr2d(torch.ones(1, 4, 4), torch.ones(2, 2))


def test_init_cnn_is_xavier_uniform_on_conv_and_linear_only():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 64, 5), nn.BatchNorm2d(64), nn.Flatten(),
                        nn.Linear(400, 300))
    bn_before = net[1].weight.clone()
    net.apply(d2l.init_cnn)
    conv_bound = (6 / (3 * 25 + 64 * 25)) ** 0.5
    assert net[0].weight.abs().max() <= conv_bound
    assert net[0].weight.std().item() == pytest.approx(conv_bound / 3 ** 0.5, rel=0.05)
    assert torch.equal(net[1].weight, bn_before)


def test_lenet_shapes_and_apply_init(capsys):
    model = d2l.LeNet()
    model.apply_init([torch.zeros(2, 1, 28, 28)], d2l.init_cnn)
    assert model(torch.zeros(5, 1, 28, 28)).shape == (5, 10)
    model.layer_summary((1, 1, 28, 28))
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 12 and lines[5].split()[-4:] == ['torch.Size([1,', '16,', '5,', '5])']


def test_expect_can_skip_the_improvement_check_for_stalled_runs(monkeypatch):
    monkeypatch.setenv('D2LMINI_PROFILE', 'quick')
    board = d2l.ProgressBoard(display=False)
    for x, y in [(1, 0.10), (2, 0.09)]:
        board.draw(x, y, 'val_acc')

    class Run:
        pass
    Run.board = board
    with pytest.raises(AssertionError):
        d2l.expect(Run, 'val_acc', above=0.7)
    assert d2l.expect(Run, 'val_acc', above=0.7, quick_improves=False) == pytest.approx(0.09)
