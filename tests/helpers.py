"""Small helpers shared by the unit tests."""
import io
import pathlib
import zipfile

import pytest
import torch

import d2lmini as d2l
from d2lmini import data as dl


def files_in(folder):
    """Every file below ``folder``, as sorted relative POSIX paths."""
    return sorted(p.relative_to(folder).as_posix()
                  for p in pathlib.Path(folder).rglob('*') if p.is_file())


def zip_bytes(members):
    """The bytes of a zip archive holding ``members`` ({name inside the archive: bytes})."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, 'w') as z:
        for name, blob in members.items():
            z.writestr(name, blob)
    return buf.getvalue()


def fetch_error(name):
    """The message of the DataUnavailable that fetching ``name`` raises."""
    with pytest.raises(dl.DataUnavailable) as info:
        d2l.fetch(name)
    return str(info.value)


class FakeBoard:
    """A board holding fixed curves, as a trained model's board would."""
    def __init__(self, curves):
        self.curves = curves

    def values(self, label):
        return list(self.curves.get(label, []))

    def labels(self):
        return list(self.curves)


class ShellEvents:
    """The part of an IPython shell's event manager the board uses; ``cell_finished()`` runs
    what was registered for the end of the cell."""
    def __init__(self):
        self.callbacks = []

    def register(self, event, f):
        self.callbacks.append((event, f))

    def unregister(self, event, f):
        self.callbacks.remove((event, f))

    def cell_finished(self):
        for event, f in list(self.callbacks):
            if event == 'post_execute':
                f()


class FakeModel:
    """What ``d2l.expect`` reads of a trained model: its board's curves."""
    def __init__(self, **curves):
        self.board = FakeBoard(curves)


class Labelled(d2l.DataModule):
    """Train and validation examples that a model can tell apart: their labels differ."""
    def __init__(self, n=64, batch_size=8):
        super().__init__()
        self.save_hyperparameters()
        g = torch.Generator().manual_seed(0)
        self.X = torch.randn(2 * n, 4, generator=g)
        self.y = torch.cat([torch.zeros(n), torch.ones(n)]).reshape(-1, 1)

    def get_dataloader(self, train):
        i = slice(0, self.n) if train else slice(self.n, None)
        return self.get_tensorloader((self.X, self.y), train, i)
