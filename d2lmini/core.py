"""``Module``, ``DataModule`` and ``Trainer``: the three classes every training
run of the book is built from (sections 3.2, 3.4, 4.3, 6.4, 6.7).

The methods here are the code the notebooks show; ``tests/test_package_sync.py``
fails if a notebook and this file drift apart.
"""
import copy
import math

import torch
from torch import nn

import d2lmini as d2l


class Module(d2l.nn_Module, d2l.HyperParameters):
    """The base class of the book's models."""
    def __init__(self, plot_train_per_epoch=2, plot_valid_per_epoch=1):
        super().__init__()
        self.save_hyperparameters()
        self.board = d2l.ProgressBoard()

    def loss(self, y_hat, y):
        raise NotImplementedError

    def forward(self, X):
        if not hasattr(self, 'net'):
            raise NotImplementedError('set self.net in __init__ or override forward()')
        try:
            return self.net(X)
        except RuntimeError as e:  # name the input shape, the usual culprit
            raise d2l.ShapeError(self, X, e) from e

    def plot(self, key, value, train):
        """Record one value of the curve ``key`` on the board."""
        trainer = self.trainer
        if train:
            x = trainer.train_batch_idx / trainer.num_train_batches
            every_n = trainer.num_train_batches // self.plot_train_per_epoch
        else:
            x = trainer.epoch + 1
            every_n = trainer.num_val_batches // self.plot_valid_per_epoch
        self.board.xlabel = 'epoch'
        label = ('train_' if train else 'val_') + key
        self.board.draw(x, value, label, every_n=max(1, every_n))

    def training_step(self, batch):
        l = self.loss(self(*batch[:-1]), batch[-1])
        self.plot('loss', l, train=True)
        return l

    def validation_step(self, batch):
        l = self.loss(self(*batch[:-1]), batch[-1])
        self.plot('loss', l, train=False)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.lr)

    def apply_init(self, inputs, init=None):
        """Run one forward pass to create lazy parameters, then apply ``init``."""
        self.forward(*inputs)
        if init is not None:
            self.net.apply(init)


class TensorLoader:
    """Minibatches sliced from tensors that are already in memory.

    Indexing whole tensors is much faster than PyTorch's ``DataLoader``, which
    fetches and collates one example at a time. With ``shuffle=True`` every
    pass draws a new random order.
    """
    def __init__(self, tensors, batch_size, shuffle=False):
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f'batch_size must be a positive integer, got {batch_size!r}')
        sizes = {len(t) for t in tensors}
        if len(sizes) != 1:
            raise ValueError(f'all tensors need the same first dimension, got {sorted(sizes)}')
        self.tensors, self.batch_size, self.shuffle = tuple(tensors), batch_size, shuffle
        self.num_examples = sizes.pop()

    def to(self, device):
        """The same loader (subclasses included) over copies of the tensors on ``device``."""
        moved = copy.copy(self)
        moved.tensors = tuple(t.to(device) for t in self.tensors)
        return moved

    def __len__(self):
        return math.ceil(self.num_examples / self.batch_size)

    def __iter__(self):
        n, size = self.num_examples, self.batch_size
        if self.shuffle:
            order = torch.randperm(n, device=self.tensors[0].device)
            for start in range(0, n, size):
                idx = order[start:start + size]  # index_select: ~100x faster than t[idx] on images
                yield tuple(t.index_select(0, idx) for t in self.tensors)
        else:
            for start in range(0, n, size):
                yield tuple(t[start:start + size] for t in self.tensors)


def loader_for(loader, device):
    """A data loader as the Trainer uses it: data that lives in tensors moved
    to ``device`` once (instead of every batch), and in the quick profile capped
    at ``QUICK_MAX_BATCHES`` batches. Other loaders pass through unchanged."""
    if loader is None:
        return None
    if isinstance(loader, TensorLoader) and loader.tensors[0].device != torch.device(device):
        loader = loader.to(device)
    return d2l.capped_batches(loader)


