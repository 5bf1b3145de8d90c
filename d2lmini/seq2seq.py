"""Encoder–decoder models: the interfaces (section 10.6), the GRU sequence-to-sequence
model with its masked loss, greedy prediction and BLEU (section 10.7), and a
batched beam search (section 10.8) that works with every decoder written to the
``Decoder`` interface (the RNN decoder here, and chapter 11's attention and
Transformer decoders).
"""
import collections
import math
from typing import NamedTuple

import torch
from torch import nn
from torch.nn import functional as F

import d2lmini as d2l
from .rnn import inference_mode, model_device


class Encoder(nn.Module):
    """The encoder interface: a variable-length sequence in, an encoding out."""
    def __init__(self):
        super().__init__()

    # Subclasses may take more arguments, e.g. the valid lengths of X
    def forward(self, X, *args):
        raise NotImplementedError


class Decoder(nn.Module):
    """The decoder interface: turns the encoding into a state, then emits tokens."""
    def __init__(self):
        super().__init__()

    def init_state(self, enc_all_outputs, *args):
        raise NotImplementedError

    def forward(self, X, state):
        raise NotImplementedError


class EncoderDecoder(d2l.Classifier):
    """An encoder and a decoder trained together as one classifier of target tokens."""
    def __init__(self, encoder, decoder):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder

    def forward(self, enc_X, dec_X, *args):
        enc_all_outputs = self.encoder(enc_X, *args)
        dec_state = self.decoder.init_state(enc_all_outputs, *args)
        return self.decoder(dec_X, dec_state)[0]  # the outputs, not the state

    def predict_step(self, batch, device, num_steps, save_attention_weights=False):
        """Greedy decoding of ``num_steps`` tokens for each source in ``batch``.

        ``batch`` is ``(src, tgt, src_valid_len, labels)`` as the data module
        gives it; only the first column of ``tgt`` (``<bos>``) is read, and the
        labels not at all. Returns
        the predicted indices (batch_size, num_steps), which continue after
        ``<eos>`` (cut there), and, if asked, the decoder's attention weights of
        each step. Runs in evaluation mode, without gradients.
        """
        if device is None:
            device = model_device(self)
        src, tgt, src_valid_len = [a.to(device) for a in batch[:3]]
        with inference_mode(self):
            enc_all_outputs = self.encoder(src, src_valid_len)
            dec_state = self.decoder.init_state(enc_all_outputs, src_valid_len)
            outputs, attention_weights = [tgt[:, :1]], []
            for _ in range(num_steps):
                Y, dec_state = self.decoder(outputs[-1], dec_state)
                outputs.append(Y.argmax(dim=2))
                if save_attention_weights:
                    attention_weights.append(self.decoder.attention_weights)
        return torch.cat(outputs[1:], 1), attention_weights


def init_seq2seq(module):
    """Xavier-uniform weights for ``nn.Linear`` and ``nn.GRU`` layers (use with ``apply``)."""
    if type(module) == nn.Linear:
        nn.init.xavier_uniform_(module.weight)
    if type(module) == nn.GRU:
        for name, param in module.named_parameters():
            if name.startswith('weight'):
                nn.init.xavier_uniform_(param)


class Seq2SeqEncoder(Encoder):
    """A multilayer GRU encoder over token embeddings."""
    def __init__(self, vocab_size, embed_size, num_hiddens, num_layers, dropout=0):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.rnn = d2l.GRU(embed_size, num_hiddens, num_layers, dropout)
        self.apply(init_seq2seq)

    def forward(self, X, *args):
        # X: (batch_size, num_steps); embs: (num_steps, batch_size, embed_size)
        embs = self.embedding(X.t().type(torch.int64))
        outputs, state = self.rnn(embs)
        # outputs: (num_steps, batch_size, num_hiddens), the last layer at every step
        # state: (num_layers, batch_size, num_hiddens), every layer at the last step
        return outputs, state


class Seq2SeqDecoder(Decoder):
    """A multilayer GRU decoder that also reads the encoder's context at every step.

    Its state is ``[enc_outputs, hidden_state]``; the context is the encoder's
    last-layer output at its last step. The encoder and the decoder must have
    the same number of layers and hidden units.
    """
    def __init__(self, vocab_size, embed_size, num_hiddens, num_layers, dropout=0):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.rnn = d2l.GRU(embed_size + num_hiddens, num_hiddens, num_layers, dropout)
        self.dense = nn.LazyLinear(vocab_size)
        self.apply(init_seq2seq)

    def init_state(self, enc_all_outputs, *args):
        return enc_all_outputs

    def forward(self, X, state):
        # X: (batch_size, num_steps); embs: (num_steps, batch_size, embed_size)
        embs = self.embedding(X.t().type(torch.int32))
        enc_output, hidden_state = state
        context = enc_output[-1]  # (batch_size, num_hiddens)
        # The same context at every decoder step, next to each embedding
        context = context.expand(embs.shape[0], -1, -1)
        embs_and_context = torch.cat((embs, context), -1)
        outputs, hidden_state = self.rnn(embs_and_context, hidden_state)
        outputs = self.dense(outputs).swapaxes(0, 1)
        # outputs: (batch_size, num_steps, vocab_size)
        return outputs, [enc_output, hidden_state]


