"""Modern convolutional networks (chapter 8): batch normalization from scratch
(section 8.5), the residual block of ResNet and the ResNeXt block (section 8.6),
which the design-space section 8.8 reuses.

The networks themselves (AlexNet, VGG, NiN, GoogLeNet, ResNet-18, DenseNet,
RegNetX32) are defined in their sections' notebooks, as in the original book;
only the building blocks that later sections reuse live here.
"""
import torch
from torch import nn
from torch.nn import functional as F


def batch_norm(X, gamma, beta, running_mean, running_var, eps, momentum, training):
    """Batch normalization of a minibatch ``X`` of shape (n, d) or (n, c, h, w).

    Statistics are taken per feature (2-D input) or per channel over all
    examples and positions (4-D input). In training, ``X`` is normalized with
    the minibatch's mean and biased variance, and the running estimates move a
    fraction ``momentum`` towards the minibatch's mean and unbiased variance
    (updated in place). In evaluation, the running estimates are used instead.
    The result is scaled by ``gamma`` and shifted by ``beta``.
    """
    if X.dim() not in (2, 4):
        raise ValueError(f'batch_norm takes inputs of 2 or 4 dimensions, got shape '
                         f'{tuple(X.shape)}')
    dims = (0,) if X.dim() == 2 else (0, 2, 3)  # everything except the feature/channel axis
    shape = (1, -1) if X.dim() == 2 else (1, -1, 1, 1)  # broadcasts against X
    if training:
        n = X.numel() // X.shape[1]  # values per feature or channel
        if n < 2:
            raise ValueError(f'batch_norm needs more than one value per channel in training, '
                             f'got an input of shape {tuple(X.shape)}')
        mean = X.mean(dim=dims)
        var = ((X - mean.reshape(shape)) ** 2).mean(dim=dims)
        with torch.no_grad():
            running_mean.mul_(1 - momentum).add_(momentum * mean)
            running_var.mul_(1 - momentum).add_(momentum * var * n / (n - 1))
    else:
        mean, var = running_mean, running_var
    X_hat = (X - mean.reshape(shape)) / torch.sqrt(var.reshape(shape) + eps)
    return gamma.reshape(shape) * X_hat + beta.reshape(shape)


class BatchNorm(nn.Module):
    """A batch normalization layer built on :func:`batch_norm`.

    ``num_features`` is the number of outputs of a fully connected layer
    (``num_dims=2``) or of channels of a convolution (``num_dims=4``). Like
    ``nn.BatchNorm1d``/``nn.BatchNorm2d``, it learns a scale ``gamma`` and a
    shift ``beta`` and keeps running estimates of mean and variance as buffers,
    which ``train()``/``eval()`` switch between.
    """
    def __init__(self, num_features, num_dims, eps=1e-5, momentum=0.1):
        super().__init__()
        if num_dims not in (2, 4):
            raise ValueError(f'num_dims must be 2 (fully connected) or 4 (convolution), '
                             f'got {num_dims!r}')
        self.num_dims, self.eps, self.momentum = num_dims, eps, momentum
        self.gamma = nn.Parameter(torch.ones(num_features))
        self.beta = nn.Parameter(torch.zeros(num_features))
        self.register_buffer('running_mean', torch.zeros(num_features))
        self.register_buffer('running_var', torch.ones(num_features))

    def forward(self, X):
        if X.dim() != self.num_dims:
            raise ValueError(f'this BatchNorm expects {self.num_dims}-D inputs, got shape '
                             f'{tuple(X.shape)}')
        return batch_norm(X, self.gamma, self.beta, self.running_mean, self.running_var,
                          self.eps, self.momentum, self.training)


class Residual(nn.Module):
    """The residual block of ResNet (He et al., 2016).

    Two 3x3 convolutions with ``num_channels`` outputs, each followed by batch
    normalization, with a ReLU between them; the block's input is added before
    the final ReLU. With ``strides=2`` the first convolution halves height and
    width; the input must then be projected to the new shape by a strided 1x1
    convolution (``use_1x1conv=True``), which also adapts its channel count.
    """
    def __init__(self, num_channels, use_1x1conv=False, strides=1):
        super().__init__()
        if strides != 1 and not use_1x1conv:
            raise ValueError(f'strides={strides} changes the shape of the output, so the '
                             'input cannot be added to it as it is: pass use_1x1conv=True')
        self.conv1 = nn.LazyConv2d(num_channels, kernel_size=3, padding=1, stride=strides)
        self.bn1 = nn.LazyBatchNorm2d()
        self.conv2 = nn.LazyConv2d(num_channels, kernel_size=3, padding=1)
        self.bn2 = nn.LazyBatchNorm2d()
        self.conv3 = (nn.LazyConv2d(num_channels, kernel_size=1, stride=strides)
                      if use_1x1conv else None)

    def forward(self, X):
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = self.bn2(self.conv2(Y))
        shortcut = X if self.conv3 is None else self.conv3(X)
        if shortcut.shape != Y.shape:
            raise ValueError(f'Residual: the input {tuple(X.shape)} does not match the '
                             f'output {tuple(Y.shape)}; use use_1x1conv=True to project it')
        return F.relu(Y + shortcut)


class ResNeXtBlock(nn.Module):
    """The ResNeXt block (Xie et al., 2017): a bottleneck residual block with a
    grouped 3x3 convolution.

    A 1x1 convolution reduces the input to ``num_channels * bot_mul`` channels,
    a 3x3 convolution whose channels are split into groups of ``groups``
    channels each (as in d2l, ``groups`` is the group width, so there are
    ``num_channels * bot_mul // groups`` groups) mixes each group spatially, and
    a 1x1 convolution restores ``num_channels`` channels. Every convolution is
    followed by batch normalization. ``use_1x1conv`` and ``strides`` act as in
    :class:`Residual` (the projection is batch-normalized too).
    """
    def __init__(self, num_channels, groups, bot_mul, use_1x1conv=False, strides=1):
        super().__init__()
        bot_channels = int(round(num_channels * bot_mul))
        if bot_channels % groups:
            raise ValueError(f'{bot_channels} bottleneck channels cannot be split into groups '
                             f'of {groups} channels')
        if strides != 1 and not use_1x1conv:
            raise ValueError(f'strides={strides} changes the shape of the output, so the '
                             'input cannot be added to it as it is: pass use_1x1conv=True')
        self.conv1 = nn.LazyConv2d(bot_channels, kernel_size=1)
        self.bn1 = nn.LazyBatchNorm2d()
        self.conv2 = nn.LazyConv2d(bot_channels, kernel_size=3, stride=strides, padding=1,
                                   groups=bot_channels // groups)
        self.bn2 = nn.LazyBatchNorm2d()
        self.conv3 = nn.LazyConv2d(num_channels, kernel_size=1)
        self.bn3 = nn.LazyBatchNorm2d()
        if use_1x1conv:
            self.conv4 = nn.LazyConv2d(num_channels, kernel_size=1, stride=strides)
            self.bn4 = nn.LazyBatchNorm2d()
        else:
            self.conv4 = None

    def forward(self, X):
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = F.relu(self.bn2(self.conv2(Y)))
        Y = self.bn3(self.conv3(Y))
        shortcut = X if self.conv4 is None else self.bn4(self.conv4(X))
        if shortcut.shape != Y.shape:
            raise ValueError(f'ResNeXtBlock: the input {tuple(X.shape)} does not match the '
                             f'output {tuple(Y.shape)}; use use_1x1conv=True to project it')
        return F.relu(Y + shortcut)
