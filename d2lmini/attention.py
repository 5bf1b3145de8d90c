"""Attention and Transformers (chapter 11): attention heat maps (11.1), masked
softmax, scaled dot-product and additive attention (11.3), the attention
decoder interface and the Bahdanau decoder (11.4), multi-head attention (11.5),
sinusoidal positional encoding (11.6) and the Transformer's encoder and decoder
(11.7).

Where this code departs from d2l's, the mathematics is the same and the change
fixes a behaviour: the positional encoding is a buffer (it follows the model to
its device); the Transformer decoder applies its causal mask whenever it reads
several target tokens at once, in evaluation too, and gives a token decoded one
at a time its true position, so that step-by-step prediction computes exactly
what the teacher-forced forward pass computes (d2l drops the mask outside
training and encodes every predicted token as position 0).
"""
import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

import d2lmini as d2l


def show_heatmaps(matrices, xlabel, ylabel, titles=None, figsize=(2.5, 2.5), cmap='Reds',
                  *, xticklabels=None, yticklabels=None):
    """Draw a grid of heat maps: ``matrices`` has shape (rows, columns, height, width).

    All panels share one colour scale (and one colour bar). ``titles`` names the
    columns; ``xticklabels``/``yticklabels`` (e.g. tokens) label the axes of every panel.
    """
    if not torch.is_tensor(matrices):
        matrices = torch.tensor(np.asarray(matrices))
    matrices = matrices.detach().float().cpu()
    if matrices.dim() != 4:
        raise ValueError('show_heatmaps needs a 4-D array (rows, columns, height, width), '
                         f'got shape {tuple(matrices.shape)}; add axes with reshape or [None]')
    d2l.use_svg_display()
    num_rows, num_cols = matrices.shape[:2]
    fig, axes = d2l.plt.subplots(num_rows, num_cols, figsize=figsize, sharex=True,
                                 sharey=True, squeeze=False)
    vmin, vmax = matrices.min().item(), matrices.max().item()
    for i in range(num_rows):
        for j in range(num_cols):
            ax = axes[i, j]
            image = ax.imshow(matrices[i, j].numpy(), cmap=cmap, vmin=vmin, vmax=vmax)
            if i == num_rows - 1:
                ax.set_xlabel(xlabel)
            if j == 0:
                ax.set_ylabel(ylabel)
            if titles:
                ax.set_title(titles[j])
            if xticklabels is not None:
                ax.set_xticks(range(len(xticklabels)), xticklabels, rotation=90)
            if yticklabels is not None:
                ax.set_yticks(range(len(yticklabels)), yticklabels)
    fig.colorbar(image, ax=axes, shrink=0.6)


def masked_softmax(X, valid_lens):
    """Softmax over the last axis of ``X`` (batch, queries, keys) in which only the
    first ``valid_lens`` keys take part.

    ``valid_lens`` is None (no mask), (batch,) (one length for all queries of an
    example) or (batch, queries) (one length per query). Masked scores are
    replaced by -1e6, so their weights are 0 (exactly, in float32) and a row with
    no valid key gets uniform weights instead of NaN.
    """
    if valid_lens is None:
        return F.softmax(X, dim=-1)
    if valid_lens.shape not in ((X.shape[0],), X.shape[:2]):
        raise ValueError(f'valid_lens must have shape (batch,) or (batch, queries), i.e. '
                         f'({X.shape[0]},) or {tuple(X.shape[:2])} for scores of shape '
                         f'{tuple(X.shape)}; got {tuple(valid_lens.shape)}')
    if valid_lens.dim() == 1:
        valid_lens = valid_lens[:, None]  # the same length for every query
    # mask[b, q, k] is True where key k counts for query q of example b
    mask = torch.arange(X.shape[-1], device=X.device) < valid_lens[..., None]
    return F.softmax(X.masked_fill(~mask, -1e6), dim=-1)


class DotProductAttention(nn.Module):
    """Scaled dot-product attention: softmax(Q K^T / sqrt(d)) V, with masking."""
    def __init__(self, dropout):
        super().__init__()
        self.dropout = nn.Dropout(dropout)

    def forward(self, queries, keys, values, valid_lens=None):
        # queries: (batch, n_q, d); keys: (batch, n_k, d); values: (batch, n_k, d_v)
        d = queries.shape[-1]
        scores = torch.bmm(queries, keys.transpose(1, 2)) / math.sqrt(d)
        self.attention_weights = masked_softmax(scores, valid_lens)  # (batch, n_q, n_k)
        return torch.bmm(self.dropout(self.attention_weights), values)


