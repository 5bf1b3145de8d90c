"""Details of Fashion-MNIST decoding and caching, the Classifier, Module.plot, the Trainer's
devices and edge cases, profiles and linear regression that the broader tests leave open.

Fashion-MNIST is replaced by a tiny data set of the same format (gzipped IDX files registered
under the real names with their own sha1), so decoding, caching and error paths run in
milliseconds and need neither the mirror nor the network.
"""
import gzip
import math
from types import SimpleNamespace

import pytest
import torch
from torch import nn

import d2lmini as d2l
from d2lmini import classification as cls
from d2lmini import data as dl
from helpers import files_in

NAMES = {'train': ('train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz'),
         'val': ('t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz')}


# -- tiny IDX files and a tiny Fashion-MNIST --------------------------------------------------
def idx(dims, body, type_byte=0x08):
    """The bytes of an IDX file: two zero bytes, type, ndim, big-endian sizes, values."""
    header = b'\x00\x00' + bytes([type_byte, len(dims)])
    return header + b''.join(d.to_bytes(4, 'big') for d in dims) + bytes(body)


def write_gz(path, raw):
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, 'wb') as f:
        f.write(raw)
    return path


def tiny_fashion_mnist(folder, monkeypatch, n_train=70, n_val=3, n_train_labels=None, seed=0):
    """Write a small Fashion-MNIST into ``folder`` and register it in DATA_HUB (no URLs)."""
    g = torch.Generator().manual_seed(seed)
    sizes = {'train': (n_train, n_train if n_train_labels is None else n_train_labels),
             'val': (n_val, n_val)}
    expected = {}
    for split, (images, labels) in NAMES.items():
        n_images, n_labels = sizes[split]
        X = torch.randint(0, 256, (n_images, 28, 28), dtype=torch.uint8, generator=g)
        y = torch.randint(0, 10, (n_labels,), dtype=torch.uint8, generator=g)
        for fname, tensor in ((images, X), (labels, y)):
            rel = f'FashionMNIST/raw/{fname}'
            path = write_gz(folder / rel, idx(list(tensor.shape), tensor.flatten().tolist()))
            monkeypatch.setitem(d2l.DATA_HUB, f'fashion_mnist/{fname}',
                                dl.Resource(rel, dl.sha1_of(path), ()))
        expected[split] = (X.unsqueeze(1), y.long())
    return expected


def cache_name():
    return f"decoded-{d2l.DATA_HUB['fashion_mnist/train-images-idx3-ubyte.gz'].sha1[:12]}.pt"


def same_splits(got, expected):
    return all(torch.equal(got[s][0], expected[s][0]) and torch.equal(got[s][1], expected[s][1])
               for s in ('train', 'val'))


# -- _read_idx ------------------------------------------------------------------------------
def test_read_idx_decodes_images_and_labels(tmp_path):
    images = write_gz(tmp_path / 'images.gz', idx([2, 3, 4], range(24)))
    labels = write_gz(tmp_path / 'labels.gz', idx([3], [7, 0, 255]))
    X = cls._read_idx(images)
    assert X.dtype == torch.uint8 and torch.equal(X, torch.arange(24, dtype=torch.uint8).reshape(2, 3, 4))
    assert cls._read_idx(labels).tolist() == [7, 0, 255]


def test_read_idx_reads_every_size_as_four_big_endian_bytes(tmp_path):
    # the middle size needs all four bytes: 2**24 + 1 values announced, one present
    path = write_gz(tmp_path / 'huge.gz', idx([1, 2 ** 24 + 1, 1], [5]))
    with pytest.raises(ValueError, match='truncated') as err:
        cls._read_idx(path)
    assert '16777217' in str(err.value) and str(path) in str(err.value)


