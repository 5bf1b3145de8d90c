"""The scratch RNN and its language model, the nn.RNN/nn.GRU versions, prediction."""
import os

import pytest
import torch
from torch import nn
from torch.nn import functional as F

import d2lmini as d2l

needs_mirror = pytest.mark.skipif(not os.environ.get('D2LMINI_MIRROR'),
                                  reason='the Time Machine needs the data mirror (D2LMINI_MIRROR)')


def test_check_len_and_check_shape():
    d2l.check_len([1, 2, 3], 3)
    d2l.check_shape(torch.zeros(2, 3), (2, 3))
    d2l.check_shape(torch.zeros(2, 3), [2, 3])
    with pytest.raises(AssertionError, match='length 3 != expected length 4'):
        d2l.check_len([1, 2, 3], 4)
    with pytest.raises(AssertionError, match=r'shape \(2, 3\) != expected shape \(3, 2\)'):
        d2l.check_shape(torch.zeros(2, 3), (3, 2))


def torch_rnn_like(scratch):
    """An nn.RNN with the weights of a RNNScratch."""
    rnn = nn.RNN(scratch.num_inputs, scratch.num_hiddens)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(scratch.W_xh.T)
        rnn.weight_hh_l0.copy_(scratch.W_hh.T)
        rnn.bias_ih_l0.copy_(scratch.b_h)
        rnn.bias_hh_l0.zero_()
    return rnn


def test_rnn_scratch_equals_nn_rnn_with_copied_weights():
    torch.manual_seed(0)
    scratch = d2l.RNNScratch(num_inputs=5, num_hiddens=7, sigma=0.5)
    with torch.no_grad():
        scratch.b_h.normal_()
    reference = torch_rnn_like(scratch)
    X = torch.randn(6, 3, 5)  # (num_steps, batch_size, num_inputs)
    outputs, state = scratch(X)
    d2l.check_len(outputs, 6)
    d2l.check_shape(outputs[0], (3, 7))
    expected, H = reference(X)
    assert torch.allclose(torch.stack(outputs), expected, atol=1e-6)
    assert torch.allclose(state, H[0], atol=1e-6)
    # A given initial state, as a tensor or as d2l's 1-tuple
    H0 = torch.randn(3, 7)
    expected, _ = reference(X, H0[None])
    for given in (H0, (H0,)):
        outputs, _ = scratch(X, given)
        assert torch.allclose(torch.stack(outputs), expected, atol=1e-6)
    # Gradients agree as well
    torch.stack(scratch(X)[0]).square().sum().backward()
    reference(X)[0].square().sum().backward()
    assert torch.allclose(scratch.W_hh.grad, reference.weight_hh_l0.grad.T, atol=1e-5)
    assert torch.allclose(scratch.W_xh.grad, reference.weight_ih_l0.grad.T, atol=1e-5)


def test_rnn_scratch_starts_from_zeros_with_d2l_initialisation():
    torch.manual_seed(1)
    rnn = d2l.RNNScratch(4, 6)
    torch.manual_seed(1)
    W_xh, W_hh = torch.randn(4, 6) * 0.01, torch.randn(6, 6) * 0.01
    assert torch.equal(rnn.W_xh, W_xh) and torch.equal(rnn.W_hh, W_hh)
    assert not rnn.b_h.any()
    outputs, _ = rnn(torch.zeros(3, 2, 4))
    assert not torch.stack(outputs).any()  # zero input, zero bias, zero state


def lm_pair(vocab_size=9, num_hiddens=6):
    """RNNLMScratch(RNNScratch) and RNNLM(RNN) with the same weights."""
    torch.manual_seed(0)
    scratch = d2l.RNNLMScratch(d2l.RNNScratch(vocab_size, num_hiddens, sigma=0.3),
                               vocab_size=vocab_size, lr=1)
    concise = d2l.RNNLM(d2l.RNN(vocab_size, num_hiddens), vocab_size=vocab_size, lr=1)
    concise.rnn.rnn = torch_rnn_like(scratch.rnn)
    concise(torch.zeros(1, 1, dtype=torch.long))  # create the lazy output layer
    with torch.no_grad():
        concise.linear.weight.copy_(scratch.W_hq.T)
        concise.linear.bias.copy_(scratch.b_q)
    return scratch, concise


def test_language_models_shapes_and_agreement():
    scratch, concise = lm_pair()
    X = torch.randint(0, 9, (4, 5))  # (batch_size, num_steps)
    embs = scratch.one_hot(X)
    assert embs.shape == (5, 4, 9) and embs.dtype == torch.float32
    assert torch.equal(embs.argmax(-1), X.T)
    Y_hat = scratch(X)
    assert Y_hat.shape == (4, 5, 9)
    assert torch.allclose(Y_hat, concise(X), atol=1e-5)
    # output_layer takes the list of states or the stacked tensor
    outputs, _ = scratch.rnn(embs)
    assert torch.equal(scratch.output_layer(outputs), scratch.output_layer(torch.stack(outputs)))
    # The loss is the mean cross-entropy over all tokens; the plotted ppl is exp(loss)
    Y = torch.randint(0, 9, (4, 5))
    expected = F.cross_entropy(Y_hat.reshape(-1, 9), Y.reshape(-1))
    assert torch.allclose(scratch.loss(Y_hat, Y), expected)