class Seq2Seq(EncoderDecoder):
    """The encoder–decoder for translation: masked loss, Adam, loss-only validation."""
    def __init__(self, encoder, decoder, tgt_pad, lr):
        super().__init__(encoder, decoder)
        self.save_hyperparameters()

    def loss(self, Y_hat, Y):
        """Cross-entropy averaged over the target tokens that are not ``<pad>``."""
        l = super().loss(Y_hat, Y, averaged=False)
        mask = (Y.reshape(-1) != self.tgt_pad).type(torch.float32)
        return (l * mask).sum() / mask.sum()

    def validation_step(self, batch):
        Y_hat = self(*batch[:-1])
        self.plot('loss', self.loss(Y_hat, batch[-1]), train=False)

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.lr)


def bleu(pred_seq, label_seq, k):
    """BLEU of a predicted sentence against one reference (tokens split on spaces).

    ``exp(min(0, 1 - len_label / len_pred)) * prod_{n=1..k} p_n ** (1 / 2 ** n)``,
    where ``p_n`` is the fraction of the prediction's n-grams that the
    reference contains (each reference n-gram matched at most as often as it
    occurs there); n-grams longer than the prediction are skipped.
    """
    if not isinstance(k, int) or k < 1:
        raise ValueError(f'k (the longest n-gram) must be a positive integer, got {k!r}')
    pred, label = pred_seq.split(' '), label_seq.split(' ')
    score = math.exp(min(0, 1 - len(label) / len(pred)))  # brevity penalty
    for n in range(1, min(k, len(pred)) + 1):
        pred_ngrams = collections.Counter(
            tuple(pred[i:i + n]) for i in range(len(pred) - n + 1))
        label_ngrams = collections.Counter(
            tuple(label[i:i + n]) for i in range(len(label) - n + 1))
        matches = sum((pred_ngrams & label_ngrams).values())  # clipped counts
        score *= (matches / (len(pred) - n + 1)) ** (0.5 ** n)
    return score


class BeamSearchOutput(NamedTuple):
    """What :func:`beam_search` returns, best sequence first for each source."""
    tokens: torch.Tensor   # (batch_size, beam_size, num_steps), filled with eos after eos
    scores: torch.Tensor   # (batch_size, beam_size): log P / length ** alpha
    lengths: torch.Tensor  # (batch_size, beam_size): tokens up to and including eos


def beam_search(model, src, src_valid_len, num_steps, beam_size, *, bos, eos,
                alpha=0.75, device=None):
    """Beam search over the decoder of an encoder–decoder ``model``, batched over
    sources and beams.

    At each step every live sequence is extended by every token and the
    ``beam_size`` most probable extensions of each source are kept. An extension
    that ends with ``eos`` (or reaches ``num_steps`` tokens) is complete and
    leaves the beam; complete sequences compete on their length-normalised
    score ``log P(y) / L ** alpha`` (``L`` counts the tokens, ``eos``
    included). ``beam_size=1`` is greedy decoding; a beam as large as the number
    of possible sequences is exhaustive search.

    ``src`` (batch_size, src_len) and ``src_valid_len`` (batch_size,) are what
    the data module's batches hold; ``bos`` and ``eos`` are target-vocabulary
    indices. Works with any ``Decoder`` whose state is a (nested) list or tuple
    of tensors with a batch dimension (found by comparing with a one-source
    run), or that has a method ``reorder_state(state, rows)``.
    """
    if not isinstance(beam_size, int) or beam_size < 1:
        raise ValueError(f'beam_size must be a positive integer, got {beam_size!r}')
    if not isinstance(num_steps, int) or num_steps < 1:
        raise ValueError(f'num_steps must be a positive integer, got {num_steps!r}')
    if src.dim() != 2 or src_valid_len.shape != src.shape[:1]:
        raise ValueError(f'src must be (batch_size, src_len) and src_valid_len '
                         f'(batch_size,), got {tuple(src.shape)} and '
                         f'{tuple(src_valid_len.shape)}')
    device = model_device(model) if device is None else torch.device(device)
    src, src_valid_len = src.to(device), src_valid_len.to(device)
    B, K = src.shape[0], beam_size
    with inference_mode(model):
        # Row b * K + k of every batch holds beam k of source b
        state = _decoder_state(model, src.repeat_interleave(K, 0),
                               src_valid_len.repeat_interleave(K, 0))
        live = torch.full((B, K), -math.inf, device=device)  # log P of live beams
        live[:, 0] = 0  # at the start, one empty sequence per source
        live_tokens = torch.full((B, K, num_steps), eos, dtype=torch.long, device=device)
        done = torch.full((B, K), -math.inf, device=device)  # normalised, complete
        done_tokens = live_tokens.clone()
        done_len = torch.zeros((B, K), dtype=torch.long, device=device)
        X = torch.full((B * K, 1), bos, dtype=torch.long, device=device)
        reorder = None
        for t in range(1, num_steps + 1):
            Y, state = model.decoder(X, state)
            log_p = F.log_softmax(Y[:, -1].float(), dim=-1).view(B, K, -1)
            V = log_p.shape[-1]
            if t == 1 and not (0 <= bos < V and 0 <= eos < V):
                raise ValueError(f'bos={bos} and eos={eos} must be indices below the '
                                 f'decoder\'s vocabulary size {V}')
            # The K most probable extensions of each source's live beams
            top, idx = (live[..., None] + log_p).view(B, -1).topk(K, dim=1)
            parent, token = idx // V, idx % V
            tokens = live_tokens.gather(1, parent[..., None].expand(-1, -1, num_steps))
            tokens[:, :, t - 1] = token
            ends = token == eos if t < num_steps else torch.ones_like(token, dtype=torch.bool)
            # Complete ones join the K best complete sequences so far
            new_done = torch.where(ends, top / t ** alpha, -math.inf)
            done, best = torch.cat((done, new_done), 1).topk(K, dim=1)
            done_tokens = torch.cat((done_tokens, tokens), 1).gather(
                1, best[..., None].expand(-1, -1, num_steps))
            done_len = torch.cat((done_len, torch.full_like(done_len, t)), 1).gather(1, best)
            # The others stay live; the decoder state follows each one's parent
            live, live_tokens = torch.where(ends, -math.inf, top), tokens
            if t < num_steps:
                X = token.reshape(B * K, 1)
                if K > 1:
                    if reorder is None:
                        reorder = _state_reorderer(model, src[:1], src_valid_len[:1],
                                                   bos, state, B * K)
                    rows = (parent + torch.arange(B, device=device)[:, None] * K).reshape(-1)
                    state = reorder(state, rows)
    return BeamSearchOutput(done_tokens, done, done_len)


