"""Sequence-chapter behaviour the other tests leave open: constructor defaults
(bias, dropout, number of blocks, learning rate, dataset sizes), work on a
non-CPU device (the ``meta`` device stands in for a GPU), the positional
encoding's length limit and message, the Transformer's embedding scale,
chunked decoding and attention weights, the language model's steps, and the
Time Machine's windows on small corpora."""
import pytest
import torch
from torch import nn
from torch.nn import functional as F

import d2lmini as d2l
from d2lmini.rnn import model_device

def bias_of(*linears):
    return [layer.bias is not None for layer in linears]


def mha_linears(attention):
    return attention.W_q, attention.W_k, attention.W_v, attention.W_o


# -- masked softmax -----------------------------------------------------------------

def test_masked_softmax_error_names_the_shapes_it_accepts():
    X = torch.zeros(2, 3, 4)
    with pytest.raises(ValueError) as info:
        d2l.masked_softmax(X, torch.tensor([1, 2, 3, 4]))
    message = str(info.value)
    assert '(2,) or (2, 3)' in message and '(4,)' in message


@pytest.mark.parametrize('valid_lens', [[1, 3], [[1, 2, 3], [4, 0, 2]]])
def test_masked_softmax_runs_on_the_device_of_its_inputs(valid_lens):
    X = torch.zeros(2, 3, 4, device='meta')
    weights = d2l.masked_softmax(X, torch.tensor(valid_lens, device='meta'))
    assert weights.device.type == 'meta' and weights.shape == (2, 3, 4)


# -- layer constructors: biases and dropout ---------------------------------------------

def test_additive_attention_has_no_biases():
    torch.manual_seed(0)
    attention = d2l.AdditiveAttention(num_hiddens=6, dropout=0)
    attention(torch.randn(2, 1, 5), torch.randn(2, 4, 3), torch.randn(2, 4, 7))
    assert sorted(name for name, _ in attention.named_parameters()) == [
        'W_k.weight', 'W_q.weight', 'w_v.weight']
    assert sum(p.numel() for p in attention.parameters()) == 6 * 5 + 6 * 3 + 6


def test_multihead_attention_has_biases_only_when_asked():
    X = torch.randn(2, 3, 8)
    default = d2l.MultiHeadAttention(8, 2, 0)
    default(X, X, X, None)
    assert bias_of(*mha_linears(default)) == [False] * 4
    biased = d2l.MultiHeadAttention(8, 2, 0, bias=True)
    biased(X, X, X, None)
    assert bias_of(*mha_linears(biased)) == [True] * 4


def test_encoder_block_passes_use_bias_to_its_attention():
    X, valid_lens = torch.randn(2, 3, 8), torch.tensor([2, 3])
    default = d2l.TransformerEncoderBlock(8, 12, 2, 0)
    default(X, valid_lens)
    assert bias_of(*mha_linears(default.attention)) == [False] * 4
    biased = d2l.TransformerEncoderBlock(8, 12, 2, 0, use_bias=True)
    biased(X, valid_lens)
    assert bias_of(*mha_linears(biased.attention)) == [True] * 4


def test_transformer_encoder_builds_num_blks_blocks_with_its_bias_and_dropout():
    tokens, valid_lens = torch.tensor([[1, 2, 3], [4, 5, 0]]), torch.tensor([3, 2])
    default = d2l.TransformerEncoder(10, 8, 12, 2, num_blks=3, dropout=0.25)
    default(tokens, valid_lens)
    assert len(default.blks) == 3 and len({id(b) for b in default.blks}) == 3
    assert len(default.attention_weights) == 3
    for blk in default.blks:
        assert bias_of(*mha_linears(blk.attention)) == [False] * 4
        assert blk.attention.attention.dropout.p == 0.25
        assert (blk.addnorm1.dropout.p, blk.addnorm2.dropout.p) == (0.25, 0.25)
    biased = d2l.TransformerEncoder(10, 8, 12, 2, num_blks=2, dropout=0, use_bias=True)
    biased(tokens, valid_lens)
    for blk in biased.blks:
        assert bias_of(*mha_linears(blk.attention)) == [True] * 4


def bahdanau_inputs(seed=0):
    torch.manual_seed(seed)
    encoder = d2l.Seq2SeqEncoder(11, 8, 16, 2)
    src, src_valid_len = torch.tensor([[3, 4, 5, 1], [6, 7, 1, 1]]), torch.tensor([4, 2])
    tgt = torch.tensor([[2, 3, 4], [5, 6, 7]])
    return encoder(src, src_valid_len), src_valid_len, tgt


