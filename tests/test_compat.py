"""Code written for the original d2l package runs on d2lmini (``import d2lmini as d2l``).

Short snippets in the style of d2l's printed code: its framework aliases, its own
dataset classes built on ``root=self.root``, its k-fold code reading the board,
``layer_summary``'s shapes, and the fra-eng download of chapter 10 from an offline
mirror. Plus every name and signature of d2l-api.md that the book has reached.
"""
import hashlib
import inspect
import os
import pathlib

import numpy as np
import pytest
import torch

import d2lmini as d2l
from d2lmini._compat import import_torchvision

MIRROR = os.environ.get('D2LMINI_MIRROR', '')


def test_framework_aliases_run_d2l_style_code():
    x = d2l.arange(12, dtype=d2l.float32)
    X = d2l.reshape(x, (3, 4))
    assert X.shape == (3, 4) and d2l.size(X) == 12
    Y = d2l.tensor([[2.0, 1, 4, 3], [1, 2, 3, 4], [4, 3, 2, 1]])
    both = d2l.concat((X, Y), dim=0)
    assert both.shape == (6, 4) and torch.equal(both[3:], Y)
    assert d2l.reduce_sum(X).item() == 66 and d2l.reduce_mean(X).item() == 5.5
    assert d2l.argmax(Y, dim=1).tolist() == [2, 3, 0]
    assert d2l.transpose(X).shape == (4, 3) and d2l.swapaxes(X, 0, 1).shape == (4, 3)
    assert d2l.expand_dims(x, 0).shape == (1, 12)
    assert d2l.astype(X, d2l.int64).dtype == torch.int64
    assert isinstance(d2l.numpy(X.requires_grad_()), np.ndarray)  # detached first
    w = d2l.normal(0, 0.01, (2, 1))
    assert w.shape == (2, 1) and d2l.matmul(d2l.ones(3, 2), w).shape == (3, 1)
    assert d2l.batch_matmul(d2l.ones(2, 1, 4), d2l.ones(2, 4, 6)).shape == (2, 1, 6)
    assert torch.equal(d2l.stack([x, x]), torch.stack([x, x]))
    assert d2l.repeat(d2l.tensor([1, 2]), 2).tolist() == [1, 2, 1, 2]
    assert d2l.to(x, torch.float64).dtype == torch.float64
    assert torch.allclose(d2l.sigmoid(d2l.zeros(1)), torch.tensor([0.5]))
    assert torch.equal(d2l.eye(2), torch.eye(2)) and d2l.int32 is torch.int32
    X1, _ = d2l.meshgrid(d2l.linspace(0, 1, 3), d2l.arange(2.0), indexing='ij')
    assert X1.shape == (3, 2)
    for f in (d2l.sin, d2l.cos, d2l.tanh, d2l.sinh, d2l.cosh, d2l.exp, d2l.log, d2l.abs):
        assert torch.allclose(f(torch.ones(1)), getattr(torch, f.__name__)(torch.ones(1)))


def test_datamodule_root_is_the_data_folder_as_a_path_string():
    data = d2l.DataModule()
    assert isinstance(data.root, str) and data.root == str(d2l.data_dir())
    assert d2l.DataModule(root='/somewhere').root == '/somewhere'
    assert data.num_workers == 4  # d2l's signature; the tensor loaders need no workers


@pytest.mark.skipif(not MIRROR, reason='needs D2LMINI_MIRROR (the offline data copy); CI sets it')
def test_d2l_own_dataset_class_reads_torchvision_data_from_root():
    torchvision = import_torchvision()
    d2l.FashionMNIST()  # makes sure the raw files are in the cache folder

    class TorchvisionFashionMNIST(d2l.DataModule):  # the way d2l's chapter 4 writes it
        def __init__(self, batch_size=64):
            super().__init__()
            self.save_hyperparameters()
            trans = torchvision.transforms.ToTensor()
            self.train = torchvision.datasets.FashionMNIST(
                root=self.root, train=True, transform=trans, download=True)

    data = TorchvisionFashionMNIST()
    X, y = data.train[0]
    assert X.shape == (1, 28, 28) and y == 9 and len(data.train) == 60000


