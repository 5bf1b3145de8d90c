"""Details of d2lmini that the broader tests leave open: what the data layer's errors tell
the user, archives, corr2d's edge cases, LeNet's defaults and size, batch normalization's
defaults and smallest batch, the residual blocks' projections, ShapeError's message and
FashionMNIST.visualize."""
import hashlib
import os
import pathlib
import re

import pytest
import torch
from torch import nn

import d2lmini as d2l
from d2lmini import data as dl
from helpers import fetch_error, files_in, zip_bytes

needs_mirror = pytest.mark.skipif(not os.environ.get('D2LMINI_MIRROR'),
                                  reason='Fashion-MNIST needs the data mirror (D2LMINI_MIRROR)')

PAYLOAD = b'payload of a packed file\n' * 50
PAYLOAD_SHA1 = hashlib.sha1(PAYLOAD).hexdigest()


def _zip(path, members):
    path.write_bytes(zip_bytes(members))
    return path.as_uri(), hashlib.sha1(path.read_bytes()).hexdigest()


# -- the data layer: archives ------------------------------------------------------------
def test_an_archive_with_a_different_sha1_is_refused_even_if_its_member_is_right(
        cache, tmp_path):
    url, _ = _zip(tmp_path / 'pack.zip', {'pack/a.txt': PAYLOAD})
    dl.register('packed', 'pack/a.txt', PAYLOAD_SHA1, [url],
                archive='pack.zip', archive_sha1='0' * 40)
    message = fetch_error('packed')
    assert re.search(rf'- {re.escape(url)}: wrong sha1', message)
    assert files_in(cache) == []


def test_an_archive_kept_in_a_subfolder_extracts_into_the_data_folder(cache, tmp_path):
    # the member's path is relative to the data folder, wherever the archive is cached
    url, archive_sha1 = _zip(tmp_path / 'pack.zip', {'pack/a.txt': PAYLOAD})
    dl.register('packed', 'pack/a.txt', PAYLOAD_SHA1, [url],
                archive='downloads/pack.zip', archive_sha1=archive_sha1)
    path = d2l.fetch('packed')
    assert path == cache / 'pack' / 'a.txt' and path.read_bytes() == PAYLOAD
    assert files_in(cache) == ['pack/a.txt']  # the archive itself is removed


# -- the data layer: what the error tells the user ---------------------------------------
def test_unavailable_error_lists_each_attempt_and_says_how_to_fix_it(cache, tmp_path):
    first, second = (tmp_path / 'nowhere-1' / 'x.csv').as_uri(), (tmp_path / 'x.csv').as_uri()
    dl.register('my-table', 'tables/x.csv', PAYLOAD_SHA1, [first, second])
    message = fetch_error('my-table')
    lines = message.splitlines()
    assert lines[0] == "Could not get data file 'my-table'."
    assert f'  - {first}: not there' in lines and f'  - {second}: not there' in lines
    assert f'Expected file: {cache / "tables" / "x.csv"}' in lines
    assert f'Expected sha1: {PAYLOAD_SHA1}' in lines
    # one instruction: where to download from, where to put it, the mirror alternative
    fix = lines[-1]
    assert fix.startswith(f'To fix: download it from {first} or {second} and place it at the '
                          'path above')
    assert 'extract' not in fix  # a plain file: nothing to extract
    assert 'D2LMINI_MIRROR' in fix and 'holds tables/x.csv' in fix and 'D2LMINI_DATA' in fix


def test_unavailable_error_of_an_archive_member_says_what_to_extract(cache, tmp_path):
    url = (tmp_path / 'missing.zip').as_uri()
    dl.register('packed', 'pack/a.txt', PAYLOAD_SHA1, [url],
                archive='pack.zip', archive_sha1='0' * 40)
    fix = fetch_error('packed').splitlines()[-1]
    assert fix.startswith(f'To fix: download it from {url} (extract pack/a.txt from the '
                          'archive) and place it at the path above')


def test_unavailable_error_without_sources_or_hash_says_so(cache):
    dl.register('unknown', 'u.bin', None, [])
    lines = fetch_error('unknown').splitlines()
    assert lines[0] == "Could not get data file 'unknown'."
    assert re.fullmatch(r'\s*- nothing', lines[2])  # the list of attempts is empty
    assert 'Expected sha1: (not given)' in lines


