"""Encoder-decoder interfaces, the GRU seq2seq model, its masked loss, greedy
prediction, BLEU, and beam search checked against exhaustive search."""
import itertools
import math
import os

import pytest
import torch
from torch import nn
from torch.nn import functional as F

import d2lmini as d2l

needs_mirror = pytest.mark.skipif(not os.environ.get('D2LMINI_MIRROR'),
                                  reason='fra-eng needs the data mirror (D2LMINI_MIRROR)')


def test_interfaces_must_be_implemented():
    with pytest.raises(NotImplementedError):
        d2l.Encoder()(torch.zeros(1, 1))
    with pytest.raises(NotImplementedError):
        d2l.Decoder().init_state(None)
    with pytest.raises(NotImplementedError):
        d2l.Decoder()(torch.zeros(1, 1), None)


def test_encoder_and_decoder_shapes():
    vocab_size, embed_size, num_hiddens, num_layers = 10, 8, 16, 2
    batch_size, num_steps = 4, 9
    encoder = d2l.Seq2SeqEncoder(vocab_size, embed_size, num_hiddens, num_layers)
    X = torch.zeros((batch_size, num_steps))  # float indices are accepted, as in d2l
    outputs, state = encoder(X)
    d2l.check_shape(outputs, (num_steps, batch_size, num_hiddens))
    d2l.check_shape(state, (num_layers, batch_size, num_hiddens))
    decoder = d2l.Seq2SeqDecoder(vocab_size, embed_size, num_hiddens, num_layers)
    state = decoder.init_state(encoder(X))
    Y, state = decoder(X, state)
    d2l.check_shape(Y, (batch_size, num_steps, vocab_size))
    d2l.check_len(state, 2)
    d2l.check_shape(state[1], (num_layers, batch_size, num_hiddens))
    assert torch.equal(state[0], outputs)  # the encoder outputs travel in the state


def test_init_seq2seq_is_xavier_on_linear_and_gru_weights_only():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Embedding(50, 30), nn.GRU(30, 40, 2), nn.Linear(40, 50))
    before = {name: p.clone() for name, p in net.named_parameters()}
    net.apply(d2l.init_seq2seq)
    for name, p in net.named_parameters():
        changed = not torch.equal(p, before[name])
        assert changed == ('weight' in name and not name.startswith('0.')), name
        if changed:
            fan_out, fan_in = p.shape
            assert p.abs().max() <= math.sqrt(6 / (fan_in + fan_out))


def tiny_seq2seq(src_vocab=7, tgt_vocab=4, dropout=0.0, seed=0, decoder=None):
    torch.manual_seed(seed)
    encoder = d2l.Seq2SeqEncoder(src_vocab, 5, 8, 2, dropout)
    if decoder is None:
        decoder = d2l.Seq2SeqDecoder(tgt_vocab, 5, 8, 2, dropout)
    model = d2l.Seq2Seq(encoder, decoder, tgt_pad=0, lr=0.01)
    model(torch.zeros(1, 3, dtype=torch.long), torch.zeros(1, 1, dtype=torch.long),
          torch.ones(1, dtype=torch.long))  # create lazy layers
    with torch.no_grad():  # sharper distributions than a fresh model's
        for p in model.decoder.dense.parameters():
            p.mul_(4)
    return model


def test_masked_loss_ignores_padding():
    model = tiny_seq2seq(tgt_vocab=6)
    torch.manual_seed(1)
    Y_hat = torch.randn(3, 5, 6)
    Y = torch.tensor([[2, 3, 1, 0, 0], [4, 4, 4, 4, 1], [5, 1, 0, 0, 0]])  # pad = 0
    loss = model.loss(Y_hat, Y)
    expected = F.cross_entropy(Y_hat.reshape(-1, 6), Y.reshape(-1), ignore_index=0)
    assert torch.allclose(loss, expected)
    # Changing the predictions at padded positions only leaves the loss alone
    changed = Y_hat.clone()
    changed[Y == 0] = torch.randn(int((Y == 0).sum()), 6) * 10
    assert torch.equal(model.loss(changed, Y), loss)
    # ... but not at a real token, and the unmasked loss is a different number
    changed[0, 0, 2] += 5
    assert not torch.allclose(model.loss(changed, Y), loss)
    assert not torch.allclose(d2l.Classifier.loss(model, Y_hat, Y), loss)


