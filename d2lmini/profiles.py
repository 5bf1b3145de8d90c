"""Run profiles, expected-result checks, seeding and the build folder.

``D2LMINI_PROFILE=full`` (the default) runs every training as the book describes
it. ``D2LMINI_PROFILE=quick`` is for the test suite and CPU book builds: the
Trainer caps epochs and batches, so a notebook runs in seconds, and
:func:`expect` checks a weaker but still real property instead of the published
figure.
"""
import itertools
import math
import os
import pathlib
import random
import tempfile

import numpy as np
import torch

PROFILES = ('full', 'quick')
# What the quick profile allows per training run.
QUICK_MAX_EPOCHS = 2
QUICK_MAX_BATCHES = 40


def profile():
    """The active profile: ``'full'`` unless ``D2LMINI_PROFILE`` says otherwise."""
    name = os.environ.get('D2LMINI_PROFILE', '').strip().lower() or 'full'
    if name not in PROFILES:
        raise ValueError(f'D2LMINI_PROFILE={name!r} is not a profile; '
                         f'use one of {", ".join(PROFILES)} (unset means full)')
    return name


def suite_profile():
    """The profile the test suite and the book build use unless told otherwise:
    ``full`` where a CUDA GPU is visible, ``quick`` elsewhere."""
    return 'full' if torch.cuda.is_available() else 'quick'


def capped_epochs(max_epochs):
    """``max_epochs`` in the full profile; at most QUICK_MAX_EPOCHS in quick."""
    if not isinstance(max_epochs, int) or max_epochs < 0:
        raise ValueError(f'max_epochs must be a non-negative integer, got {max_epochs!r}')
    return max_epochs if profile() == 'full' else min(max_epochs, QUICK_MAX_EPOCHS)


class _Capped:
    """A data loader that stops after ``limit`` batches (re-iterable, sized)."""
    def __init__(self, loader, limit):
        self.loader, self.limit = loader, limit

    def __len__(self):
        return min(len(self.loader), self.limit)

    def __iter__(self):
        return itertools.islice(iter(self.loader), self.limit)


def capped_batches(loader):
    """``loader`` itself in the full profile; its first QUICK_MAX_BATCHES batches in quick."""
    if loader is None or profile() == 'full':
        return loader
    return _Capped(loader, QUICK_MAX_BATCHES)


def seed(s=0):
    """Seed Python, NumPy and torch (all devices) so that runs repeat exactly."""
    random.seed(s)
    np.random.seed(s)
    torch.manual_seed(s)  # also seeds every CUDA device