@pytest.mark.parametrize('raw', [
    b'\x01\x00\x08\x01' + (3).to_bytes(4, 'big') + b'abc',   # wrong leading bytes
    b'\x00\x01\x08\x01' + (3).to_bytes(4, 'big') + b'abc',
    b'\x00\x00\x0d\x01' + (3).to_bytes(4, 'big') + b'abcdefghijkl',  # floats, not bytes
    b'\x00\x00',                                              # shorter than the magic
    b''])
def test_foreign_or_tiny_files_are_refused_with_advice(tmp_path, raw):
    path = write_gz(tmp_path / 'foreign.gz', raw)
    with pytest.raises(ValueError, match='not an IDX file') as err:
        cls._read_idx(path)
    message = str(err.value)
    assert str(path) in message and 'delete it so that it is downloaded again' in message


def test_a_file_cut_after_its_magic_is_reported_truncated(tmp_path):
    path = write_gz(tmp_path / 'scalar.gz', b'\x00\x00\x08\x00')  # a 0-d IDX without its value
    with pytest.raises(ValueError, match='truncated') as err:
        cls._read_idx(path)
    assert 'delete it so that it is downloaded again' in str(err.value)


def test_a_file_cut_inside_its_header_is_reported_truncated(tmp_path):
    # a 3-d IDX whose header stops after the first size: numpy's own error named no file
    path = write_gz(tmp_path / 'cut.gz', b'\x00\x00\x08\x03' + (60000).to_bytes(4, 'big'))
    with pytest.raises(ValueError, match='truncated inside its header') as err:
        cls._read_idx(path)
    assert str(path) in str(err.value) and 'downloaded again' in str(err.value)


def test_an_empty_idx_file_is_an_empty_tensor(tmp_path):
    # a complete header and no values: nothing is missing
    header = b'\x00\x00\x08\x02' + (0).to_bytes(4, 'big') + (28).to_bytes(4, 'big')
    path = write_gz(tmp_path / 'empty.gz', header)
    assert cls._read_idx(path).shape == (0, 28)


def test_truncated_values_name_the_file_the_sizes_and_what_to_do(tmp_path):
    path = write_gz(tmp_path / 'short.gz', idx([2, 3], range(4)))
    with pytest.raises(ValueError, match='truncated') as err:
        cls._read_idx(path)
    message = str(err.value)
    assert str(path) in message and '[2, 3]' in message and 'found 4 values' in message
    assert 'delete it so that it is downloaded again' in message


def test_resize_of_one_pixel_is_valid():
    assert d2l.check_resize(1) == (1, 1)
    assert d2l.check_resize((1, 28)) == (1, 28)


# -- load_fashion_mnist_tensors: decoding and its cache -----------------------------------------
def test_default_folder_is_the_data_cache(cache, monkeypatch):
    expected = tiny_fashion_mnist(cache, monkeypatch)
    got = cls.load_fashion_mnist_tensors()  # no root: d2l.data_dir()
    assert same_splits(got, expected)
    assert got['train'][0].shape == (70, 1, 28, 28) and got['train'][1].dtype == torch.int64
    assert sorted(p for p in files_in(cache / 'FashionMNIST') if not p.startswith('raw/')) == [
        cache_name()]


def test_a_cache_is_used_without_the_raw_files(cache, monkeypatch, capsys):
    expected = tiny_fashion_mnist(cache, monkeypatch)
    cls.load_fashion_mnist_tensors(cache)
    for raw in (cache / 'FashionMNIST' / 'raw').iterdir():
        raw.unlink()
    assert same_splits(cls.load_fashion_mnist_tensors(cache), expected)
    assert 'decoding again' not in capsys.readouterr().out


def test_a_cache_of_other_raw_files_is_not_reused(cache, monkeypatch):
    tiny_fashion_mnist(cache, monkeypatch, seed=0)
    cls.load_fashion_mnist_tensors(cache)
    newer = tiny_fashion_mnist(cache, monkeypatch, seed=1)  # other files, other sha1s
    assert same_splits(cls.load_fashion_mnist_tensors(cache), newer)


class _Opens:
    """Unpickling this object creates a file: proof that the cache ran code."""
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return open, (self.path, 'w')


