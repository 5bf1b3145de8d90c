"""Image classification: Fashion-MNIST held as tensors, the ``Classifier`` base
class and softmax regression (sections 4.2–4.5).

Fashion-MNIST is decoded once from its IDX files into ``uint8`` tensors and kept
that way (a ready-to-load copy is cached next to the raw files). A batch is an
index slice of those tensors on the training device, scaled to [0, 1] and, if
asked, resized there with ``F.interpolate``: no PIL, no per-example Python and
no worker processes.
"""
import gzip
import os
import tempfile

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

import d2lmini as d2l


def _read_idx(path):
    """A tensor from a gzipped IDX file (the format of the MNIST family)."""
    with gzip.open(path, 'rb') as f:
        raw = f.read()
    if len(raw) < 4 or raw[:2] != b'\x00\x00' or raw[2] != 0x08:
        raise ValueError(f'{path} is not an IDX file of unsigned bytes; delete it '
                         'so that it is downloaded again')
    ndim = raw[3]
    if len(raw) < 4 + 4 * ndim:
        raise ValueError(f'{path} is truncated inside its header ({len(raw)} bytes for '
                         f'{ndim} sizes); delete it so that it is downloaded again')
    dims = np.frombuffer(raw, dtype='>u4', count=ndim, offset=4).tolist()  # big-endian sizes
    body = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        raise ValueError(f'{path} is truncated: header says {dims}, found {body.size} '
                         'values; delete it so that it is downloaded again')
    return torch.from_numpy(body.copy()).reshape(dims)


def load_fashion_mnist_tensors(root=None):
    """``{'train': (images, labels), 'val': (...)}``, images ``uint8`` of shape (N, 1, 28, 28)."""
    folder = d2l.data_dir() if root is None else root
    names = {'train': ('train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz'),
             'val': ('t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz')}
    key = d2l.DATA_HUB['fashion_mnist/train-images-idx3-ubyte.gz'].sha1[:12]
    cached = os.path.join(folder, 'FashionMNIST', f'decoded-{key}.pt')
    if os.path.exists(cached):
        try:
            return torch.load(cached, weights_only=True)
        except Exception as e:  # a damaged cache is rebuilt from the checked raw files
            print(f'FashionMNIST: cached tensors {cached} unreadable ({e}); decoding again')
            os.unlink(cached)
    tensors = {}
    for split, (images, labels) in names.items():
        X = _read_idx(d2l.fetch(f'fashion_mnist/{images}', root))
        y = _read_idx(d2l.fetch(f'fashion_mnist/{labels}', root))
        if X.shape[0] != y.shape[0]:
            raise ValueError(f'Fashion-MNIST {split}: {X.shape[0]} images but '
                             f'{y.shape[0]} labels; delete the raw files under {folder}')
        tensors[split] = (X.unsqueeze(1).contiguous(), y.long())
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(cached), suffix='.part')
    os.close(fd)
    try:
        torch.save(tensors, tmp)
        os.replace(tmp, cached)
    except BaseException:
        os.unlink(tmp)
        raise
    return tensors


def check_resize(resize):
    """``resize`` as an (height, width) pair of positive ints, or a clear ValueError."""
    if isinstance(resize, int):
        resize = (resize, resize)
    try:
        h, w = resize
        ok = all(isinstance(v, int) and v > 0 for v in (h, w))
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f'resize must be a positive int or a (height, width) pair of '
                         f'positive ints, got {resize!r}')
    return (h, w)


def scale_and_resize(images, size):
    """``uint8`` images (N, C, H, W) to floats in [0, 1] of spatial size ``size``.

    Matches torchvision's ``Resize(size)`` followed by ``ToTensor()`` on the
    same images (bilinear, antialiased when shrinking) to within 1/255.
    """
    X = images.float().div_(255)
    if tuple(X.shape[-2:]) != tuple(size):
        X = F.interpolate(X, size=size, mode='bilinear', align_corners=False,
                          antialias=True).clamp_(0, 1)
    return X


