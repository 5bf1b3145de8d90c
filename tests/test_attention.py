"""Chapter 11's attention code checked against PyTorch's own implementations:
masked dot-product attention against ``F.scaled_dot_product_attention``,
multi-head attention and the Transformer blocks against ``nn.MultiheadAttention``
and ``nn.TransformerEncoderLayer``/``nn.TransformerDecoderLayer`` with the same
weights, the causal mask, the positional encoding's values, step-by-step
decoding against the teacher-forced forward pass, and the clear errors."""
import math

import matplotlib
import pytest
import torch
from torch import nn
from torch.nn import functional as F

import d2lmini as d2l


def padding_mask(valid_lens, num_keys):
    """True where a key takes part (for F.scaled_dot_product_attention)."""
    return torch.arange(num_keys) < valid_lens[..., None]


# -- masked softmax ----------------------------------------------------------

def test_masked_softmax_zeroes_the_keys_beyond_the_valid_length():
    torch.manual_seed(0)
    X = torch.randn(2, 3, 5)
    P = d2l.masked_softmax(X, torch.tensor([2, 4]))
    assert torch.equal(P[0, :, 2:], torch.zeros(3, 3))
    assert torch.equal(P[1, :, 4:], torch.zeros(3, 1))
    torch.testing.assert_close(P.sum(-1), torch.ones(2, 3))
    # Within the valid keys it is the ordinary softmax
    torch.testing.assert_close(P[0, :, :2], F.softmax(X[0, :, :2], -1))


def test_masked_softmax_per_query_lengths_and_no_mask():
    torch.manual_seed(1)
    X = torch.randn(2, 3, 4)
    valid_lens = torch.tensor([[1, 2, 3], [4, 3, 2]])
    P = d2l.masked_softmax(X, valid_lens)
    for b in range(2):
        for q in range(3):
            n = valid_lens[b, q]
            torch.testing.assert_close(P[b, q, :n], F.softmax(X[b, q, :n], -1))
            assert torch.equal(P[b, q, n:], torch.zeros(4 - n))
    torch.testing.assert_close(d2l.masked_softmax(X, None), F.softmax(X, -1))


def test_masked_softmax_with_no_valid_key_is_uniform_as_in_d2l():
    P = d2l.masked_softmax(torch.randn(1, 2, 4), torch.tensor([0]))
    torch.testing.assert_close(P, torch.full((1, 2, 4), 0.25))


@pytest.mark.parametrize('shape', [(3,), (2, 2), (2, 3, 1), (1,)])
def test_masked_softmax_rejects_valid_lens_of_the_wrong_shape(shape):
    with pytest.raises(ValueError, match='valid_lens must have shape'):
        d2l.masked_softmax(torch.randn(2, 3, 4), torch.ones(shape, dtype=torch.long))


# -- dot-product and additive attention --------------------------------------

@pytest.mark.parametrize('valid_lens', [None, torch.tensor([2, 6]),
                                        torch.tensor([[1, 2, 3], [6, 5, 4]])])
def test_dot_product_attention_equals_pytorch_sdpa(valid_lens):
    torch.manual_seed(2)
    Q, K, V = torch.randn(2, 3, 8), torch.randn(2, 6, 8), torch.randn(2, 6, 5)
    attention = d2l.DotProductAttention(dropout=0.5).eval()
    mask = None if valid_lens is None else padding_mask(valid_lens, 6)
    if mask is not None and mask.dim() == 2:
        mask = mask[:, None, :]  # the same keys for every query
    expected = F.scaled_dot_product_attention(Q, K, V, attn_mask=mask)
    torch.testing.assert_close(attention(Q, K, V, valid_lens), expected)
    torch.testing.assert_close(attention.attention_weights.sum(-1), torch.ones(2, 3))


def test_causal_valid_lens_equal_pytorch_is_causal():
    torch.manual_seed(3)
    Q, K, V = torch.randn(3, 5, 4), torch.randn(3, 5, 4), torch.randn(3, 5, 4)
    causal = torch.arange(1, 6).repeat(3, 1)  # query t sees keys 0..t
    attention = d2l.DotProductAttention(0)
    torch.testing.assert_close(attention(Q, K, V, causal),
                               F.scaled_dot_product_attention(Q, K, V, is_causal=True))
    assert torch.equal(attention.attention_weights.triu(1), torch.zeros(3, 5, 5))


