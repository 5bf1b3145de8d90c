"""Import torchvision even where its compiled extension cannot load.

The registry's torchvision 0.28.0 wheel for Linux is a CUDA build. Beside a
CPU-only torch (the pinned environment of the book's CPU machines), its
extension fails to load and ``import torchvision`` then dies with "operator
torchvision::nms does not exist", because its Python side registers fake
kernels for operators the extension would have defined. Declaring the two
missing operator schemas first lets datasets, transforms and models import
(the detection ops stay unusable there).

The workaround is applied only after trying to load the extension the normal
way fails; on a normal install (CUDA torch, macOS, Colab) it does nothing.
``import d2lmini`` applies it, so that notebooks simply ``import torchvision``
after importing d2lmini.
"""
import importlib.util
import os
import sys

import torch

_LIB = None  # keeps the schema registration alive


def prepare_torchvision():
    """Make a later ``import torchvision`` work; called by ``import d2lmini``.

    Does nothing when torchvision is not installed, when it was imported already,
    or when its compiled extension loads (every normal install). Returns whether
    the missing operator schemas had to be declared.
    """
    global _LIB
    spec = importlib.util.find_spec('torchvision')
    if spec is None or 'torchvision' in sys.modules or _LIB is not None:
        return False
    if _extension_loads(os.path.dirname(spec.origin)):
        return False
    try:
        torch.ops.torchvision.nms.default  # noqa: B018 (defined elsewhere already?)
        return False
    except (AttributeError, RuntimeError):
        _LIB = torch.library.Library('torchvision', 'DEF')
        _LIB.define('nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor')
        _LIB.define('qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor')
        return True


def import_torchvision():
    """``import torchvision``, working around a CUDA-only extension on CPU torch."""
    if importlib.util.find_spec('torchvision') is None:
        raise ImportError('torchvision is not installed: pip install torchvision '
                          '(or the pinned version from requirements.txt)')
    prepare_torchvision()
    import torchvision
    return torchvision


def _extension_loads(folder):
    for name in os.listdir(folder):
        if name.startswith('_C') and name.endswith(('.so', '.pyd', '.dylib')):
            try:
                torch.ops.load_library(os.path.join(folder, name))
                return True
            except (OSError, RuntimeError):
                return False
    return False