def test_a_cache_holding_code_is_never_unpickled(cache, monkeypatch, tmp_path, capsys):
    # even where the environment asks torch to unpickle anything by default
    monkeypatch.setenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')
    expected = tiny_fashion_mnist(cache, monkeypatch)
    cls.load_fashion_mnist_tensors(cache)
    marker = tmp_path / 'code-ran'
    torch.save({'train': _Opens(str(marker)), 'val': None}, cache / 'FashionMNIST' / cache_name())
    got = cls.load_fashion_mnist_tensors(cache)
    assert not marker.exists()
    assert same_splits(got, expected)  # rebuilt from the checked raw files
    assert 'decoding again' in capsys.readouterr().out


def test_more_images_than_labels_is_a_clear_error(cache, monkeypatch):
    tiny_fashion_mnist(cache, monkeypatch, n_train=5, n_train_labels=4)
    with pytest.raises(ValueError) as err:
        cls.load_fashion_mnist_tensors(cache)
    message = str(err.value)
    assert 'train' in message and '5 images but 4 labels' in message and str(cache) in message
    assert not (cache / 'FashionMNIST' / cache_name()).exists()


def test_decoding_works_when_the_system_temp_folder_is_unusable(cache, monkeypatch, tmp_path):
    """The cache is written beside itself and renamed (one filesystem, atomic)."""
    expected = tiny_fashion_mnist(cache, monkeypatch)
    monkeypatch.setattr(cls.tempfile, 'tempdir', str(tmp_path / 'no-such-folder'))
    assert same_splits(cls.load_fashion_mnist_tensors(cache), expected)
    assert (cache / 'FashionMNIST' / cache_name()).exists()


def test_a_failed_cache_write_leaves_nothing_and_reports_the_cause(cache, monkeypatch):
    tiny_fashion_mnist(cache, monkeypatch)

    def disk_full(obj, f, *args, **kwargs):
        with open(f, 'wb') as out:
            out.write(b'half a file')
        raise OSError(28, 'No space left on device')
    monkeypatch.setattr(torch, 'save', disk_full)
    with pytest.raises(OSError, match='No space left'):
        cls.load_fashion_mnist_tensors(cache)
    assert all(p.startswith('raw/') for p in files_in(cache / 'FashionMNIST'))


def test_fashion_mnist_batches_64_by_default(cache, monkeypatch):
    expected = tiny_fashion_mnist(cache, monkeypatch)
    data = d2l.FashionMNIST()
    assert len(data.train) == 70 and len(data.val) == 3
    sizes = [len(y) for _, y in data.val_dataloader()], [len(y) for _, y in data.train_dataloader()]
    assert sizes == ([3], [64, 6])
    X, y = next(iter(data.val_dataloader()))
    torch.testing.assert_close(X, expected['val'][0].float() / 255)
    assert torch.equal(y, expected['val'][1])


# -- scale_and_resize -------------------------------------------------------------------------
@pytest.mark.parametrize('size', [(7, 7), (12, 12), (20, 20), (56, 40)])
def test_resized_images_stay_within_zero_and_one(size):
    white = torch.full((2, 1, 28, 28), 255, dtype=torch.uint8)
    X = cls.scale_and_resize(white, size)
    assert X.shape == (2, 1, *size)
    assert X.max().item() <= 1.0 and X.min().item() > 0.999


# -- Classifier and Module: validation steps, accuracy, plot ---------------------------------
class Recorded:
    """A board that keeps every draw call."""
    def __init__(self):
        self.calls, self.xlabel = [], None

    def draw(self, x, y, label, every_n=1):
        self.calls.append((x, float(y), label, every_n))


def with_trainer(model, **counters):
    defaults = dict(train_batch_idx=0, num_train_batches=1, epoch=0, num_val_batches=1)
    model.trainer = SimpleNamespace(**{**defaults, **counters})
    model.board = Recorded()
    return model