# -- corr2d ---------------------------------------------------------------------------------
def test_corr2d_with_a_kernel_as_tall_or_as_wide_as_the_input():
    X = torch.arange(15.).reshape(3, 5)
    row = d2l.corr2d(X, torch.ones(3, 2))  # one output row
    assert row.shape == (1, 4)
    assert row.tolist() == [[X[:, j:j + 2].sum().item() for j in range(4)]]
    column = d2l.corr2d(X.T, torch.ones(2, 3))  # one output column
    assert column.shape == (4, 1)
    assert column[:, 0].tolist() == row[0].tolist()
    whole = d2l.corr2d(X, X)  # kernel = input: a single dot product
    assert whole.shape == (1, 1) and whole.item() == (X * X).sum().item()


def test_corr2d_keeps_the_precision_of_its_inputs():
    X = torch.full((3, 3), 1 + 2 ** -40, dtype=torch.float64)  # not representable in float32
    Y = d2l.corr2d(X, torch.ones(1, 1, dtype=torch.float64))
    assert Y.dtype == torch.float64 and torch.equal(Y, X)
    integers = d2l.corr2d(torch.arange(9).reshape(3, 3), torch.tensor([[1, -1]]))
    assert integers.dtype == torch.int64 and integers.tolist() == [[-1, -1]] * 3


def test_corr2d_output_lives_on_the_input_device_not_the_default_device():
    torch.manual_seed(0)
    X, K = torch.randn(5, 6), torch.randn(2, 3)
    expected = d2l.corr2d(X, K)
    with torch.device('meta'):  # another default device for new tensors: no data there
        Y = d2l.corr2d(X, K)
    assert Y.device == X.device and torch.equal(Y, expected)
    if torch.cuda.is_available():
        Y = d2l.corr2d(X.cuda(), K.cuda())
        assert Y.device == X.cuda().device
        torch.testing.assert_close(Y.cpu(), expected)


# -- LeNet -----------------------------------------------------------------------------------
def test_lenet_has_d2l_default_learning_rate_and_the_classic_size():
    torch.manual_seed(0)
    model = d2l.LeNet()
    model(torch.zeros(1, 1, 28, 28))  # materialize the lazy layers
    assert model.configure_optimizers().param_groups[0]['lr'] == pytest.approx(0.1)
    # LeNet-5 on 28x28 images with 10 classes: 61,706 parameters (6-16-120-84-10)
    assert sum(p.numel() for p in model.parameters()) == 61706
    linear = [m.out_features for m in model.net if isinstance(m, nn.Linear)]
    assert linear == [120, 84, 10]


def test_lenet_on_too_small_images_names_model_shape_and_what_to_check():
    with pytest.raises(d2l.ShapeError) as info:
        d2l.LeNet()(torch.zeros(2, 1, 8, 8))
    message = str(info.value)
    assert message.startswith('LeNet cannot process an input of shape (2, 1, 8, 8)')
    assert 'too small for this model' in message
    assert 'check the shape the data module produces' in message
    assert isinstance(info.value, RuntimeError) and info.value.__cause__ is not None