def test_seq2seq_uses_adam_and_validation_plots_only_the_loss():
    model = tiny_seq2seq()
    optimizer = model.configure_optimizers()
    assert isinstance(optimizer, torch.optim.Adam) and optimizer.defaults['lr'] == 0.01
    assert model.tgt_pad == 0


def test_encoder_decoder_forward_is_decoder_on_encoded_state():
    model = tiny_seq2seq()
    src, tgt = torch.randint(0, 7, (2, 6)), torch.randint(0, 4, (2, 5))
    valid = torch.tensor([6, 3])
    state = model.decoder.init_state(model.encoder(src, valid), valid)
    assert torch.equal(model(src, tgt, valid), model.decoder(tgt, state)[0])


def make_batch(num_sources=3, src_len=6, bos=1, seed=5):
    g = torch.Generator().manual_seed(seed)
    src = torch.randint(1, 7, (num_sources, src_len), generator=g)
    valid = torch.randint(2, src_len + 1, (num_sources,), generator=g)
    tgt = torch.full((num_sources, src_len), bos)
    return src, tgt, valid, tgt


def test_predict_step_is_greedy_deterministic_and_restores_the_mode():
    model = tiny_seq2seq(dropout=0.3)
    batch = make_batch()
    model.train()
    preds, attention = model.predict_step(batch, None, 7)
    assert model.training and attention == []
    assert preds.shape == (3, 7) and preds.dtype == torch.long
    assert torch.equal(model.predict_step(batch, 'cpu', 7)[0], preds)
    # The same as feeding back the argmax by hand
    model.eval()
    src, tgt, valid, _ = batch
    state = model.decoder.init_state(model.encoder(src, valid), valid)
    X, expected = tgt[:, :1], []
    with torch.no_grad():
        for _ in range(7):
            Y, state = model.decoder(X, state)
            X = Y.argmax(2)
            expected.append(X)
    assert torch.equal(preds, torch.cat(expected, 1))


def test_bleu_on_hand_computed_examples():
    assert d2l.bleu('a b c d', 'a b c d', k=4) == 1
    # p1 = 4/5, p2 = 3/4; the prediction is shorter: penalty exp(1 - 6/5)
    expected = math.exp(1 - 6 / 5) * (4 / 5) ** 0.5 * (3 / 4) ** 0.25
    assert d2l.bleu('A B B C D', 'A B C D E F', k=2) == pytest.approx(expected)
    # p3 = 1/3 and p4 = 0 follow
    assert d2l.bleu('A B B C D', 'A B C D E F', k=3) == pytest.approx(expected * (1 / 3) ** 0.125)
    assert d2l.bleu('A B B C D', 'A B C D E F', k=4) == 0
    # Brevity penalty alone: every n-gram of 'A B' matches
    assert d2l.bleu('A B', 'A B C D E F', k=2) == pytest.approx(math.exp(-2))
    # Repeated words match at most as often as the reference has them (clipping)
    assert d2l.bleu('the the the', 'the cat', k=1) == pytest.approx((1 / 3) ** 0.5)
    # No penalty for a longer prediction; n-grams longer than it are skipped
    assert d2l.bleu('je suis chez moi .', 'je suis .', k=2) == pytest.approx(
        (3 / 5) ** 0.5 * (1 / 4) ** 0.25)
    assert d2l.bleu('va !', 'va !', k=5) == 1
    with pytest.raises(ValueError, match='positive integer'):
        d2l.bleu('a', 'a', k=0)


# -- Beam search ---------------------------------------------------------------
BOS, EOS = 1, 2


def sequence_log_probs(model, src, valid, seqs):
    """log P(seq | src) by teacher forcing, for a (n, L) batch of target sequences."""
    n = seqs.shape[0]
    dec_in = torch.cat((torch.full((n, 1), BOS), seqs[:, :-1]), 1)
    with torch.no_grad():
        model.eval()
        logits = model(src.expand(n, -1), dec_in, valid.expand(n))
    return F.log_softmax(logits, -1).gather(2, seqs[..., None]).squeeze(-1).sum(1)


