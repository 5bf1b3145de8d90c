"""Fashion-MNIST's tensor-resident pipeline, the Classifier, and d2l compatibility."""
import gzip
import os

import pytest
import torch
from torch import nn

import d2lmini as d2l
from d2lmini import classification as cls

needs_mirror = pytest.mark.skipif(not os.environ.get('D2LMINI_MIRROR'),
                                  reason='Fashion-MNIST needs the data mirror (D2LMINI_MIRROR)')


@pytest.fixture(scope='module')
def fmnist():
    return d2l.FashionMNIST(batch_size=256)


@needs_mirror
def test_dataset_shapes_labels_and_pixel_statistics(fmnist):
    assert (len(fmnist.train), len(fmnist.val)) == (60000, 10000)
    X, y = fmnist._splits['train']
    assert X.dtype == torch.uint8 and X.shape == (60000, 1, 28, 28)
    assert torch.bincount(y).tolist() == [6000] * 10
    assert X.float().mean().item() / 255 == pytest.approx(0.2860, abs=1e-4)
    image, label = fmnist.train[0]
    assert image.shape == (1, 28, 28) and 0 <= image.min() and image.max() <= 1
    assert fmnist.text_labels([label]) == ['ankle boot']


@needs_mirror
def test_batches_cover_the_epoch_and_match_the_dataset(fmnist):
    loader = fmnist.get_dataloader(train=False)
    assert len(loader) == 40  # ceil(10000 / 256)
    batches = list(loader)
    assert sum(len(y) for _, y in batches) == 10000
    X0, y0 = batches[0]
    assert X0.dtype == torch.float32 and X0.shape == (256, 1, 28, 28)
    assert torch.equal(X0[3], fmnist.val[3][0]) and y0[3].item() == fmnist.val[3][1]


@needs_mirror
@pytest.mark.parametrize('size', [(32, 32), (224, 224), (20, 20), (96, 64)])
def test_resize_matches_torchvision(fmnist, size):
    from d2lmini._compat import import_torchvision
    tv = import_torchvision()
    from torchvision.transforms import functional as TF
    images = fmnist._splits['val'][0][:16]
    ours = cls.scale_and_resize(images, size)
    for img, mine in zip(images, ours):
        pil = TF.to_pil_image(img)
        reference = TF.to_tensor(TF.resize(pil, list(size)))
        assert mine.shape == reference.shape
        # PIL rounds to whole grey levels; allow two levels where it rounds differently
        assert (mine - reference).abs().max().item() <= 2.5 / 255
        assert (mine - reference).abs().mean().item() < 0.5 / 255
    assert tv.__version__


@pytest.mark.parametrize('bad', [0, -3, (28, 0), (28.0, 28), 'big', (1, 2, 3)])
def test_invalid_resize_is_a_clear_error(bad):
    with pytest.raises(ValueError, match='resize must be'):
        d2l.check_resize(bad)


def test_resize_too_small_for_the_model_names_the_shape():
    net = nn.Sequential(nn.Conv2d(1, 4, kernel_size=5), nn.MaxPool2d(2),
                        nn.Conv2d(4, 4, kernel_size=5))
    model = d2l.Classifier()
    model.net = net
    with pytest.raises(d2l.ShapeError, match=r'(?s)shape \(2, 1, 8, 8\).*too small'):
        model(torch.zeros(2, 1, 8, 8))


def test_corrupt_idx_file_is_a_clear_error(tmp_path):
    path = tmp_path / 'bad-idx3-ubyte.gz'
    with gzip.open(path, 'wb') as f:
        f.write(b'\x00\x00\x08\x03' + (100).to_bytes(4, 'big') + (28).to_bytes(4, 'big') * 2
                + b'\x00' * 500)
    with pytest.raises(ValueError, match='truncated'):
        cls._read_idx(path)


def test_loader_for_moves_tensor_data_and_caps_in_quick(monkeypatch):
    monkeypatch.setenv('D2LMINI_PROFILE', 'quick')
    loader = cls.ImageLoader(torch.zeros(5000, 1, 28, 28, dtype=torch.uint8),
                             torch.zeros(5000, dtype=torch.long), batch_size=10, resize=(14, 14))
    ready = d2l.loader_for(loader, d2l.cpu())
    assert len(ready) == d2l.profiles.QUICK_MAX_BATCHES
    X, _ = next(iter(ready))
    assert X.shape == (10, 1, 14, 14)
    plain = [(torch.zeros(2), torch.zeros(2))] * 3
    assert list(d2l.loader_for(plain, d2l.cpu())) == plain  # other loaders pass through