def build_dir(*parts):
    """A writable folder for files that notebooks produce (created if missing).

    ``D2LMINI_BUILD`` chooses it; otherwise a ``d2lmini-build`` folder in the system's
    temporary directory. Notebooks never write next to their own source.
    """
    root = os.environ.get('D2LMINI_BUILD') or os.path.join(tempfile.gettempdir(), 'd2lmini-build')
    path = pathlib.Path(root, *parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _last(source, metric):
    """The final value of ``metric`` and its whole curve, from a number or a training run."""
    if isinstance(source, (int, float, np.floating, np.integer)):
        return float(source), None
    if isinstance(source, torch.Tensor):
        if source.numel() != 1:
            raise ValueError(f'expect() needs a single number for {metric!r}, '
                             f'got a tensor of shape {tuple(source.shape)}')
        return source.item(), None
    board = getattr(source, 'board', None)
    if board is None and hasattr(source, 'model'):  # a Trainer
        board = source.model.board
    if board is None:
        raise TypeError(f'expect() takes a number, a tensor, a Module or a Trainer, '
                        f'not {type(source).__name__}')
    curve = board.values(metric)
    if not curve:
        raise ValueError(f'no values were recorded for {metric!r}; recorded: '
                         f'{", ".join(sorted(board.labels())) or "nothing"}')
    return curve[-1], curve


def _loader_tensors(loader):
    """The tensors behind a (possibly capped) tensor-resident loader, else None."""
    while loader is not None and not hasattr(loader, 'tensors'):
        loader = getattr(loader, 'loader', None)
    return None if loader is None else loader.tensors


def _check_validation(source, metric, recorded):
    """Validation of ``source``'s last fit used held-out data and evaluation mode."""
    model = source.model if hasattr(source, 'model') and hasattr(source, 'fit') else source
    trainer = getattr(model, 'trainer', None)
    if trainer is None or getattr(trainer, 'val_dataloader', None) is None:
        return
    train, val = (_loader_tensors(trainer.train_dataloader),
                  _loader_tensors(trainer.val_dataloader))
    if train is not None and val is not None and (
            train[0] is val[0] or (train[0].shape == val[0].shape
                                   and torch.equal(train[0], val[0]))):
        _log_check(metric, 'validation read the training data', False)
        raise AssertionError(f'{metric}: the validation data is the training data; validate '
                             'on the held-out split (data.val_dataloader())')
    from .board import ProgressBoard
    board, was_training = model.board, model.training
    model.board = ProgressBoard(display=False)
    try:
        model.eval()
        with torch.no_grad():
            for batch in trainer.val_dataloader:
                model.validation_step(trainer.prepare_batch(batch))
        again = model.board.values(metric)
    finally:
        model.board = board
        model.train(was_training)
    if again and not math.isclose(again[-1], recorded, rel_tol=1e-3, abs_tol=1e-5):
        _log_check(metric, f'recorded {recorded:.4g}, re-evaluated {again[-1]:.4g}', False)
        raise AssertionError(
            f'{metric}: the run recorded {recorded:.4g}, but evaluating the trained model '
            f'on the validation data in evaluation mode gives {again[-1]:.4g}; was the '
            'validation run in training mode (model.eval()) or on other data?')


def expect(source, metric, *, below=None, above=None,
           quick_below=None, quick_above=None, quick_improves=True):
    """Check a result against the figure the book states for it.

    ``source`` is a number/tensor (then ``metric`` only names it) or a Module or
    Trainer whose board recorded ``metric`` (e.g. ``'val_loss'``). Always: the
    value is finite. Full profile: it is ``< below`` and/or ``> above``. Quick
    profile: ``quick_below``/``quick_above`` if given; for a recorded curve
    with ``below`` (``above``) the last value must also be lower (higher) than
    the first, i.e. training improved it (``quick_improves=False`` drops this for
    runs known to stall early, such as the sigmoid LeNet). Raises AssertionError
    with the numbers otherwise, and returns the value.

    For a validation metric (``val_...``) of a training run it also checks, in both
    profiles, that the run really validated on held-out data in evaluation mode:
    the validation data must not be the training data, and evaluating the trained
    model again on the validation data, in evaluation mode and without the board,
    must give the recorded value.
    """
    value, curve = _last(source, metric)
    prof = profile()
    checks = []
    if not math.isfinite(value):
        raise AssertionError(f'{metric} = {value}: training diverged or produced NaN')
    if metric.startswith('val_') and curve is not None:
        _check_validation(source, metric, value)
    if prof == 'full':
        if below is not None:
            checks.append((value < below, f'< {below}'))
        if above is not None:
            checks.append((value > above, f'> {above}'))
    else:
        if quick_below is not None:
            checks.append((value < quick_below, f'< {quick_below}'))
        if quick_above is not None:
            checks.append((value > quick_above, f'> {quick_above}'))
        if quick_improves and curve is not None and len(curve) > 1:
            if below is not None:
                checks.append((curve[-1] < curve[0], f'< first value {curve[0]:.4g}'))
            if above is not None:
                checks.append((curve[-1] > curve[0], f'> first value {curve[0]:.4g}'))
    wanted = ' and '.join(text for _, text in checks) or 'finite'
    ok = all(passed for passed, _ in checks)
    _log_check(metric, f'{value:.4g}, expected {wanted}', ok, value=value)
    if not ok:
        raise AssertionError(f'{metric} = {value:.4g}, expected {wanted} '
                             f'({prof} profile)')
    print(f'{metric} = {value:.4g} (expected {wanted}, {prof} profile): ok')
    return value


def _log_check(what, detail, ok, **extra):
    """Append one result check to the file named by D2LMINI_CHECK_LOG, if set.

    ``make outputs`` sets it, so that a stored run records every check its page made.
    """
    path = os.environ.get('D2LMINI_CHECK_LOG')
    if not path:
        return
    import json
    record = {'what': what, 'detail': detail, 'ok': bool(ok), 'profile': profile(), **extra}
    with open(path, 'a', encoding='utf-8') as f:
        f.write(json.dumps(record) + '\n')


def check_close(actual, expected, what, *, rtol=1e-5, atol=1e-8):
    """Assert that ``actual`` equals ``expected`` within tolerance, and say so.

    Both may be tensors, arrays or numbers of the same shape. Prints one line
    with the largest absolute difference when they agree; raises AssertionError
    naming ``what`` when they do not. Returns that largest difference.
    """
    a = torch.as_tensor(_detached(actual), dtype=torch.float64)
    e = torch.as_tensor(_detached(expected), dtype=torch.float64)
    if a.shape != e.shape:
        raise AssertionError(f'{what}: shapes differ, {tuple(a.shape)} vs {tuple(e.shape)}')
    diff = (a - e).abs().max().item() if a.numel() else 0.0
    ok = torch.allclose(a, e, rtol=rtol, atol=atol, equal_nan=False)
    _log_check(what, f'largest difference {diff:.2g} (rtol={rtol:g}, atol={atol:g})', ok)
    if not ok:
        raise AssertionError(f'{what}: they differ by up to {diff:.3g} '
                             f'(allowed: rtol={rtol:g}, atol={atol:g})')
    print(f'{what}: ok (largest difference {diff:.2g})')
    return diff


def _detached(value):
    if isinstance(value, torch.Tensor):
        return value.detach().cpu()
    return value