def test_plot_places_training_points_at_fractional_epochs():
    model = with_trainer(d2l.Module(), train_batch_idx=6, num_train_batches=4,
                         epoch=1, num_val_batches=3)
    model.plot('loss', 0.5, train=True)
    model.plot('acc', 0.25, train=False)
    assert model.board.calls == [(1.5, 0.5, 'train_loss', 2), (2, 0.25, 'val_acc', 3)]
    assert model.board.xlabel == 'epoch'


class TwoInputs(d2l.Classifier):
    """A classifier whose batches are (X, offsets, labels)."""
    def __init__(self):
        super().__init__()
        self.net = nn.Identity()

    def forward(self, X, offsets):
        return self.net(X) + offsets


def test_classifier_validation_step_uses_all_inputs_and_the_last_item_as_labels():
    model = with_trainer(TwoInputs())
    X = torch.tensor([[2.0, 0.0, 0.0], [0.0, 2.0, 0.0]])
    offsets = torch.tensor([[0.0, 0.0, 0.0], [0.0, 0.0, 5.0]])
    y = torch.tensor([0, 1])
    model.validation_step((X, offsets, y))
    loss = nn.functional.cross_entropy(X + offsets, y).item()
    assert model.board.calls == [(1, pytest.approx(loss), 'val_loss', 1),
                                 (1, 0.5, 'val_acc', 1)]


class Shift(d2l.Module):
    def forward(self, X, shift):
        return X + shift

    def loss(self, y_hat, y):
        return ((y_hat - y) ** 2).mean()


def test_module_validation_step_uses_all_inputs_and_the_last_item_as_labels():
    model = with_trainer(Shift(), epoch=2)
    X, shift, y = torch.tensor([1.0, 2.0]), torch.tensor([1.0, 1.0]), torch.tensor([2.0, 5.0])
    model.validation_step((X, shift, y))
    assert model.board.calls == [(3, 2.0, 'val_loss', 1)]  # ((0)^2 + (2)^2) / 2


def test_accuracy_of_predictions_per_time_step():
    model = d2l.Classifier()
    Y_hat = torch.zeros(2, 3, 4)  # (batch, steps, classes)
    Y_hat[0, :, 1] = 1
    Y_hat[1, :, 3] = 1
    Y = torch.tensor([[1, 1, 0], [3, 2, 3]])
    assert model.accuracy(Y_hat, Y).item() == pytest.approx(4 / 6)
    assert model.accuracy(Y_hat, Y, averaged=False).tolist() == [1, 1, 0, 1, 0, 1]


# -- TensorLoader, Trainer -------------------------------------------------------------------
def test_tensor_loader_keeps_order_by_default():
    X = torch.arange(10)
    assert [b[0].tolist() for b in d2l.TensorLoader((X,), 4)] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_clip_gradients_leaves_tiny_gradients_alone():
    model = nn.Linear(3, 2)
    for p in model.parameters():
        p.grad = torch.full_like(p, 1e-8)  # joint norm below 1e-6
    d2l.Trainer(max_epochs=1).clip_gradients(1.0, model)
    assert all(torch.equal(p.grad, torch.full_like(p, 1e-8)) for p in model.parameters())


def test_clip_gradients_skips_parameters_without_gradient_or_frozen():
    used, unused, frozen = nn.Linear(2, 2), nn.Linear(2, 2), nn.Linear(2, 2)
    model = nn.Sequential(used, unused, frozen)
    for p in used.parameters():
        p.grad = torch.full_like(p, 10.0)  # 6 values: norm sqrt(600)
    frozen.requires_grad_(False)
    for p in frozen.parameters():
        p.grad = torch.full_like(p, 100.0)  # a stale gradient of a frozen layer
    d2l.Trainer(max_epochs=1).clip_gradients(1.0, model)
    norm = math.sqrt(sum((p.grad ** 2).sum().item() for p in used.parameters()))
    assert norm == pytest.approx(1.0, rel=1e-4)
    assert all(p.grad is None for p in unused.parameters())
    assert all(torch.equal(p.grad, torch.full_like(p, 100.0)) for p in frozen.parameters())


