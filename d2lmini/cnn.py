"""Convolutions: the cross-correlation of section 7.2, the CNN initializer and
LeNet (section 7.6)."""
import torch
from torch import nn

import d2lmini as d2l


def corr2d(X, K):
    """Two-dimensional cross-correlation of the matrix ``X`` with the kernel ``K``."""
    if X.dim() != 2 or K.dim() != 2:
        raise ValueError(f'corr2d takes two matrices, got shapes {tuple(X.shape)} '
                         f'and {tuple(K.shape)}')
    kh, kw = K.shape
    out_h, out_w = X.shape[0] - kh + 1, X.shape[1] - kw + 1
    if out_h < 1 or out_w < 1:
        raise ValueError(f'kernel {tuple(K.shape)} is larger than the input {tuple(X.shape)}')
    Y = torch.zeros(out_h, out_w, dtype=torch.result_type(X, K), device=X.device)
    for i in range(out_h):
        for j in range(out_w):
            Y[i, j] = (X[i:i + kh, j:j + kw] * K).sum()
    return Y


def init_cnn(module):
    """Xavier-uniform weights for linear and convolutional layers (apply with ``net.apply``)."""
    if type(module) in (nn.Linear, nn.Conv2d):
        nn.init.xavier_uniform_(module.weight)


class LeNet(d2l.Classifier):
    """LeNet-5's layout (LeCun et al., 1998) with sigmoid units and average pooling."""
    def __init__(self, lr=0.1, num_classes=10):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(
            nn.LazyConv2d(6, kernel_size=5, padding=2), nn.Sigmoid(),
            nn.AvgPool2d(kernel_size=2, stride=2),
            nn.LazyConv2d(16, kernel_size=5), nn.Sigmoid(),
            nn.AvgPool2d(kernel_size=2, stride=2),
            nn.Flatten(),
            nn.LazyLinear(120), nn.Sigmoid(),
            nn.LazyLinear(84), nn.Sigmoid(),
            nn.LazyLinear(num_classes))