def test_bahdanau_decoder_has_no_dropout_by_default():
    enc_outputs, valid_lens, tgt = bahdanau_inputs()
    decoder = d2l.Seq2SeqAttentionDecoder(9, 8, 16, num_layers=2)
    decoder.train()
    train_out, _ = decoder(tgt, decoder.init_state(enc_outputs, valid_lens))
    decoder.eval()
    eval_out, _ = decoder(tgt, decoder.init_state(enc_outputs, valid_lens))
    torch.testing.assert_close(train_out, eval_out)


def test_bahdanau_decoder_drops_out_between_gru_layers():
    decoder = d2l.Seq2SeqAttentionDecoder(9, 8, 16, num_layers=2, dropout=0.4)
    assert decoder.rnn.dropout == 0.4 and decoder.attention.dropout.p == 0.4


def test_gru_has_no_dropout_by_default():
    torch.manual_seed(0)
    gru = d2l.GRU(num_inputs=5, num_hiddens=8, num_layers=2)
    X = torch.randn(4, 3, 5)
    gru.train()
    train_out, _ = gru(X)
    gru.eval()
    eval_out, _ = gru(X)
    torch.testing.assert_close(train_out, eval_out)


# -- positional encoding ------------------------------------------------------------

def test_positional_encoding_covers_1000_positions_by_default():
    pe = d2l.PositionalEncoding(4, 0)
    assert pe.P.shape == (1, 1000, 4)
    assert pe(torch.zeros(1, 1000, 4)).shape == (1, 1000, 4)
    with pytest.raises(ValueError, match='max_len > 1000'):
        pe(torch.zeros(1, 1001, 4))


def test_positional_encoding_accepts_exactly_max_len_positions_and_names_the_need():
    pe = d2l.PositionalEncoding(6, 0, max_len=10)
    X = torch.zeros(1, 10, 6)  # longer than num_hiddens, exactly max_len
    torch.testing.assert_close(pe(X), pe.P)
    torch.testing.assert_close(pe(torch.zeros(1, 4, 6), offset=6), pe.P[:, 6:])
    with pytest.raises(ValueError) as info:
        pe(torch.zeros(1, 4, 6), offset=8)  # positions 8 .. 11
    message = str(info.value)
    assert 'positions up to 11 ' in message and 'max_len > 10' in message


# -- the Transformer's encoder and decoder ---------------------------------------------

def first_block_input(model, *args):
    """What the first block of ``model`` receives, recorded by a pre-hook."""
    seen = []
    handle = model.blks[0].register_forward_pre_hook(lambda module, inputs: seen.append(inputs[0]))
    try:
        model(*args)
    finally:
        handle.remove()
    return seen[0]


def test_encoder_scales_embeddings_by_sqrt_num_hiddens_before_adding_positions():
    torch.manual_seed(1)
    d = 16
    encoder = d2l.TransformerEncoder(10, d, 12, 2, num_blks=1, dropout=0).eval()
    tokens = torch.tensor([[1, 2, 3], [4, 5, 6]])
    X = first_block_input(encoder, tokens, torch.tensor([3, 2]))
    expected = encoder.embedding.weight[tokens] * 4 + encoder.pos_encoding.P[:, :3]
    torch.testing.assert_close(X, expected)


def test_decoder_scales_embeddings_and_gives_later_tokens_their_positions():
    torch.manual_seed(2)
    d = 16
    decoder = d2l.TransformerDecoder(10, d, 12, 2, num_blks=1, dropout=0).eval()
    state = decoder.init_state(torch.randn(2, 5, d), torch.tensor([5, 3]))
    tokens = torch.tensor([[1, 2, 3], [4, 5, 6]])
    X = first_block_input(decoder, tokens[:, :2], state)
    P, E = decoder.pos_encoding.P, decoder.embedding.weight
    torch.testing.assert_close(X, E[tokens[:, :2]] * 4 + P[:, :2])
    X = first_block_input(decoder, tokens[:, 2:], state)  # the third token: position 2
    torch.testing.assert_close(X, E[tokens[:, 2:]] * 4 + P[:, 2:3])


def tiny_decoder(num_blks, d=8, seed=3):
    torch.manual_seed(seed)
    decoder = d2l.TransformerDecoder(10, d, 12, 2, num_blks=num_blks, dropout=0).eval()
    enc_outputs, enc_valid_lens = torch.randn(2, 6, d), torch.tensor([4, 6])
    return decoder, enc_outputs, enc_valid_lens