class AdditiveAttention(nn.Module):
    """Additive attention: scores w_v^T tanh(W_q q + W_k k), for queries and keys
    of any sizes."""
    def __init__(self, num_hiddens, dropout, **kwargs):
        super().__init__()
        self.W_q = nn.LazyLinear(num_hiddens, bias=False)
        self.W_k = nn.LazyLinear(num_hiddens, bias=False)
        self.w_v = nn.LazyLinear(1, bias=False)
        self.dropout = nn.Dropout(dropout)

    def forward(self, queries, keys, values, valid_lens=None):
        queries, keys = self.W_q(queries), self.W_k(keys)
        # Every query plus every key by broadcasting: (batch, n_q, n_k, num_hiddens)
        features = torch.tanh(queries.unsqueeze(2) + keys.unsqueeze(1))
        scores = self.w_v(features).squeeze(-1)  # (batch, n_q, n_k)
        self.attention_weights = masked_softmax(scores, valid_lens)
        return torch.bmm(self.dropout(self.attention_weights), values)


class AttentionDecoder(d2l.Decoder):
    """The interface of decoders with attention: they expose their attention weights."""
    def __init__(self):
        super().__init__()

    @property
    def attention_weights(self):
        raise NotImplementedError


class Seq2SeqAttentionDecoder(AttentionDecoder):
    """A GRU decoder with Bahdanau (additive) attention over the encoder's outputs.

    At each step the query is the last layer's hidden state, keys and values are
    the encoder's outputs at the valid source positions; the context they give
    is fed to the GRU next to the embedding of the current token.
    """
    def __init__(self, vocab_size, embed_size, num_hiddens, num_layers, dropout=0):
        super().__init__()
        self.attention = d2l.AdditiveAttention(num_hiddens, dropout)
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.rnn = nn.GRU(embed_size + num_hiddens, num_hiddens, num_layers, dropout=dropout)
        self.dense = nn.LazyLinear(vocab_size)
        self.apply(d2l.init_seq2seq)

    def init_state(self, enc_outputs, enc_valid_lens):
        outputs, hidden_state = enc_outputs
        # Keys and values batch first: (batch_size, num_steps, num_hiddens)
        return outputs.swapaxes(0, 1), hidden_state, enc_valid_lens

    def forward(self, X, state):
        enc_outputs, hidden_state, enc_valid_lens = state
        embs = self.embedding(X.t().type(torch.int64))  # (num_steps, batch_size, embed_size)
        outputs, self._attention_weights = [], []
        for emb in embs:
            query = hidden_state[-1].unsqueeze(1)  # (batch_size, 1, num_hiddens)
            context = self.attention(query, enc_outputs, enc_outputs, enc_valid_lens)
            x = torch.cat((context, emb.unsqueeze(1)), dim=-1)  # (batch_size, 1, ...)
            out, hidden_state = self.rnn(x.swapaxes(0, 1), hidden_state)
            outputs.append(out)
            self._attention_weights.append(self.attention.attention_weights)
        outputs = self.dense(torch.cat(outputs, dim=0)).swapaxes(0, 1)
        # outputs: (batch_size, num_steps, vocab_size)
        return outputs, [enc_outputs, hidden_state, enc_valid_lens]

    @property
    def attention_weights(self):
        return self._attention_weights


