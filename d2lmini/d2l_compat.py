"""d2l's framework aliases, for compatibility only.

The original book writes its code once for several frameworks, so its printed
PyTorch code calls framework functions through aliases: ``d2l.reshape(X, (2,
3))``, ``d2l.concat(...)``, ``d2l.tensor(...)``. This book's notebooks call torch
directly; these names exist so that code copied from the original book keeps
working with ``import d2lmini as d2l``. Each is plain torch under d2l's name,
with d2l's meaning.
"""
import torch

__all__ = [
    'ones', 'ones_like', 'zeros', 'zeros_like', 'tensor', 'arange', 'meshgrid', 'sin', 'sinh',
    'cos', 'cosh', 'tanh', 'linspace', 'exp', 'log', 'normal', 'rand', 'randn', 'matmul',
    'int32', 'int64', 'float32', 'concat', 'stack', 'abs', 'eye', 'sigmoid', 'batch_matmul',
    'numpy', 'size', 'reshape', 'to', 'reduce_sum', 'argmax', 'astype', 'transpose',
    'reduce_mean', 'expand_dims', 'swapaxes', 'repeat',
]

ones, ones_like, zeros, zeros_like = torch.ones, torch.ones_like, torch.zeros, torch.zeros_like
tensor, arange, meshgrid, linspace = torch.tensor, torch.arange, torch.meshgrid, torch.linspace
sin, sinh, cos, cosh, tanh = torch.sin, torch.sinh, torch.cos, torch.cosh, torch.tanh
exp, log, abs, eye, sigmoid = torch.exp, torch.log, torch.abs, torch.eye, torch.sigmoid
normal, rand, randn, matmul = torch.normal, torch.rand, torch.randn, torch.matmul
int32, int64, float32 = torch.int32, torch.int64, torch.float32
concat, stack, batch_matmul = torch.cat, torch.stack, torch.bmm


def numpy(x, *args, **kwargs):
    """``x`` as a NumPy array (detached from the autograd graph)."""
    return x.detach().numpy(*args, **kwargs)


def size(x, *args, **kwargs):
    """The number of elements of ``x``."""
    return x.numel(*args, **kwargs)


def reshape(x, *args, **kwargs):
    return x.reshape(*args, **kwargs)


def to(x, *args, **kwargs):
    return x.to(*args, **kwargs)


def reduce_sum(x, *args, **kwargs):
    return x.sum(*args, **kwargs)


def argmax(x, *args, **kwargs):
    return x.argmax(*args, **kwargs)


def astype(x, *args, **kwargs):
    return x.type(*args, **kwargs)


def transpose(x, *args, **kwargs):
    return x.t(*args, **kwargs)


def reduce_mean(x, *args, **kwargs):
    return x.mean(*args, **kwargs)


def expand_dims(x, *args, **kwargs):
    return x.unsqueeze(*args, **kwargs)


def swapaxes(x, *args, **kwargs):
    return x.swapaxes(*args, **kwargs)


def repeat(x, *args, **kwargs):
    return x.repeat(*args, **kwargs)