def test_dot_product_attention_scales_by_the_square_root_of_d():
    Q = torch.ones(1, 1, 16)
    K = torch.stack([torch.zeros(16), torch.ones(16)])[None]
    attention = d2l.DotProductAttention(0)
    attention(Q, K, torch.eye(2)[None])
    w = attention.attention_weights[0, 0]
    torch.testing.assert_close(w[1] / w[0], torch.tensor(math.exp(16 / 4)))


def test_dropout_acts_on_the_weights_in_training_only():
    torch.manual_seed(4)
    Q, K, V = torch.randn(4, 3, 8), torch.randn(4, 6, 8), torch.randn(4, 6, 5)
    attention = d2l.DotProductAttention(dropout=0.5)
    attention.eval()
    a, b = attention(Q, K, V), attention(Q, K, V)
    assert torch.equal(a, b)
    attention.train()
    assert not torch.allclose(attention(Q, K, V), a)


def test_additive_attention_follows_its_formula():
    torch.manual_seed(5)
    Q, K, V = torch.randn(2, 3, 20), torch.randn(2, 6, 2), torch.randn(2, 6, 4)
    valid_lens = torch.tensor([2, 6])
    attention = d2l.AdditiveAttention(num_hiddens=8, dropout=0.1).eval()
    out = attention(Q, K, V, valid_lens)
    Wq, Wk, wv = attention.W_q.weight, attention.W_k.weight, attention.w_v.weight[0]
    for b in range(2):
        for q in range(3):
            n = valid_lens[b]
            scores = torch.stack([wv @ torch.tanh(Wq @ Q[b, q] + Wk @ K[b, k])
                                  for k in range(n)])
            alpha = F.softmax(scores, 0)
            torch.testing.assert_close(out[b, q], alpha @ V[b, :n])
            torch.testing.assert_close(attention.attention_weights[b, q, :n], alpha)


# -- multi-head attention ----------------------------------------------------

def twin_multihead(num_hiddens=12, num_heads=3, bias=False, seed=6):
    """Our MultiHeadAttention and nn.MultiheadAttention with the same weights."""
    torch.manual_seed(seed)
    ours = d2l.MultiHeadAttention(num_hiddens, num_heads, dropout=0, bias=bias)
    x = torch.randn(1, 1, num_hiddens)
    ours(x, x, x, None)  # create the lazy layers
    theirs = nn.MultiheadAttention(num_hiddens, num_heads, bias=bias, batch_first=True)
    with torch.no_grad():
        theirs.in_proj_weight.copy_(torch.cat([ours.W_q.weight, ours.W_k.weight,
                                               ours.W_v.weight]))
        theirs.out_proj.weight.copy_(ours.W_o.weight)
        if bias:
            theirs.in_proj_bias.copy_(torch.cat([ours.W_q.bias, ours.W_k.bias,
                                                 ours.W_v.bias]))
            theirs.out_proj.bias.copy_(ours.W_o.bias)
    return ours, theirs


@pytest.mark.parametrize('bias', [False, True])
def test_multihead_attention_equals_pytorch_with_the_same_weights(bias):
    ours, theirs = twin_multihead(bias=bias)
    torch.manual_seed(7)
    X, Y = torch.randn(2, 4, 12), torch.randn(2, 6, 12)
    valid_lens = torch.tensor([3, 6])
    out = ours(X, Y, Y, valid_lens)
    expected, weights = theirs(X, Y, Y, key_padding_mask=~padding_mask(valid_lens, 6))
    torch.testing.assert_close(out, expected)
    # PyTorch averages the heads' weights; ours keeps one set per head (batch-major)
    per_head = ours.attention.attention_weights.reshape(2, 3, 4, 6)
    torch.testing.assert_close(per_head.mean(1), weights)


def test_multihead_attention_with_per_query_lengths_equals_a_pytorch_attn_mask():
    ours, theirs = twin_multihead(num_hiddens=8, num_heads=2)
    torch.manual_seed(8)
    X = torch.randn(2, 5, 8)
    causal = torch.arange(1, 6).repeat(2, 1)
    expected, _ = theirs(X, X, X, attn_mask=nn.Transformer.generate_square_subsequent_mask(5))
    torch.testing.assert_close(ours(X, X, X, causal), expected)