@pytest.mark.parametrize('prof', ['full', 'quick'])
def test_zero_epochs_is_allowed_and_trains_nothing(monkeypatch, prof):
    monkeypatch.setenv('D2LMINI_PROFILE', prof)
    monkeypatch.setenv('D2LMINI_BOARD', 'off')
    assert d2l.capped_epochs(0) == 0
    torch.manual_seed(0)
    model = d2l.LinearRegressionScratch(2, lr=0.1)
    w = model.w.detach().clone()
    trainer = d2l.Trainer(max_epochs=0)
    trainer.fit(model, d2l.SyntheticRegressionData(torch.tensor([1.0, 2.0]), 0.5, num_train=20,
                                                   num_val=10, batch_size=5))
    assert trainer.epoch == 0 and trainer.train_batch_idx == 0
    assert torch.equal(model.w.detach(), w) and model.board.labels() == []
    assert model.board.xlim == [0, 0]


@pytest.fixture
def meta_gpu(full, monkeypatch):
    """A Trainer that finds one accelerator: the meta device stands in for a GPU."""
    monkeypatch.setattr(d2l, 'gpus_for', lambda n: [torch.device('meta')][:n])
    return d2l.Trainer(max_epochs=3, num_gpus=1)


def test_trainer_puts_data_model_and_batches_on_its_first_device(meta_gpu):
    trainer = meta_gpu
    trainer.prepare_data(d2l.SyntheticRegressionData(torch.tensor([1.0]), 0.0, num_train=8,
                                                     num_val=4, batch_size=4))
    for loader in (trainer.train_dataloader, trainer.val_dataloader):
        assert {t.device.type for t in loader.tensors} == {'meta'}
    assert (trainer.num_train_batches, trainer.num_val_batches) == (2, 1)
    model = d2l.LinearRegression(lr=0.1)
    model.net = nn.Linear(1, 1)
    trainer.prepare_model(model)
    assert model.trainer is trainer and {p.device.type for p in model.parameters()} == {'meta'}
    assert model.board.xlim == [0, 3]
    batch = trainer.prepare_batch((torch.zeros(4, 1), torch.zeros(4, 1)))
    assert [a.device.type for a in batch] == ['meta', 'meta']


def test_board_x_axis_starts_at_zero_on_the_cpu(full):
    trainer = d2l.Trainer(max_epochs=5)
    model = d2l.LinearRegressionScratch(1, lr=0.1)
    trainer.prepare_model(model)
    assert model.board.xlim == [0, 5]
    batch = (torch.ones(2, 1), torch.ones(2, 1))
    assert all(a is b for a, b in zip(trainer.prepare_batch(batch), batch))


class TrainOnly(d2l.DataModule):
    def __init__(self):
        super().__init__()
        self.batch_size = 4
        self.X = torch.randn(8, 1)

    def get_dataloader(self, train):
        return self.get_tensorloader((self.X, 2 * self.X), train) if train else None


def test_fit_without_validation_data_counts_no_validation_batches(full):
    torch.manual_seed(0)
    model = d2l.LinearRegressionScratch(1, lr=0.1)
    model.board.display = False
    trainer = d2l.Trainer(max_epochs=2)
    trainer.fit(model, TrainOnly())
    assert (trainer.num_train_batches, trainer.num_val_batches) == (2, 0)
    assert trainer.val_batch_idx == 0 and 'val_loss' not in model.board.labels()


# -- profiles ---------------------------------------------------------------------------------
@pytest.mark.parametrize('value', [None, '', '   '])
def test_unset_or_blank_profile_means_full(monkeypatch, value):
    if value is None:
        monkeypatch.delenv('D2LMINI_PROFILE', raising=False)
    else:
        monkeypatch.setenv('D2LMINI_PROFILE', value)
    assert d2l.profile() == 'full'