class MultiHeadAttention(d2l.Module):
    """Multi-head attention: ``num_heads`` scaled dot-product attentions, each in
    its own ``num_hiddens / num_heads``-dimensional projection, concatenated and
    projected back."""
    def __init__(self, num_hiddens, num_heads, dropout, bias=False, **kwargs):
        super().__init__()
        if num_hiddens % num_heads:
            raise ValueError(f'num_hiddens={num_hiddens} must be divisible by '
                             f'num_heads={num_heads}: each head gets an equal share')
        self.num_heads = num_heads
        self.attention = d2l.DotProductAttention(dropout)
        self.W_q = nn.LazyLinear(num_hiddens, bias=bias)
        self.W_k = nn.LazyLinear(num_hiddens, bias=bias)
        self.W_v = nn.LazyLinear(num_hiddens, bias=bias)
        self.W_o = nn.LazyLinear(num_hiddens, bias=bias)

    def forward(self, queries, keys, values, valid_lens):
        # queries, keys, values: (batch_size, n_q or n_k, num_hiddens) or any input size
        # valid_lens: None, (batch_size,) or (batch_size, n_q)
        if valid_lens is not None and valid_lens.shape[:1] != queries.shape[:1]:
            raise ValueError(f'valid_lens has shape {tuple(valid_lens.shape)}, but the '
                             f'batch has {queries.shape[0]} examples')
        # After transpose_qkv: (batch_size * num_heads, n, num_hiddens / num_heads)
        queries = self.transpose_qkv(self.W_q(queries))
        keys = self.transpose_qkv(self.W_k(keys))
        values = self.transpose_qkv(self.W_v(values))
        if valid_lens is not None:
            # Rows b * num_heads ... b * num_heads + num_heads - 1 all belong to example b
            valid_lens = torch.repeat_interleave(valid_lens, repeats=self.num_heads, dim=0)
        output = self.attention(queries, keys, values, valid_lens)
        return self.W_o(self.transpose_output(output))  # (batch_size, n_q, num_hiddens)

    def transpose_qkv(self, X):
        """(batch, n, num_hiddens) -> (batch * num_heads, n, num_hiddens / num_heads)."""
        X = X.reshape(X.shape[0], X.shape[1], self.num_heads, -1)
        X = X.permute(0, 2, 1, 3)  # (batch, num_heads, n, num_hiddens / num_heads)
        return X.reshape(-1, X.shape[2], X.shape[3])

    def transpose_output(self, X):
        """Undo ``transpose_qkv``: the heads' outputs side by side again."""
        X = X.reshape(-1, self.num_heads, X.shape[1], X.shape[2])
        X = X.permute(0, 2, 1, 3)  # (batch, n, num_heads, num_hiddens / num_heads)
        return X.reshape(X.shape[0], X.shape[1], -1)


