"""Opt-in speed levers for d2lmini's Trainer, for timing on a GPU (benchmarks/d2l_compare.py).

None of these is on in the book: the notebooks train with d2lmini's plain Trainer
(float32 with TF32 matrix units, data resident on the device, resize on the device).
A benchmark switches levers on one by one or together to measure what each buys,
so that a later change to the Trainer can be chosen by measurement:

* ``bf16``: forward pass and loss under ``torch.autocast(dtype=torch.bfloat16)``;
* ``channels_last``: model and image batches in the NHWC memory layout (cuDNN's
  fastest convolutions with tensor cores);
* ``cudnn_benchmark``: ``torch.backends.cudnn.benchmark = True`` (autotuned kernels);
* ``fused_sgd``: ``torch.optim.SGD(..., fused=True)`` (one kernel for all parameters);
* ``eval_batch``: validation in batches of 1,024 instead of the training batch size.

Each lever wraps methods of one trainer, model or data module instance; nothing in
d2lmini changes. To offer a lever for real, d2lmini's Trainer would need one hook
per lever, for example: a context manager around ``training_step`` and
``validation_step`` in ``Trainer.fit_epoch`` (bf16 autocast), a memory-format
conversion in ``Trainer.prepare_model`` and ``prepare_batch`` (channels-last),
``fused=True`` in ``Module.configure_optimizers`` on CUDA, and a validation batch
size in ``DataModule.val_dataloader`` (larger evaluation batches).
"""
import functools
import os

import torch

LEVERS = ('bf16', 'channels_last', 'cudnn_benchmark', 'fused_sgd', 'eval_batch')
VARIANTS = {  # name -> levers
    'base': (),
    'bf16': ('bf16',),
    'channels_last': ('channels_last',),
    'cudnn_benchmark': ('cudnn_benchmark',),
    'fused_sgd': ('fused_sgd',),
    'eval_batch': ('eval_batch',),
    'bf16_cl': ('bf16', 'channels_last'),
    'all': LEVERS,
}
EVAL_BATCH = int(os.environ.get('GPU_EVAL_BATCH', 1024))  # smaller in CPU dry runs


def _autocast(method, device_type):
    @functools.wraps(method)
    def wrapped(*args, **kwargs):
        with torch.autocast(device_type=device_type, dtype=torch.bfloat16):
            return method(*args, **kwargs)
    return wrapped


def _channels_last(batch):
    return [a.contiguous(memory_format=torch.channels_last)
            if torch.is_tensor(a) and a.dim() == 4 and a.is_floating_point() else a
            for a in batch]


def apply(levers, trainer, model, data):
    """Switch ``levers`` on for one run of ``trainer.fit(model, data)`` (d2lmini objects)."""
    unknown = set(levers) - set(LEVERS)
    if unknown:
        raise ValueError(f'unknown levers {sorted(unknown)}; choose from {LEVERS}')
    device_type = 'cuda' if torch.cuda.is_available() else 'cpu'
    if 'cudnn_benchmark' in levers:
        torch.backends.cudnn.benchmark = True
    if 'eval_batch' in levers:
        plain = data.get_dataloader

        def get_dataloader(train):
            if train:
                return plain(train)
            saved, data.batch_size = data.batch_size, EVAL_BATCH
            try:
                return plain(train)
            finally:
                data.batch_size = saved
        data.get_dataloader = get_dataloader
    if 'bf16' in levers:
        model.training_step = _autocast(model.training_step, device_type)
        model.validation_step = _autocast(model.validation_step, device_type)
    if 'channels_last' in levers:
        plain_model, plain_batch = trainer.prepare_model, trainer.prepare_batch

        def prepare_model(m):
            plain_model(m)
            m.to(memory_format=torch.channels_last)
        trainer.prepare_model = prepare_model
        trainer.prepare_batch = lambda batch: _channels_last(plain_batch(batch))
    if 'fused_sgd' in levers:
        model.configure_optimizers = lambda: torch.optim.SGD(
            model.parameters(), lr=model.lr, fused=(device_type == 'cuda'))