@pytest.mark.parametrize('num_blks', [1, 2])
@pytest.mark.parametrize('chunks', [[1, 1, 1, 1, 1], [2, 3], [1, 4]])
def test_decoding_in_chunks_equals_the_teacher_forced_pass(num_blks, chunks):
    decoder, enc_outputs, enc_valid_lens = tiny_decoder(num_blks)
    tgt = torch.tensor([[1, 5, 6, 7, 8], [1, 2, 3, 4, 5]])
    with torch.no_grad():
        full, _ = decoder(tgt, decoder.init_state(enc_outputs, enc_valid_lens))
        state, outputs, start = decoder.init_state(enc_outputs, enc_valid_lens), [], 0
        for size in chunks:
            Y, state = decoder(tgt[:, start:start + size], state)
            outputs.append(Y)
            start += size
    torch.testing.assert_close(torch.cat(outputs, 1), full)
    assert [c.shape for c in state[2]] == [(2, 5, 8)] * num_blks


def test_decoder_attention_weights_are_causal_self_attention_then_encoder_attention():
    decoder, enc_outputs, enc_valid_lens = tiny_decoder(num_blks=2)
    tgt = torch.tensor([[1, 5, 6, 7], [1, 2, 3, 4]])
    decoder(tgt, decoder.init_state(enc_outputs, enc_valid_lens))
    weights = decoder.attention_weights
    assert len(weights) == 2 and [len(w) for w in weights] == [2, 2]
    future = torch.triu(torch.ones(4, 4, dtype=torch.bool), diagonal=1)
    for self_w, enc_w in zip(*weights):
        assert self_w.shape == (2 * 2, 4, 4)  # (batch * heads, queries, keys)
        assert torch.equal(self_w[:, future], torch.zeros(4, 6))
        assert enc_w.shape == (2 * 2, 4, 6)
        assert torch.equal(enc_w.reshape(2, 2, 4, 6)[0, :, :, 4:], torch.zeros(2, 4, 2))
        for w in (self_w, enc_w):
            torch.testing.assert_close(w.sum(-1), torch.ones(4, 4))


def test_decoder_runs_on_the_device_of_its_inputs():
    decoder, enc_outputs, enc_valid_lens = tiny_decoder(num_blks=2)
    decoder(torch.ones(2, 1, dtype=torch.long),
            decoder.init_state(enc_outputs, enc_valid_lens))  # create the lazy layers
    decoder.to('meta')
    state = decoder.init_state(enc_outputs.to('meta'), enc_valid_lens.to('meta'))
    Y, state = decoder(torch.ones(2, 3, dtype=torch.long, device='meta'), state)
    Y, state = decoder(torch.ones(2, 1, dtype=torch.long, device='meta'), state)
    assert Y.device.type == 'meta' and Y.shape == (2, 1, 10)
    assert state[2][0].shape == (2, 4, 8)


# -- recurrent networks and the language model --------------------------------------------

def test_model_device_is_the_cpu_for_a_model_without_parameters():
    assert model_device(nn.ReLU()) == torch.device('cpu')
    assert model_device(nn.Linear(2, 2).to('meta')).type == 'meta'


def test_rnn_scratch_runs_on_the_device_of_its_inputs():
    rnn = d2l.RNNScratch(3, 4).to('meta')
    outputs, H = rnn(torch.zeros(5, 2, 3, device='meta'))
    assert len(outputs) == 5 and H.device.type == 'meta' and H.shape == (2, 4)


def scratch_lm(vocab_size=7, num_hiddens=6, seed=4, **kwargs):
    torch.manual_seed(seed)
    return d2l.RNNLMScratch(d2l.RNNScratch(vocab_size, num_hiddens, sigma=0.5), vocab_size,
                            **kwargs)


def test_language_model_learning_rate_defaults_to_0_01():
    model = scratch_lm()
    assert model.configure_optimizers().param_groups[0]['lr'] == 0.01
    assert scratch_lm(lr=0.5).configure_optimizers().param_groups[0]['lr'] == 0.5


def test_language_model_output_layer_adds_the_bias():
    model = scratch_lm()
    with torch.no_grad():
        model.b_q.copy_(torch.arange(7.0) - 3)
    H = torch.randn(3, 2, 6)  # (num_steps, batch, num_hiddens)
    expected = (torch.einsum('tbh,hv->btv', H, model.W_hq) + model.b_q).detach()
    torch.testing.assert_close(model.output_layer(H), expected)
    torch.testing.assert_close(model.output_layer([torch.zeros(2, 6)]),
                               model.b_q.detach().expand(2, 1, 7))