class PositionalEncoding(nn.Module):
    """Adds sinusoidal position codes, P[i, 2j] = sin(i / 10000^(2j/d)) and
    P[i, 2j+1] = cos(i / 10000^(2j/d)), then applies dropout."""
    def __init__(self, num_hiddens, dropout, max_len=1000):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        i = torch.arange(max_len, dtype=torch.float32).reshape(-1, 1)
        omega = 1 / torch.pow(10000, torch.arange(0, num_hiddens, 2,
                                                  dtype=torch.float32) / num_hiddens)
        P = torch.zeros((1, max_len, num_hiddens))
        P[0, :, 0::2] = torch.sin(i * omega)
        P[0, :, 1::2] = torch.cos(i * omega[:num_hiddens // 2])
        self.register_buffer('P', P, persistent=False)  # moves with .to(device)

    def forward(self, X, offset=0):
        """``X``: (batch, num_steps, num_hiddens), whose first step is at position
        ``offset`` (nonzero when a decoder reads one token at a time)."""
        if offset + X.shape[1] > self.P.shape[1]:
            raise ValueError(f'positions up to {offset + X.shape[1] - 1} need a '
                             f'PositionalEncoding with max_len > {self.P.shape[1]}')
        X = X + self.P[:, offset:offset + X.shape[1], :]
        return self.dropout(X)


class PositionWiseFFN(nn.Module):
    """The same two-layer MLP applied at every position."""
    def __init__(self, ffn_num_hiddens, ffn_num_outputs):
        super().__init__()
        self.dense1 = nn.LazyLinear(ffn_num_hiddens)
        self.relu = nn.ReLU()
        self.dense2 = nn.LazyLinear(ffn_num_outputs)

    def forward(self, X):
        return self.dense2(self.relu(self.dense1(X)))


class AddNorm(nn.Module):
    """A residual connection followed by layer normalization: LayerNorm(X + dropout(Y))."""
    def __init__(self, norm_shape, dropout):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.ln = nn.LayerNorm(norm_shape)

    def forward(self, X, Y):
        return self.ln(self.dropout(Y) + X)


class TransformerEncoderBlock(nn.Module):
    """Multi-head self-attention and a position-wise FFN, each wrapped in AddNorm."""
    def __init__(self, num_hiddens, ffn_num_hiddens, num_heads, dropout, use_bias=False):
        super().__init__()
        self.attention = d2l.MultiHeadAttention(num_hiddens, num_heads, dropout, use_bias)
        self.addnorm1 = AddNorm(num_hiddens, dropout)
        self.ffn = PositionWiseFFN(ffn_num_hiddens, num_hiddens)
        self.addnorm2 = AddNorm(num_hiddens, dropout)

    def forward(self, X, valid_lens):
        Y = self.addnorm1(X, self.attention(X, X, X, valid_lens))
        return self.addnorm2(Y, self.ffn(Y))


class TransformerEncoder(d2l.Encoder):
    """Token embeddings (scaled by sqrt(num_hiddens)) plus positional encoding,
    then ``num_blks`` encoder blocks."""
    def __init__(self, vocab_size, num_hiddens, ffn_num_hiddens, num_heads, num_blks,
                 dropout, use_bias=False):
        super().__init__()
        self.num_hiddens = num_hiddens
        self.embedding = nn.Embedding(vocab_size, num_hiddens)
        self.pos_encoding = d2l.PositionalEncoding(num_hiddens, dropout)
        self.blks = nn.Sequential()
        for i in range(num_blks):
            self.blks.add_module(str(i), TransformerEncoderBlock(
                num_hiddens, ffn_num_hiddens, num_heads, dropout, use_bias))

    def forward(self, X, valid_lens):
        X = self.pos_encoding(self.embedding(X) * math.sqrt(self.num_hiddens))
        self.attention_weights = [None] * len(self.blks)
        for i, blk in enumerate(self.blks):
            X = blk(X, valid_lens)
            self.attention_weights[i] = blk.attention.attention.attention_weights
        return X


class TransformerDecoderBlock(nn.Module):
    """Block ``i`` of the decoder: causal self-attention, attention to the encoder's
    outputs, and a position-wise FFN, each wrapped in AddNorm."""
    def __init__(self, num_hiddens, ffn_num_hiddens, num_heads, dropout, i):
        super().__init__()
        self.i = i
        self.attention1 = d2l.MultiHeadAttention(num_hiddens, num_heads, dropout)
        self.addnorm1 = AddNorm(num_hiddens, dropout)
        self.attention2 = d2l.MultiHeadAttention(num_hiddens, num_heads, dropout)
        self.addnorm2 = AddNorm(num_hiddens, dropout)
        self.ffn = PositionWiseFFN(ffn_num_hiddens, num_hiddens)
        self.addnorm3 = AddNorm(num_hiddens, dropout)

    def forward(self, X, state):
        enc_outputs, enc_valid_lens, cache = state
        # The block's inputs at all earlier positions, then those of X
        past = 0 if cache[self.i] is None else cache[self.i].shape[1]
        key_values = X if cache[self.i] is None else torch.cat((cache[self.i], X), dim=1)
        cache[self.i] = key_values
        # Causal mask: the query at position past + t sees keys 0 .. past + t
        batch_size, num_steps, _ = X.shape
        dec_valid_lens = torch.arange(past + 1, past + num_steps + 1,
                                      device=X.device).repeat(batch_size, 1)
        Y = self.addnorm1(X, self.attention1(X, key_values, key_values, dec_valid_lens))
        Z = self.addnorm2(Y, self.attention2(Y, enc_outputs, enc_outputs, enc_valid_lens))
        return self.addnorm3(Z, self.ffn(Z)), state


class TransformerDecoder(AttentionDecoder):
    """Embeddings plus positional encoding, ``num_blks`` decoder blocks and a
    linear layer to the vocabulary. Its state is ``[enc_outputs, enc_valid_lens,
    cache]``, where ``cache[i]`` holds block ``i``'s inputs at the positions
    decoded so far."""
    def __init__(self, vocab_size, num_hiddens, ffn_num_hiddens, num_heads, num_blks,
                 dropout):
        super().__init__()
        self.num_hiddens = num_hiddens
        self.num_blks = num_blks
        self.embedding = nn.Embedding(vocab_size, num_hiddens)
        self.pos_encoding = d2l.PositionalEncoding(num_hiddens, dropout)
        self.blks = nn.Sequential()
        for i in range(num_blks):
            self.blks.add_module(str(i), TransformerDecoderBlock(
                num_hiddens, ffn_num_hiddens, num_heads, dropout, i))
        self.dense = nn.LazyLinear(vocab_size)

    def init_state(self, enc_outputs, enc_valid_lens):
        return [enc_outputs, enc_valid_lens, [None] * self.num_blks]

    def forward(self, X, state):
        cache = state[2]
        past = 0 if cache[0] is None else cache[0].shape[1]  # tokens decoded before X
        X = self.pos_encoding(self.embedding(X) * math.sqrt(self.num_hiddens), past)
        self._attention_weights = [[None] * len(self.blks) for _ in range(2)]
        for i, blk in enumerate(self.blks):
            X, state = blk(X, state)
            self._attention_weights[0][i] = blk.attention1.attention.attention_weights
            self._attention_weights[1][i] = blk.attention2.attention.attention_weights
        return self.dense(X), state

    @property
    def attention_weights(self):
        return self._attention_weights