def greedy_reference(model, prefix, num_preds, vocab):
    """Character by character, as d2l's predict does it."""
    state, out = None, [vocab[prefix[0]]]
    with torch.no_grad():
        for i in range(len(prefix) + num_preds - 1):
            outputs, state = model.rnn(model.one_hot(torch.tensor([[out[-1]]])), state)
            if i < len(prefix) - 1:
                out.append(vocab[prefix[i + 1]])
            else:
                out.append(int(model.output_layer(outputs).argmax(2)))
    return ''.join(vocab.idx_to_token[i] for i in out)


class TinyLSTM(d2l.RNN):
    """An LSTM in the book's Module, as section 10.1 wraps one (state: (H, C))."""
    def __init__(self, num_inputs, num_hiddens):
        d2l.Module.__init__(self)
        self.save_hyperparameters()
        self.rnn = nn.LSTM(num_inputs, num_hiddens)


def test_predict_is_greedy_deterministic_and_matches_stepwise_decoding():
    vocab = d2l.Vocab(list('abcdefgh '))
    torch.manual_seed(0)
    models = [*lm_pair(len(vocab)),
              d2l.RNNLM(d2l.GRU(len(vocab), 8, num_layers=2, dropout=0.5), len(vocab)),
              d2l.RNNLM(TinyLSTM(len(vocab), 8), len(vocab))]
    for model in models:
        model.train()
        text = model.predict('bad', 12, vocab)
        assert model.training  # its mode is restored
        assert len(text) == 15 and text.startswith('bad')
        assert model.predict('bad', 12, vocab) == text  # dropout is off while predicting
        model.eval()
        assert text == greedy_reference(model, 'bad', 12, vocab)
    assert models[0].predict('ab', 0, vocab) == 'ab'


def test_predict_refuses_characters_outside_the_vocabulary():
    vocab = d2l.Vocab(list('abc '))
    model, _ = lm_pair(len(vocab))
    with pytest.raises(ValueError, match=r"prefix character\(s\) not in the vocabulary: 'T'"):
        model.predict('The', 5, vocab)
    with pytest.raises(ValueError, match='non-empty prefix'):
        model.predict('', 5, vocab)


def test_gru_shapes_layers_and_dropout():
    gru = d2l.GRU(num_inputs=5, num_hiddens=8, num_layers=3, dropout=0.25)
    assert isinstance(gru.rnn, nn.GRU) and (gru.rnn.num_layers, gru.rnn.dropout) == (3, 0.25)
    outputs, H = gru(torch.randn(7, 2, 5))
    d2l.check_shape(outputs, (7, 2, 8))
    d2l.check_shape(H, (3, 2, 8))
    lm = d2l.RNNLM(d2l.GRU(5, 8, 2), vocab_size=5)
    assert lm(torch.randint(0, 5, (2, 7))).shape == (2, 7, 5)
    lstm_lm = d2l.RNNLM(TinyLSTM(5, 8), vocab_size=5)
    assert lstm_lm(torch.randint(0, 5, (2, 7))).shape == (2, 7, 5)


class ListStacked(d2l.Module):
    """Two stacked RNNScratch layers, as section 10.3 builds them (torch.stack of lists)."""
    def __init__(self, num_inputs, num_hiddens, sigma=0.01):
        super().__init__()
        self.save_hyperparameters()
        self.rnns = nn.ModuleList([d2l.RNNScratch(num_inputs, num_hiddens, sigma),
                                   d2l.RNNScratch(num_hiddens, num_hiddens, sigma)])

    def forward(self, inputs, Hs=None):
        Hs = [None, None] if Hs is None else Hs
        outputs = inputs
        for i, rnn in enumerate(self.rnns):
            outputs, Hs[i] = rnn(outputs, Hs[i])
            outputs = torch.stack(outputs, 0)
        return outputs, Hs


def test_language_model_accepts_stacked_scratch_layers():
    vocab = d2l.Vocab(list('abcd '))
    model = d2l.RNNLMScratch(ListStacked(len(vocab), 6, sigma=0.3), len(vocab))
    assert model(torch.randint(0, len(vocab), (3, 4))).shape == (3, 4, len(vocab))
    assert model.predict('ab', 6, vocab) == greedy_reference(model, 'ab', 6, vocab)


@needs_mirror
def test_scratch_language_model_learns_the_time_machine(monkeypatch):
    monkeypatch.setenv('D2LMINI_PROFILE', 'full')
    monkeypatch.setenv('D2LMINI_BOARD', 'off')
    torch.manual_seed(0)
    data = d2l.TimeMachine(batch_size=1024, num_steps=32)
    model = d2l.RNNLMScratch(d2l.RNNScratch(len(data.vocab), 32), len(data.vocab), lr=1)
    trainer = d2l.Trainer(max_epochs=2, gradient_clip_val=1)
    trainer.fit(model, data)
    train_ppl, val_ppl = model.board.values('train_ppl'), model.board.values('val_ppl')
    # A uniform guess has perplexity 28; two epochs of 10 steps bring it near 19
    assert train_ppl[0] > 24 and val_ppl[-1] < 21
    assert val_ppl[-1] < val_ppl[0]
