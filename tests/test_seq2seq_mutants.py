"""Beam search on a decoder with a hand-computable next-token table (one-step
searches, eos = 0, the index checks, the device it runs on), greedy prediction
with attention weights and on the model's device, and the GRU encoder/decoder's
dropout and context."""
import math
import warnings

import pytest
import torch

import d2lmini as d2l


# -- a bigram "decoder": P(next | previous token) from a fixed table --------------

class NullEncoder(d2l.Encoder):
    """One zero per source, on the sources' device: the decoder's batch-sized state.
    Records the devices of the sources and of their valid lengths."""
    def __init__(self):
        super().__init__()
        self.devices = []

    def forward(self, X, valid_len):
        self.devices.append((X.device.type, valid_len.device.type))
        return torch.zeros(X.shape[0], 1, device=X.device)


class BigramDecoder(d2l.Decoder):
    """Next-token probabilities read from ``probs[previous token]``. The table is a
    plain tensor, not a parameter: the model has no parameters (and so no device)."""
    def __init__(self, probs):
        super().__init__()
        self.log_probs = torch.tensor(probs).log()

    def init_state(self, enc_all_outputs, *args):
        return [enc_all_outputs]

    def forward(self, X, state):
        return self.log_probs.to(X.device)[X], state


def bigram_model(probs):
    return d2l.EncoderDecoder(NullEncoder(), BigramDecoder(probs))


# Four tokens; after token 0 the next one is 3 (p .4), 2 (.3), 1 (.2) or 0 (.1)
TABLE4 = [[0.1, 0.2, 0.3, 0.4]] * 4
SRC, VALID = torch.ones(2, 3, dtype=torch.long), torch.tensor([3, 2])


def test_a_one_step_search_ranks_the_first_tokens_and_bos_may_be_index_0():
    out = d2l.beam_search(bigram_model(TABLE4), SRC, VALID, 1, 2, bos=0, eos=3)
    assert out.tokens.tolist() == [[[3], [2]]] * 2
    assert out.lengths.tolist() == [[1, 1]] * 2
    # One token: nothing to normalise, the score is log P
    torch.testing.assert_close(out.scores, torch.tensor([[math.log(0.4), math.log(0.3)]] * 2))


def test_eos_may_be_index_0_and_short_complete_sequences_compete_on_normalised_scores():
    # bos = 2 and eos = 0; P(. | 2) = (.5, .3, .2) and P(. | 1) = (.1, .6, .3)
    probs = [[1 / 3] * 3, [0.1, 0.6, 0.3], [0.5, 0.3, 0.2]]
    out = d2l.beam_search(bigram_model(probs), SRC[:1], VALID[:1], 2, 2, bos=2, eos=0,
                          alpha=1.0)
    # Step 1 keeps [0] (complete, log .5) and [1] (live, .3); step 2 ends every
    # sequence: [1, 1] (.18) and [1, 2] (.09) are worth log(p) / 2
    assert out.tokens[0].tolist() == [[0, 0], [1, 1]]  # filled with eos after eos
    assert out.lengths[0].tolist() == [1, 2]
    torch.testing.assert_close(out.scores[0], torch.tensor([math.log(0.5), math.log(0.18) / 2]))


@pytest.mark.parametrize('num_steps', [1, 3])
@pytest.mark.parametrize('bos, eos', [(4, 3), (0, 4), (-1, 3), (0, -1)])
def test_bos_and_eos_outside_the_vocabulary_are_rejected(bos, eos, num_steps):
    # The table has a fifth row and negative indices wrap around: the decoder reads
    # any of these bos, so only beam_search's own check stops them
    with pytest.raises(ValueError, match=f'bos={bos} and eos={eos} .*vocabulary size 4'):
        d2l.beam_search(bigram_model(TABLE4 + [[0.25] * 4]), SRC, VALID, num_steps, 2,
                        bos=bos, eos=eos)


def test_beam_search_runs_on_the_device_it_is_given():
    model = bigram_model(TABLE4)  # no parameters: the default device is the CPU
    out = d2l.beam_search(model, SRC, VALID, 3, 2, bos=0, eos=3, device='meta')
    assert {t.device.type for t in out} == {'meta'}
    # The sources and their valid lengths reach the encoder on that device
    assert model.encoder.devices and set(model.encoder.devices) == {('meta', 'meta')}
    out = d2l.beam_search(model, SRC, VALID, 3, 2, bos=0, eos=3, device='cpu')
    assert {t.device.type for t in out} == {'cpu'}
    assert out.tokens[0, 0].tolist() == [3, 3, 3] and out.lengths[0, 0] == 1


# -- the GRU sequence-to-sequence model ----------------------------------------------

def tiny_seq2seq(dropout=0.0, seed=0, tgt_vocab=5):
    torch.manual_seed(seed)
    encoder = d2l.Seq2SeqEncoder(7, 5, 8, 2, dropout)
    decoder = d2l.Seq2SeqDecoder(tgt_vocab, 5, 8, 2, dropout)
    model = d2l.Seq2Seq(encoder, decoder, tgt_pad=0, lr=0.01)
    model(torch.zeros(1, 3, dtype=torch.long), torch.zeros(1, 1, dtype=torch.long),
          torch.ones(1, dtype=torch.long))  # create the lazy layer
    return model


def sources(n=3, src_len=6, seed=5):
    g = torch.Generator().manual_seed(seed)
    return (torch.randint(1, 7, (n, src_len), generator=g),
            torch.randint(2, src_len + 1, (n,), generator=g))