def _decoder_state(model, src, src_valid_len):
    return model.decoder.init_state(model.encoder(src, src_valid_len), src_valid_len)


def _tensors(state):
    """The tensors of a nested list/tuple/dict state, in a fixed order."""
    if torch.is_tensor(state):
        return [state]
    if isinstance(state, (list, tuple)):
        return [t for s in state for t in _tensors(s)]
    if isinstance(state, dict):
        return [t for key in sorted(state) for t in _tensors(state[key])]
    return []


def _map_tensors(state, fn, counter):
    if torch.is_tensor(state):
        i = counter[0]
        counter[0] += 1
        return fn(i, state)
    if isinstance(state, (list, tuple)):
        mapped = [_map_tensors(s, fn, counter) for s in state]
        if isinstance(state, list):
            return mapped
        return type(state)(*mapped) if hasattr(state, '_fields') else type(state)(mapped)
    if isinstance(state, dict):
        return {key: _map_tensors(state[key], fn, counter) for key in sorted(state)}
    return state


def _state_reorderer(model, src1, valid_len1, bos, state, n):
    """A function ``(state, rows) -> state`` that keeps the given batch rows.

    Uses the decoder's ``reorder_state`` if it has one. Otherwise the batch
    dimension of every state tensor is found by running the first source alone
    for one step: it is the one dimension whose size is ``n`` here and 1 there.
    """
    if hasattr(model.decoder, 'reorder_state'):
        return model.decoder.reorder_state
    one = _decoder_state(model, src1, valid_len1)
    _, one = model.decoder(torch.full((1, 1), bos, dtype=torch.long,
                                      device=src1.device), one)
    big, small = _tensors(state), _tensors(one)
    if len(big) != len(small):
        raise RuntimeError('beam_search: the decoder state changes structure with the '
                           'batch size; give the decoder a reorder_state(state, rows) method')
    dims = []
    for a, b in zip(big, small):
        differ = ([d for d in range(a.dim()) if a.shape[d] != b.shape[d]]
                  if a.dim() == b.dim() else [])
        if a.dim() != b.dim() or len(differ) > 1 or (
                differ and (a.shape[differ[0]], b.shape[differ[0]]) != (n, 1)):
            raise RuntimeError(
                f'beam_search cannot find the batch dimension of a decoder state '
                f'tensor of shape {tuple(a.shape)} (one source: {tuple(b.shape)}); give '
                'the decoder a reorder_state(state, rows) method')
        dims.append(differ[0] if differ else None)  # None: shared by all rows

    def reorder(state, rows):
        if len(_tensors(state)) != len(dims):
            raise RuntimeError('beam_search: the decoder state changed structure between '
                               'steps; give the decoder a reorder_state(state, rows) method')
        return _map_tensors(state, lambda i, a: a if dims[i] is None
                            else a.index_select(dims[i], rows), [0])
    return reorder