def exhaustive(model, src, valid, num_steps, alpha, V):
    """Every complete sequence (ending with eos, or num_steps long) and its score."""
    others = [v for v in range(V) if v != EOS]
    found = []
    for L in range(1, num_steps + 1):
        seqs = [list(p) + [EOS] for p in itertools.product(others, repeat=L - 1)]
        if L == num_steps:
            seqs += [list(p) for p in itertools.product(others, repeat=L)]
        seqs = torch.tensor(seqs)
        scores = sequence_log_probs(model, src, valid, seqs) / L ** alpha
        found += [(s.item(), tuple(q.tolist())) for s, q in zip(scores, seqs)]
    return sorted(found, reverse=True)


def as_sequence(tokens, length):
    return tuple(tokens[:length].tolist())


@pytest.mark.parametrize('alpha', [0.0, 0.75, 1.0])
def test_a_large_beam_finds_exactly_the_exhaustive_ranking(alpha):
    V, T = 4, 4
    model = tiny_seq2seq(tgt_vocab=V)
    src, _, valid, _ = make_batch()
    # Every live prefix fits in the beam: V * (V - 1) ** (T - 1) = 108 extensions at the end
    K = V * (V - 1) ** (T - 1)
    out = d2l.beam_search(model, src, valid, T, K, bos=BOS, eos=EOS, alpha=alpha)
    assert out.tokens.shape == (3, K, T) and out.scores.shape == out.lengths.shape == (3, K)
    for b in range(3):
        ranking = exhaustive(model, src[b:b + 1], valid[b:b + 1], T, alpha, V)
        assert len(ranking) == 121  # 1 + 3 + 9 + 27 ending in eos, 81 without
        got = [as_sequence(t, L) for t, L in zip(out.tokens[b], out.lengths[b])]
        assert got == [q for _, q in ranking[:K]]
        assert torch.allclose(out.scores[b], torch.tensor([s for s, _ in ranking[:K]]),
                              atol=1e-5)


def test_beam_scores_are_the_length_normalised_probabilities_of_their_sequences():
    """A small beam prunes, but each returned score must be what its sequence is
    worth: this fails if the decoder state does not follow the beams' parents."""
    model = tiny_seq2seq(tgt_vocab=6, seed=3)
    with torch.no_grad():
        model.decoder.dense.bias[EOS] -= 4  # longer sequences: beams branch and swap
    src, _, valid, _ = make_batch(num_sources=4, seed=11)
    out = d2l.beam_search(model, src, valid, 6, 3, bos=BOS, eos=EOS, alpha=0.75)
    assert (out.scores[:, :-1] >= out.scores[:, 1:]).all()  # best first
    assert (out.lengths >= 4).float().mean() > 0.5
    for b in range(4):
        for tokens, L, score in zip(out.tokens[b], out.lengths[b], out.scores[b]):
            seq = tokens[:L]
            assert (seq[:-1] != EOS).all() and (seq[-1] == EOS or L == 6)
            assert (tokens[L:] == EOS).all()  # filled with eos after the end
            expected = sequence_log_probs(model, src[b:b + 1], valid[b:b + 1], seq[None])
            assert score.item() == pytest.approx(expected.item() / L.item() ** 0.75, abs=1e-5)


def cut_at_eos(tokens):
    out = []
    for t in tokens.tolist():
        out.append(t)
        if t == EOS:
            break
    return out


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_beam_size_one_is_greedy_predict_step(seed):
    model = tiny_seq2seq(tgt_vocab=5, seed=seed)
    batch = make_batch(num_sources=5, bos=BOS, seed=seed)
    greedy, _ = model.predict_step(batch, None, 8)
    out = d2l.beam_search(model, batch[0], batch[2], 8, 1, bos=BOS, eos=EOS)
    for b in range(5):
        assert as_sequence(out.tokens[b, 0], out.lengths[b, 0]) == tuple(cut_at_eos(greedy[b]))