def tensors_in(value):
    if torch.is_tensor(value):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in tensors_in(v)]
    return []


def record_input_devices(*modules):
    """The device types of every tensor that reaches the modules' forward."""
    seen = set()
    for module in modules:
        module.register_forward_pre_hook(
            lambda _, args: seen.update(t.device.type for t in tensors_in(args)))
    return seen


def test_a_model_on_another_device_gets_its_inputs_there():
    """A model on an accelerator with the data on the CPU (the meta device stands in
    for the accelerator; its kernels do not complain about CPU inputs, so the devices
    that reach the encoder and the decoder are recorded): beam search and greedy
    prediction move the inputs to the model and do all their work there."""
    model = tiny_seq2seq().to('meta')
    seen = record_input_devices(model.encoder, model.decoder)
    src, valid = sources()
    out = d2l.beam_search(model, src, valid, 4, 3, bos=1, eos=2)
    assert {t.device.type for t in out} == {'meta'} and seen == {'meta'}
    assert out.tokens.shape == (3, 3, 4) and out.lengths.dtype == torch.long
    batch = (src, torch.ones(3, 6, dtype=torch.long), valid, None)
    for device in [None, 'meta']:
        seen.clear()
        preds, _ = model.predict_step(batch, device, 4)
        assert preds.device.type == 'meta' and preds.shape == (3, 4)
        assert seen == {'meta'}, device


def test_beam_search_prints_no_warnings():
    model = tiny_seq2seq()
    src, valid = sources()
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        out = d2l.beam_search(model, src, valid, 4, 3, bos=1, eos=2)
    assert torch.isfinite(out.scores).all()


def test_predict_step_returns_the_attention_weights_of_every_step():
    torch.manual_seed(3)
    encoder = d2l.Seq2SeqEncoder(7, 4, 8, 2)
    decoder = d2l.Seq2SeqAttentionDecoder(6, 4, 8, 2)
    model = d2l.Seq2Seq(encoder, decoder, tgt_pad=0, lr=0.01)
    src, valid = torch.tensor([[1, 2, 3, 4], [5, 6, 1, 1]]), torch.tensor([4, 2])
    batch = (src, torch.ones(2, 4, dtype=torch.long), valid, None)
    preds, attention = model.predict_step(batch, None, 3, save_attention_weights=True)
    assert len(attention) == 3
    # One decoder call per step, each with one query per source
    weights = torch.cat([step[0] for step in attention], 1)  # (batch, steps, source)
    assert weights.shape == (2, 3, 4)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 3))
    assert torch.equal(weights[1, :, 2:], torch.zeros(3, 2))  # beyond the valid length
    # The last step's weights are what the decoder kept
    assert attention[-1] is model.decoder.attention_weights


def encode_and_decode(model, mode, seed=0):
    src, valid = sources()
    tgt = torch.randint(0, 5, (3, 4), generator=torch.Generator().manual_seed(1))
    model.train(mode)
    torch.manual_seed(seed)
    with torch.no_grad():
        enc = model.encoder(src, valid)
        return enc[0], model.decoder(tgt, model.decoder.init_state(enc, valid))[0]


def test_encoder_and_decoder_have_no_dropout_by_default():
    torch.manual_seed(0)
    model = d2l.Seq2Seq(d2l.Seq2SeqEncoder(7, 5, 8, 2), d2l.Seq2SeqDecoder(5, 5, 8, 2),
                        tgt_pad=0, lr=0.01)
    enc_train, dec_train = encode_and_decode(model, True)
    enc_eval, dec_eval = encode_and_decode(model, False)
    assert torch.equal(enc_train, enc_eval) and torch.equal(dec_train, dec_eval)


def test_encoder_and_decoder_apply_the_dropout_they_are_given():
    model = tiny_seq2seq(dropout=0.5)
    enc_eval, dec_eval = encode_and_decode(model, False)
    enc_train, _ = encode_and_decode(model, True)
    assert not torch.allclose(enc_train, enc_eval)
    # The decoder alone: the same encoding, dropout only in the decoder's GRU
    src, valid = sources()
    tgt = torch.randint(0, 5, (3, 4), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        model.eval()
        state = model.decoder.init_state(model.encoder(src, valid), valid)
        model.decoder.train()
        torch.manual_seed(0)
        dec_train = model.decoder(tgt, state)[0]
    assert not torch.allclose(dec_train, dec_eval)


def test_the_decoder_reads_only_the_encoders_last_output_step():
    model = tiny_seq2seq().eval()
    src, valid = sources()
    tgt = torch.randint(0, 5, (3, 4), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        outputs, hidden = model.encoder(src, valid)
        Y = model.decoder(tgt, [outputs, hidden])[0]
        changed = outputs.clone()
        changed[:-1] = torch.randn_like(changed[:-1]) * 5  # every step but the last
        assert torch.equal(model.decoder(tgt, [changed, hidden])[0], Y)
        changed[-1] += 1
        assert not torch.allclose(model.decoder(tgt, [changed, hidden])[0], Y)


def test_seq2seq_lists_the_encoder_before_the_decoder():
    # The printed architecture and the order of parameters (which optimiser
    # state dicts index by position) put the encoder first
    model = tiny_seq2seq()
    assert [name for name, _ in model.named_children()] == ['encoder', 'decoder']
    assert repr(model).index('(encoder)') < repr(model).index('(decoder)')
    names = [name for name, _ in model.named_parameters()]
    assert names == sorted(names, key=lambda n: not n.startswith('encoder.'))
    assert names[0].startswith('encoder.')