def test_language_model_continues_from_the_state_it_is_given():
    model = scratch_lm()
    X = torch.randint(0, 7, (2, 6))
    _, state = model.rnn(model.one_hot(X[:, :3]))
    with torch.no_grad():
        torch.testing.assert_close(model(X[:, 3:], state), model(X)[:, 3:])
        assert not torch.allclose(model(X[:, 3:]), model(X)[:, 3:])


def recorded_steps(model):
    records = []
    model.plot = lambda key, value, train: records.append((key, value, train))
    return records


def test_language_model_steps_plot_the_perplexity_of_the_labels():
    model = scratch_lm()
    records = recorded_steps(model)
    X, Y = torch.randint(0, 7, (3, 5)), torch.randint(0, 7, (3, 5))
    expected = F.cross_entropy(model(X).reshape(-1, 7), Y.reshape(-1))
    loss = model.training_step((X, Y))
    torch.testing.assert_close(loss, expected)
    assert model.validation_step((X, Y)) is None
    assert [(key, bool(train)) for key, _, train in records] == [('ppl', True), ('ppl', False)]
    for _, value, _ in records:
        torch.testing.assert_close(value, torch.exp(expected))


def test_language_model_steps_pass_all_but_the_last_batch_element_to_the_model():
    # A batch is (inputs..., labels): here the inputs are the tokens and a state
    model = scratch_lm()
    records = recorded_steps(model)
    X, Y = torch.randint(0, 7, (3, 5)), torch.randint(0, 7, (3, 5))
    state = torch.randn(3, 6)
    expected = F.cross_entropy(model(X, state).reshape(-1, 7), Y.reshape(-1))
    assert not torch.allclose(expected, F.cross_entropy(model(X).reshape(-1, 7), Y.reshape(-1)))
    torch.testing.assert_close(model.training_step((X, state, Y)), expected)
    model.validation_step((X, state, Y))
    torch.testing.assert_close(records[-1][1], torch.exp(expected))


# -- the Time Machine on small corpora ------------------------------------------------------

def small_time_machine(text, *args, **kwargs):
    """A TimeMachine whose raw text is ``text`` (d2l's classes are built by subclassing)."""
    class Small(d2l.TimeMachine):
        def _download(self):
            return text
    return Small(*args, **kwargs)


def decoded(data, rows):
    return [''.join(data.vocab.to_tokens(row)) for row in rows]


def test_time_machine_one_step_windows_and_an_exact_fit():
    data = small_time_machine('Abc, de!', batch_size=2, num_steps=1, num_train=4, num_val=2)
    # 'abc de ' (the final '!' becomes a space): 7 characters, 6 windows of 1 + 1
    assert decoded(data, data.X) == list('abc de')
    assert decoded(data, data.Y) == list('bc de ')
    val = torch.cat([X for X, _ in data.val_dataloader()])
    assert decoded(data, val) == ['d', 'e']


def test_time_machine_needs_num_train_plus_num_val_windows():
    with pytest.raises(ValueError, match='num_train \\+ num_val = 6'):
        small_time_machine('abcdefg', batch_size=2, num_steps=2, num_train=3, num_val=3)
    data = small_time_machine('abcdefg', batch_size=2, num_steps=2, num_train=3, num_val=2)
    assert decoded(data, data.X) == ['ab', 'bc', 'cd', 'de', 'ef']


def test_time_machine_counts_zero_windows_in_a_corpus_shorter_than_num_steps():
    with pytest.raises(ValueError, match='a corpus of 3 tokens gives 0 windows of num_steps=5'):
        small_time_machine('abc', batch_size=1, num_steps=5, num_train=1, num_val=1)


def test_time_machine_defaults_to_10000_training_and_5000_validation_windows():
    data = small_time_machine('abcdefgh ' * 1700, batch_size=5000, num_steps=3)
    train = torch.cat([X for X, _ in data.train_dataloader()])
    val = torch.cat([X for X, _ in data.val_dataloader()])
    assert (len(train), len(val)) == (10000, 5000)
    assert torch.equal(val, data.X[10000:15000])


def test_time_machine_training_loader_shuffles_and_validation_keeps_order():
    text = 'the time traveller for so it will be convenient to speak of him'
    data = small_time_machine(text, batch_size=4, num_steps=3, num_train=30, num_val=10)
    torch.manual_seed(0)
    train = torch.cat([X for X, _ in data.train_dataloader()])
    assert not torch.equal(train, data.X[:30])
    assert sorted(map(tuple, train.tolist())) == sorted(map(tuple, data.X[:30].tolist()))
    val = torch.cat([X for X, _ in data.val_dataloader()])
    assert torch.equal(val, data.X[30:40])