def test_board_data_as_d2l_k_fold_code_reads_it():
    d2l.seed(0)
    data = d2l.SyntheticRegressionData(w=torch.tensor([2.0, -3.4]), b=4.2)
    model = d2l.LinearRegression(lr=0.03)
    model.board.display = False
    d2l.Trainer(max_epochs=2).fit(model, data)
    last = model.board.data['val_loss'][-1].y
    assert last == model.board.values('val_loss')[-1]
    assert model.board.data['val_loss'][-1].x == 2
    assert set(model.board.data) == {'train_loss', 'val_loss'}


def test_layer_summary_prints_torch_sizes(capsys):
    d2l.LeNet().layer_summary((1, 1, 28, 28))
    out = capsys.readouterr().out
    assert 'torch.Size([1, 6, 28, 28])' in out and 'torch.Size([1, 10])' in out


@pytest.mark.skipif(not MIRROR, reason='needs D2LMINI_MIRROR (the offline data copy); CI sets it')
def test_chapter_10_fra_eng_download_works_from_an_extracted_mirror(tmp_path):
    root = str(tmp_path)
    d2l.extract(d2l.download(d2l.DATA_URL + 'fra-eng.zip', root,
                             '94646ad1522dcd52c3d20fe0dd9fd6d5c57b4d3b'))
    text = pathlib.Path(root, 'fra-eng', 'fra.txt').read_bytes()
    assert hashlib.sha1(text).hexdigest() == d2l.DATA_HUB['fra-eng'].sha1
    assert pathlib.Path(root, 'fra-eng', '_about.txt').exists()


def test_fra_eng_download_with_nothing_to_build_it_from_says_what_was_tried(tmp_path,
                                                                            monkeypatch):
    monkeypatch.setenv('D2LMINI_MIRROR', str(tmp_path / 'empty-mirror'))
    monkeypatch.setattr(d2l.data, 'RETRIES', 1)
    monkeypatch.setattr(d2l.data, '_place', lambda source, target, sha1, attempts:
                        'not there' if '://' not in source else 'network off (test)')
    with pytest.raises(d2l.data.DataUnavailable, match='fra-eng'):
        d2l.download(d2l.DATA_URL + 'fra-eng.zip', str(tmp_path / 'root'))