def test_profile_ignores_case_and_spaces_and_names_a_bad_value(monkeypatch):
    monkeypatch.setenv('D2LMINI_PROFILE', ' Quick ')
    assert d2l.profile() == 'quick'
    monkeypatch.setenv('D2LMINI_PROFILE', 'Fast')
    with pytest.raises(ValueError, match="D2LMINI_PROFILE='fast'"):
        d2l.profile()


# -- linear regression from scratch -----------------------------------------------------------
def test_scratch_model_starts_from_small_weights_and_zero_bias():
    torch.manual_seed(0)
    model = d2l.LinearRegressionScratch(10_000, lr=0.03)
    w = model.w.detach()
    assert w.shape == (10_000, 1) and model.w.requires_grad
    assert abs(w.mean().item()) < 0.001 and 0.009 < w.std().item() < 0.011  # N(0, 0.01^2)
    assert model.b.tolist() == [0.0]


def test_scratch_loss_is_half_the_mean_squared_error():
    model = d2l.LinearRegressionScratch(1, lr=0.03)
    y_hat, y = torch.tensor([[1.0], [3.0]]), torch.tensor([[0.0], [0.0]])
    assert model.loss(y_hat, y).item() == pytest.approx(2.5)


def test_sgd_keeps_only_the_learning_rate_as_hyperparameter_and_steps():
    p = torch.tensor([1.0, 2.0], requires_grad=True)
    p.grad = torch.tensor([10.0, -10.0])
    sgd = d2l.SGD([p], lr=0.1)
    assert sgd.hparams == {'lr': 0.1}
    sgd.step()
    assert p.detach().tolist() == pytest.approx([0.0, 3.0])


# -- SyntheticRegressionData -----------------------------------------------------------------
def test_synthetic_data_defaults_and_noise():
    torch.manual_seed(0)
    w, b = torch.tensor([2.0, -3.4]), 4.2
    data = d2l.SyntheticRegressionData(w, b)
    assert data.X.shape == (2000, 2) and data.y.shape == (2000, 1)
    train, val = data.train_dataloader(), data.val_dataloader()
    assert [len(y) for _, y in train][:2] == [32, 32]
    assert sum(len(y) for _, y in train) == 1000 and sum(len(y) for _, y in val) == 1000
    residual = data.y - data.X @ w.reshape(-1, 1) - b
    assert 0.009 < residual.std().item() < 0.011 and abs(residual.mean().item()) < 0.001


def test_synthetic_noise_is_drawn_per_example():
    torch.manual_seed(0)
    w = torch.tensor([1.0, 2.0, 3.0])
    data = d2l.SyntheticRegressionData(w, 1.0, noise=0.5, num_train=300, num_val=200)
    residual = (data.y - data.X @ w.reshape(-1, 1) - 1.0).reshape(-1)
    assert data.y.shape == (500, 1)
    assert 0.45 < residual.std().item() < 0.55 and abs(residual.mean().item()) < 0.1


def test_synthetic_splits_shuffle_training_and_keep_validation_order():
    torch.manual_seed(0)
    w, b = torch.tensor([1.0, -2.0]), 0.5
    data = d2l.SyntheticRegressionData(w, b, noise=0.0, num_train=50, num_val=30, batch_size=7)
    train = [torch.cat(t) for t in zip(*data.train_dataloader())]
    val = [torch.cat(t) for t in zip(*data.val_dataloader())]
    assert torch.equal(val[0], data.X[50:]) and torch.equal(val[1], data.y[50:])
    X_train, y_train = train
    assert X_train.shape == (50, 2)
    assert not torch.equal(X_train, data.X[:50])  # shuffled
    order = X_train[:, 0].argsort()
    assert torch.equal(X_train[order], data.X[:50][data.X[:50, 0].argsort()])
    torch.testing.assert_close(y_train, X_train @ w.reshape(-1, 1) + b)  # pairs stay together