def test_transpose_qkv_splits_the_hidden_units_into_heads_and_back():
    attention = d2l.MultiHeadAttention(12, 3, 0)
    X = torch.arange(2 * 4 * 12, dtype=torch.float32).reshape(2, 4, 12)
    H = attention.transpose_qkv(X)
    d2l.check_shape(H, (6, 4, 4))
    assert torch.equal(H[1], X[0, :, 4:8])  # example 0, head 1: hidden units 4..7
    assert torch.equal(H[5], X[1, :, 8:12])
    assert torch.equal(attention.transpose_output(H), X)


def test_multihead_attention_errors():
    with pytest.raises(ValueError, match='divisible by num_heads'):
        d2l.MultiHeadAttention(10, 3, 0)
    attention = d2l.MultiHeadAttention(8, 2, 0)
    X = torch.randn(2, 3, 8)
    with pytest.raises(ValueError, match='the batch has 2 examples'):
        attention(X, X, X, torch.tensor([1, 2, 3]))


# -- positional encoding -----------------------------------------------------

def test_positional_encoding_values():
    d, n = 16, 50
    pe = d2l.PositionalEncoding(d, dropout=0, max_len=n)
    i = torch.arange(n, dtype=torch.float64)[:, None]
    j = torch.arange(d // 2, dtype=torch.float64)
    angle = i / 10000 ** (2 * j / d)
    torch.testing.assert_close(pe.P[0, :, 0::2].double(), torch.sin(angle), atol=1e-5, rtol=0)
    torch.testing.assert_close(pe.P[0, :, 1::2].double(), torch.cos(angle), atol=1e-5, rtol=0)
    X = torch.randn(3, 7, d)
    torch.testing.assert_close(pe(X), X + pe.P[:, :7])
    torch.testing.assert_close(pe(X, offset=5), X + pe.P[:, 5:12])


def test_positional_encoding_shift_is_a_rotation():
    d, delta = 8, 3
    P = d2l.PositionalEncoding(d, 0, max_len=40).P[0].double()
    for j in range(d // 2):
        w = 1 / 10000 ** (2 * j / d)
        c, s = math.cos(delta * w), math.sin(delta * w)
        R = torch.tensor([[c, s], [-s, c]], dtype=torch.float64)
        pairs = P[:, 2 * j:2 * j + 2]
        torch.testing.assert_close(pairs[:-delta] @ R.T, pairs[delta:], atol=1e-5, rtol=0)


def test_positional_encoding_buffer_odd_size_and_length_error():
    pe = d2l.PositionalEncoding(7, 0, max_len=10)
    assert 'P' not in pe.state_dict()  # recomputed, not saved
    assert pe.P.shape == (1, 10, 7) and dict(pe.named_buffers())['P'] is pe.P
    torch.testing.assert_close(pe.P[0, 3, 6], torch.sin(torch.tensor(3 / 10000 ** (6 / 7))))
    with pytest.raises(ValueError, match='max_len'):
        pe(torch.zeros(1, 8, 7), offset=3)


# -- Transformer blocks against PyTorch's ------------------------------------

def copy_block_weights(attention, torch_attention):
    with torch.no_grad():
        torch_attention.in_proj_weight.copy_(torch.cat([attention.W_q.weight,
                                                        attention.W_k.weight,
                                                        attention.W_v.weight]))
        torch_attention.out_proj.weight.copy_(attention.W_o.weight)
        if attention.W_q.bias is None:
            torch_attention.in_proj_bias.zero_()
            torch_attention.out_proj.bias.zero_()
        else:
            torch_attention.in_proj_bias.copy_(torch.cat([attention.W_q.bias, attention.W_k.bias,
                                                          attention.W_v.bias]))
            torch_attention.out_proj.bias.copy_(attention.W_o.bias)


def copy_linear_and_norm(pairs):
    with torch.no_grad():
        for ours, theirs in pairs:
            theirs.weight.copy_(ours.weight)
            theirs.bias.copy_(ours.bias)


@pytest.mark.parametrize('use_bias', [False, True])
def test_encoder_block_equals_pytorch_encoder_layer(use_bias):
    torch.manual_seed(9)
    d, ffn, heads = 16, 24, 4
    block = d2l.TransformerEncoderBlock(d, ffn, heads, dropout=0, use_bias=use_bias)
    X = torch.randn(2, 5, d)
    valid_lens = torch.tensor([3, 5])
    block(X, valid_lens)
    layer = nn.TransformerEncoderLayer(d, heads, ffn, dropout=0, batch_first=True)
    copy_block_weights(block.attention, layer.self_attn)
    copy_linear_and_norm([(block.ffn.dense1, layer.linear1), (block.ffn.dense2, layer.linear2),
                          (block.addnorm1.ln, layer.norm1), (block.addnorm2.ln, layer.norm2)])
    layer.train()  # the reference (slow) path; dropout is 0
    expected = layer(X, src_key_padding_mask=~padding_mask(valid_lens, 5))
    torch.testing.assert_close(block(X, valid_lens), expected)


def test_decoder_block_equals_pytorch_decoder_layer():
    torch.manual_seed(10)
    d, ffn, heads = 16, 24, 4
    block = d2l.TransformerDecoderBlock(d, ffn, heads, dropout=0, i=0)
    enc_outputs, enc_valid_lens = torch.randn(2, 6, d), torch.tensor([2, 6])
    X = torch.randn(2, 5, d)
    out, _ = block(X, [enc_outputs, enc_valid_lens, [None]])
    layer = nn.TransformerDecoderLayer(d, heads, ffn, dropout=0, batch_first=True)
    copy_block_weights(block.attention1, layer.self_attn)
    copy_block_weights(block.attention2, layer.multihead_attn)
    copy_linear_and_norm([(block.ffn.dense1, layer.linear1), (block.ffn.dense2, layer.linear2),
                          (block.addnorm1.ln, layer.norm1), (block.addnorm2.ln, layer.norm2),
                          (block.addnorm3.ln, layer.norm3)])
    layer.train()
    expected = layer(X, enc_outputs, tgt_mask=nn.Transformer.generate_square_subsequent_mask(5),
                     memory_key_padding_mask=~padding_mask(enc_valid_lens, 6))
    torch.testing.assert_close(out, expected)


def test_layer_norm_in_addnorm_normalizes_each_position():
    torch.manual_seed(11)
    addnorm = d2l.AddNorm(8, dropout=0.5).eval()
    X, Y = torch.randn(2, 3, 8) * 5 + 3, torch.randn(2, 3, 8)
    Z = addnorm(X, Y)
    torch.testing.assert_close(Z, F.layer_norm(X + Y, (8,)))
    torch.testing.assert_close(Z.mean(-1), torch.zeros(2, 3), atol=1e-5, rtol=0)


# -- whole models ----------------------------------------------------------------

def tiny_transformer(seed=12, src_vocab=11, tgt_vocab=9, dropout=0.0):
    torch.manual_seed(seed)
    encoder = d2l.TransformerEncoder(src_vocab, 16, 32, 4, 2, dropout)
    decoder = d2l.TransformerDecoder(tgt_vocab, 16, 32, 4, 2, dropout)
    model = d2l.Seq2Seq(encoder, decoder, tgt_pad=0, lr=0.001)
    model(torch.ones(1, 4, dtype=torch.long), torch.ones(1, 3, dtype=torch.long),
          torch.tensor([4]))
    with torch.no_grad():
        model.decoder.dense.weight.mul_(5)  # sharper distributions than at initialization
    return model


def tiny_bahdanau(seed=13, src_vocab=11, tgt_vocab=9):
    torch.manual_seed(seed)
    encoder = d2l.Seq2SeqEncoder(src_vocab, 8, 16, 2)
    decoder = d2l.Seq2SeqAttentionDecoder(tgt_vocab, 8, 16, 2)
    model = d2l.Seq2Seq(encoder, decoder, tgt_pad=0, lr=0.005)
    model(torch.ones(1, 4, dtype=torch.long), torch.ones(1, 3, dtype=torch.long),
          torch.tensor([4]))
    return model


def source_batch():
    src = torch.tensor([[3, 4, 5, 2, 1, 1], [6, 7, 2, 1, 1, 1], [8, 9, 10, 4, 5, 2]])
    return src, torch.tensor([4, 3, 6])


def test_encoder_ignores_padding_tokens():
    model = tiny_transformer().eval()
    src, valid_lens = source_batch()
    out = model.encoder(src, valid_lens)
    changed = src.clone()
    changed[0, 4:] = 7  # other tokens where example 0 is padded
    torch.testing.assert_close(model.encoder(changed, valid_lens)[0, :4], out[0, :4])
    for weights in model.encoder.attention_weights:  # (batch * heads, queries, keys)
        assert torch.equal(weights.reshape(3, 4, 6, 6)[0, :, :, 4:], torch.zeros(4, 6, 2))


def test_decoder_is_causal_in_training_and_in_evaluation():
    model = tiny_transformer()
    src, valid_lens = source_batch()
    tgt = torch.tensor([[1, 5, 6, 7, 8], [1, 2, 3, 4, 5], [1, 8, 7, 6, 5]])
    later = tgt.clone()
    later[:, 3:] = 2  # change the tokens from position 3 on
    for mode in (model.train, model.eval):
        mode()
        torch.manual_seed(0)
        a = model(src, tgt, valid_lens)
        torch.manual_seed(0)
        b = model(src, later, valid_lens)
        torch.testing.assert_close(a[:, :3], b[:, :3])  # positions 0..2 cannot see them
        assert not torch.allclose(a[:, 3:], b[:, 3:])


@pytest.mark.parametrize('make', [tiny_transformer, tiny_bahdanau])
def test_step_by_step_decoding_equals_the_teacher_forced_pass(make):
    model = make().eval()
    src, valid_lens = source_batch()
    tgt = torch.tensor([[1, 5, 6, 7, 8], [1, 2, 3, 4, 5], [1, 8, 7, 6, 5]])
    with torch.no_grad():
        full = model(src, tgt, valid_lens)
        state = model.decoder.init_state(model.encoder(src, valid_lens), valid_lens)
        steps = []
        for t in range(tgt.shape[1]):
            Y, state = model.decoder(tgt[:, t:t + 1], state)
            steps.append(Y)
    torch.testing.assert_close(torch.cat(steps, 1), full)


@pytest.mark.parametrize('make', [tiny_transformer, tiny_bahdanau])
def test_beam_search_scores_are_the_models_log_probabilities(make):
    model = make().eval()
    src, valid_lens = source_batch()
    bos, eos, alpha = 1, 2, 0.75
    out = d2l.beam_search(model, src, valid_lens, num_steps=5, beam_size=3, bos=bos, eos=eos,
                          alpha=alpha)
    greedy, _ = model.predict_step((src, torch.full((3, 1), bos), valid_lens, None), None, 5)
    one = d2l.beam_search(model, src, valid_lens, num_steps=5, beam_size=1, bos=bos, eos=eos)
    for b in range(3):
        L = one.lengths[b, 0]
        assert torch.equal(one.tokens[b, 0, :L], greedy[b, :L])
        for k in range(3):  # re-score each returned sequence by teacher forcing
            L = out.lengths[b, k].item()
            seq = out.tokens[b, k, :L]
            dec_in = torch.cat([torch.tensor([bos]), seq[:-1]])[None]
            with torch.no_grad():
                log_p = F.log_softmax(model(src[b:b + 1], dec_in, valid_lens[b:b + 1]), -1)
            total = log_p[0, torch.arange(L), seq].sum()
            torch.testing.assert_close(out.scores[b, k], total / L ** alpha)


def test_bahdanau_attention_weights_sum_to_one_over_the_valid_source():
    model = tiny_bahdanau().eval()
    src, valid_lens = source_batch()
    model(src, torch.ones(3, 4, dtype=torch.long), valid_lens)
    weights = torch.cat(model.decoder.attention_weights, 1)  # (batch, steps, source)
    d2l.check_shape(weights, (3, 4, 6))
    torch.testing.assert_close(weights.sum(-1), torch.ones(3, 4))
    assert torch.equal(weights[1, :, 3:], torch.zeros(4, 3))


def test_attention_decoder_interface():
    with pytest.raises(NotImplementedError):
        d2l.AttentionDecoder().attention_weights


# -- heat maps ---------------------------------------------------------------------

def test_show_heatmaps_draws_one_panel_per_matrix_on_one_scale():
    matplotlib.use('Agg', force=True)
    d2l.plt.close('all')
    d2l.show_heatmaps(torch.rand(2, 3, 4, 5), 'keys', 'queries', titles=['a', 'b', 'c'],
                      xticklabels=list('vwxyz'))
    fig = d2l.plt.gcf()
    panels = [ax for ax in fig.axes if ax.images]
    assert len(panels) == 6 and len(fig.axes) == 7  # and the colour bar
    assert len({ax.images[0].get_clim() for ax in panels}) == 1
    assert [t.get_text() for t in panels[-1].get_xticklabels()] == list('vwxyz')
    d2l.plt.close('all')
    with pytest.raises(ValueError, match='4-D'):
        d2l.show_heatmaps(torch.eye(3), 'keys', 'queries')