# d2l 1.0.3's names and signatures (d2l-api.md), by chapter, for the chapters the book has.
SIGNATURES = {
    'use_svg_display': '()', 'set_figsize': "(figsize=(3.5, 2.5))",
    'set_axes': '(axes, xlabel, ylabel, xlim, ylim, xscale, yscale, legend)',
    'plot': ("(X, Y=None, xlabel=None, ylabel=None, legend=[], xlim=None, ylim=None, "
             "xscale='linear', yscale='linear', fmts=('-', 'm--', 'g-.', 'r:'), "
             "figsize=(3.5, 2.5), axes=None)"),
    'add_to_class': '(Class)',
    'ProgressBoard': ("(xlabel=None, ylabel=None, xlim=None, ylim=None, xscale='linear', "
                      "yscale='linear', ls=['-', '--', '-.', ':'], "
                      "colors=['C0', 'C1', 'C2', 'C3'], fig=None, axes=None, "
                      "figsize=(3.5, 2.5), display=True)"),
    'Module': '(plot_train_per_epoch=2, plot_valid_per_epoch=1)',
    'Trainer': '(max_epochs, num_gpus=0, gradient_clip_val=0)',
    'SyntheticRegressionData': '(w, b, noise=0.01, num_train=1000, num_val=1000, batch_size=32)',
    'LinearRegressionScratch': '(num_inputs, lr, sigma=0.01)', 'SGD': '(params, lr)',
    'LinearRegression': '(lr)', 'cpu': '()',
    'FashionMNIST': '(batch_size=64, resize=(28, 28))',
    'show_images': '(imgs, num_rows, num_cols, titles=None, scale=1.5)',
    'SoftmaxRegression': '(num_outputs, lr)',
    'download': "(url, folder=None, sha1_hash=None)",
    'gpu': '(i=0)', 'num_gpus': '()', 'try_gpu': '(i=0)', 'try_all_gpus': '()',
    'corr2d': '(X, K)', 'init_cnn': '(module)', 'LeNet': '(lr=0.1, num_classes=10)',
    'extract': '(filename, folder=None)',
    # chapter 8
    'Residual': '(num_channels, use_1x1conv=False, strides=1)',
    'ResNeXtBlock': '(num_channels, groups, bot_mul, use_1x1conv=False, strides=1)',
    # chapters 9-10
    'TimeMachine': '(batch_size, num_steps, num_train=10000, num_val=5000)',
    'Vocab': '(tokens=[], min_freq=0, reserved_tokens=[])',
    'RNNScratch': '(num_inputs, num_hiddens, sigma=0.01)', 'check_len': '(a, n)',
    'check_shape': '(a, shape)', 'RNNLMScratch': '(rnn, vocab_size, lr=0.01)',
    'RNN': '(num_inputs, num_hiddens)', 'RNNLM': '(rnn, vocab_size, lr=0.01)',
    'GRU': '(num_inputs, num_hiddens, num_layers, dropout=0)',
    'MTFraEng': '(batch_size, num_steps=9, num_train=512, num_val=128)',
    'show_list_len_pair_hist': '(legend, xlabel, ylabel, xlist, ylist)',
    'Encoder': '()', 'Decoder': '()', 'EncoderDecoder': '(encoder, decoder)',
    'init_seq2seq': '(module)',
    'Seq2SeqEncoder': '(vocab_size, embed_size, num_hiddens, num_layers, dropout=0)',
    'Seq2Seq': '(encoder, decoder, tgt_pad, lr)', 'bleu': '(pred_seq, label_seq, k)',
    # chapter 11
    # show_heatmaps: d2l's parameters, plus keyword-only tick labels (an extension)
    'show_heatmaps': ("(matrices, xlabel, ylabel, titles=None, figsize=(2.5, 2.5), cmap='Reds', "
                      "*, xticklabels=None, yticklabels=None)"),
    'masked_softmax': '(X, valid_lens)', 'DotProductAttention': '(dropout)',
    'AdditiveAttention': '(num_hiddens, dropout, **kwargs)', 'AttentionDecoder': '()',
    'MultiHeadAttention': '(num_hiddens, num_heads, dropout, bias=False, **kwargs)',
    'PositionalEncoding': '(num_hiddens, dropout, max_len=1000)',
    'PositionWiseFFN': '(ffn_num_hiddens, ffn_num_outputs)', 'AddNorm': '(norm_shape, dropout)',
    'TransformerEncoderBlock': '(num_hiddens, ffn_num_hiddens, num_heads, dropout, use_bias=False)',
    'TransformerEncoder': ('(vocab_size, num_hiddens, ffn_num_hiddens, num_heads, num_blks, '
                           'dropout, use_bias=False)'),
}
# Deliberate differences: download's folder defaults to d2lmini's cache (None), not '../data'
# next to the notebook; DataModule's root likewise (documented in DataModule).


@pytest.mark.parametrize('name', sorted(SIGNATURES))
def test_d2l_names_have_d2l_signatures(name):
    obj = getattr(d2l, name)
    sig = inspect.signature(obj)
    if inspect.isclass(obj):
        sig = inspect.signature(obj.__init__)
        sig = sig.replace(parameters=list(sig.parameters.values())[1:])
    assert str(sig) == SIGNATURES[name]


def test_plain_d2l_names_exist():
    for name in ('nn_Module', 'plt', 'HyperParameters', 'DataModule', 'Classifier', 'DATA_URL'):
        assert hasattr(d2l, name), name
    assert d2l.DATA_URL == 'http://d2l-data.s3-accelerate.amazonaws.com/'
    assert d2l.nn_Module is torch.nn.Module