# -- batch normalization -----------------------------------------------------------------
def test_batch_norm_defaults_match_pytorch():
    torch.manual_seed(0)
    ours, theirs = d2l.BatchNorm(3, num_dims=4), nn.BatchNorm2d(3)
    X = torch.randn(4, 3, 2, 2) * 0.01  # small variance: eps matters
    torch.testing.assert_close(ours(X), theirs(X), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(ours.running_mean, theirs.running_mean)
    torch.testing.assert_close(ours.running_var, theirs.running_var)
    ours.eval(), theirs.eval()
    torch.testing.assert_close(ours(X), theirs(X), rtol=1e-5, atol=1e-5)


def test_batch_norm_trains_on_a_batch_of_two():
    torch.manual_seed(0)
    ours, theirs = d2l.BatchNorm(3, num_dims=2), nn.BatchNorm1d(3)
    X = torch.tensor([[1., 2., 3.], [3., 6., -3.]])
    Y = ours(X)
    torch.testing.assert_close(Y, theirs(X))
    assert torch.allclose(Y.abs(), torch.ones(2, 3), atol=1e-4)  # two values: +-1 each
    torch.testing.assert_close(ours.running_var, theirs.running_var)  # n / (n - 1) = 2


# -- residual blocks ---------------------------------------------------------------------
def test_residual_blocks_with_strides_tell_exactly_what_to_pass():
    for make in (lambda: d2l.Residual(8, strides=2), lambda: d2l.ResNeXtBlock(8, 4, 1, strides=2)):
        with pytest.raises(ValueError) as info:
            make()
        assert re.search(r'\bpass use_1x1conv=True\b', str(info.value))
        assert 'strides=2' in str(info.value)


def test_resnext_projection_without_strides_is_one_by_one():
    X = torch.randn(2, 32, 8, 8)
    block = d2l.ResNeXtBlock(64, 16, 0.25, use_1x1conv=True)
    assert block(X).shape == (2, 64, 8, 8)
    assert block.conv4.weight.shape == (64, 32, 1, 1)


def test_resnext_block_adds_its_input():
    block = d2l.ResNeXtBlock(32, 16, 1)
    X = torch.rand(2, 32, 4, 4)  # non-negative, so the final ReLU keeps it
    block(X)
    with torch.no_grad():
        block.bn3.weight.zero_()
        block.bn3.bias.zero_()
    torch.testing.assert_close(block(X), X)


# -- FashionMNIST.visualize ----------------------------------------------------------------
def _shown(plt):
    axes = plt.gcf().axes
    return axes, [ax.get_title() for ax in axes], [ax.get_images() for ax in axes]


@needs_mirror
def test_visualize_shows_one_row_of_eight_labelled_images(figures):
    data = d2l.FashionMNIST(batch_size=16)
    X, y = next(iter(data.val_dataloader()))
    data.visualize((X, y))
    axes, titles, images = _shown(figures)
    assert len(axes) == 8
    assert titles == data.text_labels(y[:8])
    assert titles[0] == 'ankle boot'  # the first validation image
    for i, shown in enumerate(images):
        assert len(shown) == 1
        assert shown[0].get_array().shape == (28, 28)
        assert torch.equal(torch.as_tensor(shown[0].get_array().data), X[i, 0])


@needs_mirror
def test_visualize_grid_and_given_labels(figures):
    data = d2l.FashionMNIST(batch_size=16)
    X, y = next(iter(data.val_dataloader()))
    names = [f'image {i}' for i in range(6)]
    data.visualize((X, y), nrows=2, ncols=3, labels=names)
    axes, titles, images = _shown(figures)
    assert len(axes) == 6 and titles == names
    assert axes[3].get_subplotspec().rowspan.start == 1  # second row
    figures.close('all')
    data.visualize((X[:1], y[:1]), nrows=1, ncols=1)  # a single image
    axes, titles, images = _shown(figures)
    assert titles == data.text_labels(y[:1])
    assert images[0][0].get_array().shape == (28, 28)


# -- ImageLoader without resize, and the quick budget's edge cases ---------------------------
def _images(n, side, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randint(0, 256, (n, 1, side, side), dtype=torch.uint8, generator=g),
            torch.arange(n))


def test_image_loader_defaults_keep_order_and_native_size(monkeypatch):
    monkeypatch.setenv('D2LMINI_PROFILE', 'full')
    images, labels = _images(10, 20)
    loader = d2l.ImageLoader(images, labels, 4)  # no shuffle, no resize
    batches = list(loader)
    assert [y.tolist() for _, y in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    X = torch.cat([X for X, _ in batches])
    assert X.shape == (10, 1, 20, 20)
    torch.testing.assert_close(X, images.float() / 255)


@pytest.mark.parametrize('shuffle', [True, False])
def test_quick_budget_applies_to_large_native_images_without_resize(monkeypatch, shuffle):
    monkeypatch.setenv('D2LMINI_PROFILE', 'quick')
    images, labels = _images(12, 40)  # 40 x 40 > QUICK_LARGE_PIXELS, served at native size
    loader = d2l.ImageLoader(images, labels, 8, shuffle=shuffle)
    batches = list(loader)
    size = d2l.ImageLoader.QUICK_LARGE_BATCH
    count = (d2l.ImageLoader.QUICK_LARGE_STEPS if shuffle
             else d2l.ImageLoader.QUICK_LARGE_VAL_BATCHES)
    assert len(loader) == len(batches) == count
    assert all(X.shape == (size, 1, 40, 40) for X, _ in batches)
    if not shuffle:
        assert [y.tolist() for _, y in batches] == [[0, 1], [2, 3]]


def test_quick_budget_validation_batches_with_one_image_each(monkeypatch):
    monkeypatch.setenv('D2LMINI_PROFILE', 'quick')
    images, labels = _images(5, 40)
    loader = d2l.ImageLoader(images, labels, 1, resize=48)
    batches = list(loader)
    assert len(loader) == len(batches) == d2l.ImageLoader.QUICK_LARGE_VAL_BATCHES
    assert [y.tolist() for _, y in batches] == [[0], [1]]
    assert batches[0][0].shape == (1, 1, 48, 48)


def test_quick_budget_with_fewer_images_than_a_batch(monkeypatch):
    monkeypatch.setenv('D2LMINI_PROFILE', 'quick')
    images, labels = _images(3, 40)
    val = d2l.ImageLoader(images, labels, 64)
    # batches of QUICK_LARGE_BATCH = 2 images: 2 + 1
    assert val.quick_budget() == (2, 2) and len(val) == 2
    assert [y.tolist() for _, y in val] == [[0, 1], [2]]
    one = d2l.ImageLoader(images[:1], labels[:1], 64, shuffle=True)
    assert one.quick_budget() == (1, d2l.ImageLoader.QUICK_LARGE_STEPS)
    assert all(y.tolist() == [0] for _, y in one)


# -- FashionMNIST's labels and loaders --------------------------------------------------------
def test_text_labels_are_the_ten_fashion_mnist_classes():
    names = d2l.FashionMNIST.text_labels(None, range(10))  # needs no data
    assert names == ['t-shirt', 'trouser', 'pullover', 'dress', 'coat',
                     'sandal', 'shirt', 'sneaker', 'bag', 'ankle boot']
    assert d2l.FashionMNIST.text_labels(None, torch.tensor([9, 0])) == ['ankle boot', 't-shirt']


@needs_mirror
def test_fashion_mnist_loaders_split_shuffle_and_resize(monkeypatch):
    monkeypatch.setenv('D2LMINI_PROFILE', 'full')
    torch.manual_seed(0)
    data = d2l.FashionMNIST(batch_size=1000, resize=(32, 32))
    train, val = data.train_dataloader(), data.val_dataloader()
    assert (len(train), len(val)) == (60, 10)
    X, y = next(iter(train))
    assert X.shape == (1000, 1, 32, 32)
    first_train = data.train.labels[:1000]
    assert not torch.equal(y, first_train)                  # training batches are shuffled
    assert torch.bincount(y, minlength=10).min() > 50        # ...from all classes
    Xv, yv = next(iter(val))
    assert Xv.shape == (1000, 1, 32, 32)
    assert torch.equal(yv, data.val.labels[:1000])   # validation keeps its order


# -- extract: tar archives ---------------------------------------------------------------------
def _tar(path, members):
    import io
    import tarfile
    with tarfile.open(path, 'w') as t:
        for name, (blob, mode, link) in members.items():
            info = tarfile.TarInfo(name)
            if link is not None:
                info.type, info.linkname = tarfile.SYMTYPE, link
                t.addfile(info)
            else:
                info.size, info.mode = len(blob), mode
                t.addfile(info, io.BytesIO(blob))
    return path


def test_extract_tar_into_a_folder_or_next_to_it_with_safe_links(tmp_path):
    archive = _tar(tmp_path / 'pack.tar', {'pack/a.txt': (PAYLOAD, 0o644, None),
                                            'pack/link.txt': (b'', 0, 'a.txt')})
    out = tmp_path / 'out'
    assert pathlib.Path(d2l.extract(archive, out)) == out
    assert files_in(out) == ['pack/a.txt', 'pack/link.txt']
    assert (out / 'pack' / 'link.txt').is_symlink()  # a link inside the folder is fine
    assert (out / 'pack' / 'link.txt').read_bytes() == PAYLOAD
    assert pathlib.Path(d2l.extract(archive)) == tmp_path  # default: next to the archive
    assert (tmp_path / 'pack' / 'a.txt').read_bytes() == PAYLOAD


def test_extract_tar_refuses_parent_paths_and_drops_dangerous_permissions(tmp_path):
    import tarfile
    evil = _tar(tmp_path / 'evil.tar', {'../escaped.txt': (b'x', 0o644, None)})
    with pytest.raises(ValueError, match='escaped.txt'):
        d2l.extract(evil, tmp_path / 'out')
    assert not (tmp_path / 'escaped.txt').exists()
    if not hasattr(tarfile, 'data_filter'):
        pytest.skip('this Python has no tarfile data filter')
    archive = _tar(tmp_path / 'modes.tar', {'run.sh': (b'#!/bin/sh\n', 0o6777, None)})
    d2l.extract(archive, tmp_path / 'modes')
    mode = (tmp_path / 'modes' / 'run.sh').stat().st_mode & 0o7777
    assert mode & 0o6022 == 0  # no setuid/setgid, not writable by group or others