def test_a_batch_of_sources_gives_what_each_source_gives_alone():
    model = tiny_seq2seq(tgt_vocab=5, seed=4)
    src, _, valid, _ = make_batch(num_sources=4, seed=2)
    together = d2l.beam_search(model, src, valid, 5, 3, bos=BOS, eos=EOS)
    for b in range(4):
        alone = d2l.beam_search(model, src[b:b + 1], valid[b:b + 1], 5, 3, bos=BOS, eos=EOS)
        assert torch.equal(alone.tokens[0], together.tokens[b])
        assert torch.allclose(alone.scores[0], together.scores[b], atol=1e-6)


class CacheDecoder(d2l.Decoder):
    """A decoder whose state is batch-first and grows a cache in place, as chapter
    11's Transformer decoder does: [enc_outputs (B, T, H), valid_lens (B,), [cache]]."""
    def __init__(self, vocab_size, num_hiddens):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, num_hiddens)
        self.dense = nn.Linear(num_hiddens, vocab_size)

    def init_state(self, enc_all_outputs, enc_valid_lens):
        return [enc_all_outputs[0].permute(1, 0, 2), enc_valid_lens, [None]]

    def forward(self, X, state):
        enc, valid, cache = state
        mask = torch.arange(enc.shape[1])[None, :] < valid[:, None]
        context = (enc * mask[..., None]).sum(1) / valid[:, None]  # (B, H)
        prev = 0 if cache[0] is None else cache[0].shape[1]
        emb = self.embedding(X)
        cache[0] = emb if cache[0] is None else torch.cat((cache[0], emb), 1)
        counts = torch.arange(prev + 1, prev + X.shape[1] + 1)[None, :, None]
        H = torch.tanh(cache[0].cumsum(1)[:, prev:] / counts + context[:, None])
        return 3 * self.dense(H), state


def test_beam_search_handles_batch_first_states_with_a_growing_cache():
    torch.manual_seed(0)
    model = tiny_seq2seq(tgt_vocab=4, decoder=CacheDecoder(4, 8))
    src, _, valid, _ = make_batch(num_sources=2, seed=3)
    out = d2l.beam_search(model, src, valid, 4, 108, bos=BOS, eos=EOS)
    small = d2l.beam_search(model, src, valid, 4, 2, bos=BOS, eos=EOS)
    greedy, _ = model.predict_step((src, torch.full((2, 1), BOS), valid, None), None, 4)
    ones = d2l.beam_search(model, src, valid, 4, 1, bos=BOS, eos=EOS)
    for b in range(2):
        ranking = exhaustive(model, src[b:b + 1], valid[b:b + 1], 4, 0.75, 4)
        assert as_sequence(out.tokens[b, 0], out.lengths[b, 0]) == ranking[0][1]
        assert out.scores[b, 0].item() == pytest.approx(ranking[0][0], abs=1e-5)
        for tokens, L, score in zip(small.tokens[b], small.lengths[b], small.scores[b]):
            worth = dict((q, s) for s, q in ranking)[as_sequence(tokens, L)]
            assert score.item() == pytest.approx(worth, abs=1e-5)
        assert as_sequence(ones.tokens[b, 0], ones.lengths[b, 0]) == tuple(cut_at_eos(greedy[b]))


def test_one_source_with_as_many_beams_as_layers_is_not_confused():
    """batch_size * beam_size = num_layers = 2: the hidden state (2, 2, H) has two
    dimensions of size 2; only the second is the batch."""
    model = tiny_seq2seq(tgt_vocab=5, seed=6)
    src, _, valid, _ = make_batch(num_sources=1, seed=4)
    out = d2l.beam_search(model, src, valid, 5, 2, bos=BOS, eos=EOS)
    for tokens, L, score in zip(out.tokens[0], out.lengths[0], out.scores[0]):
        expected = sequence_log_probs(model, src, valid, tokens[:L][None]).item()
        assert score.item() == pytest.approx(expected / L.item() ** 0.75, abs=1e-5)


def test_beam_search_errors():
    model = tiny_seq2seq()
    src, _, valid, _ = make_batch()
    with pytest.raises(ValueError, match='beam_size must be a positive integer'):
        d2l.beam_search(model, src, valid, 5, 0, bos=BOS, eos=EOS)
    with pytest.raises(ValueError, match='num_steps must be a positive integer'):
        d2l.beam_search(model, src, valid, 0, 2, bos=BOS, eos=EOS)
    with pytest.raises(ValueError, match='src must be'):
        d2l.beam_search(model, src, valid[:2], 5, 2, bos=BOS, eos=EOS)
    with pytest.raises(ValueError, match='below the decoder\'s vocabulary size 4'):
        d2l.beam_search(model, src, valid, 5, 2, bos=BOS, eos=9)