class ShapeError(RuntimeError):
    """A model could not process an input: says which model and which shape."""
    def __init__(self, model, X, error):
        super().__init__(
            f'{type(model).__name__} cannot process an input of shape {tuple(X.shape)}: '
            f'{error}\nIf the images were resized, the size may be too small for this '
            'model; otherwise check the shape the data module produces.')


class DataModule(d2l.HyperParameters):
    """The base class of the book's datasets.

    ``root`` is the data folder (default: d2lmini's cache, ``d2l.data_dir()``, as a
    path string, so that code passing ``root=self.root`` to torchvision works);
    ``num_workers`` is accepted for d2l's signature and unused: the book's loaders
    slice tensors and need no worker processes.
    """
    def __init__(self, root=None, num_workers=4):
        if root is None:
            root = str(d2l.data_dir())
        self.save_hyperparameters()

    def get_dataloader(self, train):
        raise NotImplementedError

    def train_dataloader(self):
        return self.get_dataloader(train=True)

    def val_dataloader(self):
        return self.get_dataloader(train=False)

    def get_tensorloader(self, tensors, train, indices=slice(0, None)):
        tensors = tuple(a[indices] for a in tensors)
        return d2l.TensorLoader(tensors, self.batch_size, shuffle=train)


class Trainer(d2l.HyperParameters):
    """Fit a Module to the data of a DataModule."""
    def __init__(self, max_epochs, num_gpus=0, gradient_clip_val=0):
        self.save_hyperparameters()
        self.max_epochs = d2l.capped_epochs(max_epochs)  # fewer in the quick profile
        self.gpus = d2l.gpus_for(num_gpus)  # the visible GPUs among those asked for

    def prepare_data(self, data):
        device = self.gpus[0] if self.gpus else d2l.cpu()
        self.train_dataloader = d2l.loader_for(data.train_dataloader(), device)
        self.val_dataloader = d2l.loader_for(data.val_dataloader(), device)
        self.num_train_batches = len(self.train_dataloader)
        self.num_val_batches = (len(self.val_dataloader)
                                if self.val_dataloader is not None else 0)

    def prepare_model(self, model):
        model.trainer = self
        model.board.xlim = [0, self.max_epochs]
        if self.gpus:
            model.to(self.gpus[0])
        self.model = model

    def fit(self, model, data):
        self.prepare_data(data)
        self.prepare_model(model)
        self.optim = model.configure_optimizers()
        self.epoch = 0
        self.train_batch_idx = 0
        self.val_batch_idx = 0
        for self.epoch in range(self.max_epochs):
            self.fit_epoch()
            model.board.end_epoch(self)

    def prepare_batch(self, batch):
        if self.gpus:
            batch = [a.to(self.gpus[0]) for a in batch]
        return batch

    def fit_epoch(self):
        self.model.train()
        for batch in self.train_dataloader:
            loss = self.model.training_step(self.prepare_batch(batch))
            self.optim.zero_grad()
            loss.backward()
            if self.gradient_clip_val > 0:
                self.clip_gradients(self.gradient_clip_val, self.model)
            self.optim.step()
            self.train_batch_idx += 1
        if self.val_dataloader is None:
            return
        self.model.eval()
        with torch.no_grad():
            for batch in self.val_dataloader:
                self.model.validation_step(self.prepare_batch(batch))
                self.val_batch_idx += 1

    def clip_gradients(self, grad_clip_val, model):
        """Rescale all gradients so that their joint norm is at most ``grad_clip_val``."""
        params = [p for p in model.parameters() if p.requires_grad and p.grad is not None]
        norm = torch.sqrt(sum(torch.sum(p.grad ** 2) for p in params))
        scale = (grad_clip_val / (norm + 1e-6)).clamp(max=1.0)  # no host sync
        with torch.no_grad():
            for p in params:
                p.grad.mul_(scale)
