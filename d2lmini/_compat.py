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
"""
import importlib.util
import os

import torch

_LIB = None  # keeps the schema registration alive


def import_torchvision():
    """``import torchvision``, working around a CUDA-only extension on CPU torch."""
    global _LIB
    spec = importlib.util.find_spec('torchvision')
    if spec is None:
        raise ImportError('torchvision is not installed: pip install torchvision '
                          '(or the pinned version from requirements.txt)')
    if _LIB is None and not _extension_loads(os.path.dirname(spec.origin)):
        try:
            torch.ops.torchvision.nms.default  # noqa: B018 (defined elsewhere already?)
        except (AttributeError, RuntimeError):
            _LIB = torch.library.Library('torchvision', 'DEF')
            _LIB.define('nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor')
            _LIB.define('qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor')
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
