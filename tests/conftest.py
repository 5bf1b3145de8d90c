"""Fixtures shared by the unit tests (the notebook hooks live in the root conftest.py)."""
import matplotlib
import pytest

import d2lmini as d2l
from d2lmini import data as dl


@pytest.fixture
def full(monkeypatch):
    monkeypatch.setenv('D2LMINI_PROFILE', 'full')
    monkeypatch.setenv('D2LMINI_BOARD', 'off')


@pytest.fixture
def quick(monkeypatch):
    monkeypatch.setenv('D2LMINI_PROFILE', 'quick')
    monkeypatch.setenv('D2LMINI_BOARD', 'off')


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache folder, no mirror, and DATA_HUB restored afterwards."""
    folder = tmp_path / 'cache'
    monkeypatch.setenv('D2LMINI_DATA', str(folder))
    monkeypatch.delenv('D2LMINI_MIRROR', raising=False)
    monkeypatch.setattr(dl, 'RETRY_WAIT', 0.01)
    saved = dict(d2l.DATA_HUB)
    yield folder
    d2l.DATA_HUB.clear()
    d2l.DATA_HUB.update(saved)


@pytest.fixture
def figures():
    """matplotlib without a display, no figure open before or after the test."""
    matplotlib.use('Agg', force=True)
    d2l.plt.close('all')
    yield d2l.plt
    d2l.plt.close('all')