@needs_mirror
def test_seq2seq_learns_to_translate(monkeypatch):
    monkeypatch.setenv('D2LMINI_PROFILE', 'full')
    monkeypatch.setenv('D2LMINI_BOARD', 'off')
    torch.manual_seed(0)
    data = d2l.MTFraEng(batch_size=128)
    encoder = d2l.Seq2SeqEncoder(len(data.src_vocab), 32, 32, 2, 0.2)
    decoder = d2l.Seq2SeqDecoder(len(data.tgt_vocab), 32, 32, 2, 0.2)
    model = d2l.Seq2Seq(encoder, decoder, tgt_pad=data.tgt_vocab['<pad>'], lr=0.01)
    d2l.Trainer(max_epochs=4, gradient_clip_val=1).fit(model, data)
    train, val = model.board.values('train_loss'), model.board.values('val_loss')
    # ln(214) = 5.37 for a uniform guess over the target vocabulary
    assert train[0] > 4.5 and train[-1] < 3.5 and val[-1] < 3.7
    batch = data.build(['go .', 'i lost .'], ['va !', "j'ai perdu ."])
    preds, _ = model.predict_step(batch, None, data.num_steps)
    assert preds.shape == (2, data.num_steps)


def chapter11_models():
    """Seq2Seq models with chapter 11's decoders, where d2lmini has them."""
    if hasattr(d2l, 'Seq2SeqAttentionDecoder'):
        torch.manual_seed(0)
        yield 'bahdanau', d2l.Seq2Seq(d2l.Seq2SeqEncoder(7, 5, 8, 2),
                                      d2l.Seq2SeqAttentionDecoder(4, 5, 8, 2), 0, 0.01)
    if hasattr(d2l, 'TransformerDecoder'):
        torch.manual_seed(0)
        yield 'transformer', d2l.Seq2Seq(d2l.TransformerEncoder(7, 8, 16, 2, 2, 0.0),
                                         d2l.TransformerDecoder(4, 8, 16, 2, 2, 0.0), 0, 0.01)


# Defined only once chapter 11's decoders exist in d2lmini (they arrive with that chapter).
_CH11 = list(chapter11_models())


@pytest.mark.parametrize('name, model', _CH11 or [pytest.param(None, None, marks=pytest.mark.skip(
    'chapter 11 decoders not in d2lmini yet'))])
def test_beam_search_with_chapter_11_decoders(name, model):
    """Exhaustive with a large beam, exact scores with a small one, greedy with one:
    this needs the decoder's step-by-step outputs to equal its teacher-forced ones."""
    src, _, valid, _ = make_batch(num_sources=2, seed=3)
    model(src, torch.ones(2, 1, dtype=torch.long), valid)  # create lazy layers
    with torch.no_grad():
        for p in model.decoder.dense.parameters():
            p.mul_(4)
    out = d2l.beam_search(model, src, valid, 4, 108, bos=BOS, eos=EOS)
    small = d2l.beam_search(model, src, valid, 4, 2, bos=BOS, eos=EOS)
    ones = d2l.beam_search(model, src, valid, 4, 1, bos=BOS, eos=EOS)
    greedy, _ = model.predict_step((src, torch.full((2, 1), BOS), valid), None, 4)
    for b in range(2):
        ranking = exhaustive(model, src[b:b + 1], valid[b:b + 1], 4, 0.75, 4)
        got = [as_sequence(t, L) for t, L in zip(out.tokens[b], out.lengths[b])]
        assert got == [q for _, q in ranking[:108]]
        worth = dict((q, s) for s, q in ranking)
        for tokens, L, score in zip(small.tokens[b], small.lengths[b], small.scores[b]):
            assert score.item() == pytest.approx(worth[as_sequence(tokens, L)], abs=1e-5)
        assert as_sequence(ones.tokens[b, 0], ones.lengths[b, 0]) == tuple(cut_at_eos(greedy[b]))