def test_classifier_accuracy_and_loss():
    model = d2l.Classifier()
    Y_hat = torch.tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    Y = torch.tensor([1, 1, 1])
    assert model.accuracy(Y_hat, Y).item() == pytest.approx(2 / 3)
    assert model.accuracy(Y_hat, Y, averaged=False).tolist() == [1, 0, 1]
    expected = nn.functional.cross_entropy(Y_hat, Y)
    assert model.loss(Y_hat, Y).item() == pytest.approx(expected.item())


@needs_mirror
def test_d2l_style_code_keeps_working(monkeypatch, fmnist):
    """A reader's d2l code: subclass Classifier, override get_dataloader with a DataLoader."""
    monkeypatch.setenv('D2LMINI_PROFILE', 'quick')
    monkeypatch.setenv('D2LMINI_BOARD', 'off')

    class MyData(d2l.FashionMNIST):
        def get_dataloader(self, train):
            data = self.train if train else self.val
            return torch.utils.data.DataLoader(data, self.batch_size, shuffle=train)

    class MyModel(d2l.Classifier):
        def __init__(self, lr):
            super().__init__()
            self.save_hyperparameters()
            self.net = nn.Sequential(nn.Flatten(), nn.LazyLinear(10))

    d2l.seed(0)
    data = MyData(batch_size=64)
    X, y = next(iter(data.train_dataloader()))
    assert X.shape == (64, 1, 28, 28) and y.shape == (64,)
    model = MyModel(lr=0.1)
    d2l.Trainer(max_epochs=1).fit(model, data)
    assert model.board.values('val_acc')[-1] > 0.5


@needs_mirror
def test_softmax_regression_learns_in_the_quick_profile(monkeypatch, fmnist):
    monkeypatch.setenv('D2LMINI_PROFILE', 'quick')
    monkeypatch.setenv('D2LMINI_BOARD', 'off')
    d2l.seed(0)
    model = d2l.SoftmaxRegression(num_outputs=10, lr=0.1)
    d2l.Trainer(max_epochs=10).fit(model, fmnist)
    acc = model.board.values('val_acc')
    assert len(acc) == 2 and acc[-1] > 0.7


@needs_mirror
def test_decoded_tensors_are_cached_and_a_damaged_cache_is_rebuilt(tmp_path, capsys):
    first = cls.load_fashion_mnist_tensors(tmp_path)
    cached = list((tmp_path / 'FashionMNIST').glob('decoded-*.pt'))
    assert len(cached) == 1 and not list((tmp_path / 'FashionMNIST').glob('*.part'))
    for raw in (tmp_path / 'FashionMNIST' / 'raw').iterdir():
        raw.unlink()  # the second load must not need the raw files
    again = cls.load_fashion_mnist_tensors(tmp_path)
    assert torch.equal(again['val'][0], first['val'][0])
    cached[0].write_bytes(b'not a tensor file')
    rebuilt = cls.load_fashion_mnist_tensors(tmp_path)  # raw files come back from the mirror
    assert torch.equal(rebuilt['train'][1], first['train'][1])
    assert 'decoding again' in capsys.readouterr().out


@needs_mirror
def test_fresh_decode_matches_an_independent_reading_of_the_idx_files(tmp_path):
    """Pixels and labels against the IDX format read by hand: big-endian header, then the
    images row by row (a transposed or shifted decoder fails here, even on a fresh cache)."""
    import struct
    import numpy as np
    tensors = cls.load_fashion_mnist_tensors(str(tmp_path))  # decodes from the raw files
    for split, (images, labels) in (('train', ('train-images-idx3-ubyte.gz',
                                               'train-labels-idx1-ubyte.gz')),
                                    ('val', ('t10k-images-idx3-ubyte.gz',
                                             't10k-labels-idx1-ubyte.gz'))):
        with gzip.open(tmp_path / 'FashionMNIST' / 'raw' / images, 'rb') as f:
            magic, n, rows, cols = struct.unpack('>IIII', f.read(16))
            pixels = np.frombuffer(f.read(), dtype=np.uint8)
        with gzip.open(tmp_path / 'FashionMNIST' / 'raw' / labels, 'rb') as f:
            magic_l, n_l = struct.unpack('>II', f.read(8))
            truth = np.frombuffer(f.read(), dtype=np.uint8)
        assert (magic, magic_l, rows, cols) == (2051, 2049, 28, 28) and n == n_l
        X, y = tensors[split]
        assert X.shape == (n, 1, 28, 28) and y.shape == (n,)
        rng = np.random.default_rng(0)
        for i in rng.integers(0, n, 20):
            expected = pixels[i * 784:(i + 1) * 784].reshape(28, 28)  # row-major, as the spec says
            assert np.array_equal(X[i, 0].numpy(), expected), f'{split} image {i}'
            assert not np.array_equal(expected, expected.T)
        assert np.array_equal(y.numpy(), truth)
    # and a well-known fact: the first training image is an ankle boot (label 9)
    assert tensors['train'][1][0].item() == 9
