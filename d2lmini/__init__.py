"""d2lmini: the helper package of the book.

The public names follow d2l's ``d2l.torch`` (same names, signatures and
documented behaviour), so code moves between the original book and this one;
the implementation is our own: tensor-resident data, no per-batch host syncs,
a board that works in every notebook front end, run profiles and a checked data
layer. Use it as ``import d2lmini as d2l``.
"""
__version__ = '0.1.0'

import torch
from torch import nn
from matplotlib import pyplot as plt

nn_Module = nn.Module

from ._compat import prepare_torchvision as _prepare_torchvision
_prepare_torchvision()  # lets `import torchvision` work beside a CPU-only torch (see _compat)

# Order matters: later modules subclass names defined by earlier ones.
from .profiles import (profile, capped_epochs, capped_batches, expect, check_close, seed,
                       build_dir)
from .devices import cpu, gpu, num_gpus, try_gpu, try_all_gpus, gpus_for
from .plotting import use_svg_display, set_figsize, set_axes, plot, show_images
from .base import HyperParameters, add_to_class
from .board import ProgressBoard
from .core import Module, TensorLoader, loader_for, ShapeError, DataModule, Trainer
from .regression import (SyntheticRegressionData, SGD, LinearRegressionScratch,
                         LinearRegression)
from .data import DATA_URL, DATA_HUB, data_dir, download, extract, fetch
from .classification import (FashionMNIST, Classifier, SoftmaxRegression,
                             ImageLoader, ImageDataset, check_resize, scale_and_resize)
from .cnn import corr2d, init_cnn, LeNet
from .d2l_compat import *  # noqa: F401,F403  (d2l's framework aliases: d2l.reshape, ...)
from .text import (Vocab, known_indices, TimeMachine, MTFraEng, show_list_len_pair_hist)
from .rnn import check_len, check_shape, RNNScratch, RNNLMScratch, RNN, RNNLM, GRU
from .seq2seq import (Encoder, Decoder, EncoderDecoder, init_seq2seq, Seq2SeqEncoder,
                      Seq2SeqDecoder, Seq2Seq, bleu, beam_search, BeamSearchOutput)
from .cnn_modern import batch_norm, BatchNorm, Residual, ResNeXtBlock
from .attention import (show_heatmaps, masked_softmax, DotProductAttention, AdditiveAttention,
                        AttentionDecoder, Seq2SeqAttentionDecoder, MultiHeadAttention,
                        PositionalEncoding, PositionWiseFFN, AddNorm, TransformerEncoderBlock,
                        TransformerEncoder, TransformerDecoderBlock, TransformerDecoder)