class ImageLoader(d2l.TensorLoader):
    """Minibatches of (images, labels) from ``uint8`` tensors, resized per batch.

    Quick profile, large images: when the images (after resizing) have more than
    ``QUICK_LARGE_PIXELS`` pixels, as the 96 x 96 and 224 x 224 inputs of the
    networks of chapter 8 and later, which cost 100 to 1,000 times more per
    image than the 28 x 28 runs, the loader works on a fixed budget instead of
    the quick profile's 40 batches per epoch. A training (shuffling) loader
    serves one fixed batch, the first ``QUICK_LARGE_BATCH`` images,
    ``QUICK_LARGE_STEPS`` times per pass: fitting one batch, whose loss falls
    only if the model really learns; a validation loader serves its first
    ``QUICK_LARGE_VAL_BATCHES`` batches of ``QUICK_LARGE_BATCH`` images. This is
    deterministic, and it leaves the full profile and smaller images unchanged.
    """
    QUICK_LARGE_PIXELS = 32 * 32
    QUICK_LARGE_BATCH = 2
    QUICK_LARGE_STEPS = 6
    QUICK_LARGE_VAL_BATCHES = 2

    def __init__(self, images, labels, batch_size, shuffle=False, resize=None):
        super().__init__((images, labels), batch_size, shuffle)
        self.resize = None if resize is None else check_resize(resize)

    def quick_budget(self):
        """(images per batch, batches per pass) on the quick profile's budget for large
        images, or None where the ordinary batches apply."""
        height, width = self.resize or tuple(self.tensors[0].shape[-2:])
        if d2l.profile() != 'quick' or height * width <= self.QUICK_LARGE_PIXELS:
            return None
        size = min(self.batch_size, self.QUICK_LARGE_BATCH, self.num_examples)
        if self.shuffle:
            return size, self.QUICK_LARGE_STEPS
        return size, min(self.QUICK_LARGE_VAL_BATCHES, -(-self.num_examples // size))

    def __len__(self):
        budget = self.quick_budget()
        return super().__len__() if budget is None else budget[1]

    def __iter__(self):
        size = self.resize or tuple(self.tensors[0].shape[-2:])
        budget = self.quick_budget()
        if budget is None:
            batches = super().__iter__()
        elif self.shuffle:  # the same first images every time
            batches = (tuple(t[:budget[0]] for t in self.tensors) for _ in range(budget[1]))
        else:
            n = budget[0]
            batches = (tuple(t[i * n:(i + 1) * n] for t in self.tensors)
                       for i in range(budget[1]))
        for images, labels in batches:
            yield scale_and_resize(images, size), labels


class ImageDataset(torch.utils.data.Dataset):
    """Indexable view of image tensors: ``dataset[i]`` is (image, label) as d2l returns it."""
    def __init__(self, images, labels, resize):
        self.images, self.labels, self.resize = images, labels, resize

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return scale_and_resize(self.images[i:i + 1], self.resize)[0], int(self.labels[i])


class FashionMNIST(d2l.DataModule):
    """The Fashion-MNIST dataset (60,000 training and 10,000 validation images)."""
    def __init__(self, batch_size=64, resize=(28, 28)):
        super().__init__()
        self.save_hyperparameters()
        self.resize = check_resize(resize)
        self._splits = load_fashion_mnist_tensors(self.root)
        self.train = ImageDataset(*self._splits['train'], self.resize)
        self.val = ImageDataset(*self._splits['val'], self.resize)

    def text_labels(self, indices):
        """The class names of numeric labels."""
        labels = ['t-shirt', 'trouser', 'pullover', 'dress', 'coat',
                  'sandal', 'shirt', 'sneaker', 'bag', 'ankle boot']
        return [labels[int(i)] for i in indices]

    def get_dataloader(self, train):
        images, labels = self._splits['train' if train else 'val']
        return ImageLoader(images, labels, self.batch_size, shuffle=train,
                           resize=self.resize)

    def visualize(self, batch, nrows=1, ncols=8, labels=[]):
        X, y = batch
        if not labels:
            labels = self.text_labels(y)
        d2l.show_images(X.squeeze(1).cpu(), nrows, ncols, titles=labels)


class Classifier(d2l.Module):
    """The base class of classification models."""
    def validation_step(self, batch):
        Y_hat = self(*batch[:-1])
        self.plot('loss', self.loss(Y_hat, batch[-1]), train=False)
        self.plot('acc', self.accuracy(Y_hat, batch[-1]), train=False)

    def accuracy(self, Y_hat, Y, averaged=True):
        """The fraction (or, with averaged=False, the 0/1 vector) of correct predictions."""
        Y_hat = Y_hat.reshape(-1, Y_hat.shape[-1])
        correct = (Y_hat.argmax(dim=1) == Y.reshape(-1)).float()
        return correct.mean() if averaged else correct

    def loss(self, Y_hat, Y, averaged=True):
        Y_hat = Y_hat.reshape(-1, Y_hat.shape[-1])
        return F.cross_entropy(Y_hat, Y.reshape(-1),
                               reduction='mean' if averaged else 'none')

    def layer_summary(self, X_shape):
        """Print the output shape of each layer of ``self.net`` for an input of ``X_shape``."""
        X = torch.randn(*X_shape)
        for layer in self.net:
            X = layer(X)
            print(f'{layer.__class__.__name__:<12} output shape: {X.shape}')


class SoftmaxRegression(Classifier):
    """Softmax regression: one linear layer on flattened images."""
    def __init__(self, num_outputs, lr):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(nn.Flatten(), nn.LazyLinear(num_outputs))

    def forward(self, X):
        return self.net(X)
