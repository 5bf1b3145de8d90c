"""Device helpers with d2l's names: ``cpu``, ``gpu``, ``num_gpus``, ``try_gpu``,
``try_all_gpus``."""
import os

import torch


def cpu():
    """The CPU device."""
    return torch.device('cpu')


def gpu(i=0):
    """The ``i``-th CUDA device (not checked: use :func:`try_gpu` to fall back)."""
    return torch.device(f'cuda:{i}')


def num_gpus():
    """How many CUDA GPUs are visible."""
    return torch.cuda.device_count()


def try_gpu(i=0):
    """The ``i``-th GPU if it exists, else the CPU."""
    if num_gpus() >= i + 1:
        return gpu(i)
    return cpu()


def try_all_gpus():
    """All visible GPUs, or ``[cpu()]`` if there are none."""
    return [gpu(i) for i in range(num_gpus())] or [cpu()]


def gpus_for(requested):
    """The GPUs a Trainer asked for ``requested`` of can use, saying so when it gets fewer.

    With ``D2LMINI_REQUIRE_GPU=1`` a shortfall raises instead (for GPU test runs
    that must not quietly fall back to the CPU).
    """
    if not isinstance(requested, int) or requested < 0:
        raise ValueError(f'num_gpus must be a non-negative integer, got {requested!r}')
    found = [gpu(i) for i in range(min(requested, num_gpus()))]
    if len(found) < requested:
        where = ', '.join(map(str, found)) or 'the CPU'
        message = (f'asked for {requested} GPU(s) but {num_gpus()} '
                   f'{"is" if num_gpus() == 1 else "are"} visible')
        if os.environ.get('D2LMINI_REQUIRE_GPU', '') not in ('', '0'):
            raise RuntimeError(f'{message}; D2LMINI_REQUIRE_GPU is set, so not falling '
                               'back. Run on a machine with CUDA GPUs or unset it.')
        print(f'Trainer: {message}; training on {where}.')
    if found:
        # TF32 matrix units for float32 matmuls and convolutions: several times the
        # throughput on Ampere and later GPUs, with ~1e-3 relative error per product
        # (10-bit mantissa), usually far below the noise of SGD. Its effect on the
        # book's accuracies has not been measured yet (no GPU run so far).
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    return found
