"""Recurrent networks: the from-scratch RNN and its language model (section 9.5),
their ``torch.nn`` versions (section 9.6) and the multilayer GRU (section 10.3).

Speed without changing the mathematics: ``RNNScratch`` multiplies the inputs of
all time steps by ``W_xh`` in one matrix product before its loop, and the
output layer maps all hidden states at once, so only the recurrence itself
runs step by step.
"""
import contextlib

import torch
from torch import nn
from torch.nn import functional as F

import d2lmini as d2l


def check_len(a, n):
    """Raise AssertionError unless ``len(a) == n``."""
    if len(a) != n:
        raise AssertionError(f'length {len(a)} != expected length {n}')


def check_shape(a, shape):
    """Raise AssertionError unless tensor ``a`` has shape ``shape``."""
    if tuple(a.shape) != tuple(shape):
        raise AssertionError(f'shape {tuple(a.shape)} != expected shape {tuple(shape)}')


@contextlib.contextmanager
def inference_mode(model):
    """Run ``model`` in evaluation mode without gradients, then restore its mode."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        model.train(was_training)


def model_device(model):
    """The device of a model's first parameter (the CPU for a model without any)."""
    return next((p.device for p in model.parameters()), torch.device('cpu'))


class RNNScratch(d2l.Module):
    """A one-layer RNN with tanh activation, built from plain tensors."""
    def __init__(self, num_inputs, num_hiddens, sigma=0.01):
        super().__init__()
        self.save_hyperparameters()
        self.W_xh = nn.Parameter(torch.randn(num_inputs, num_hiddens) * sigma)
        self.W_hh = nn.Parameter(torch.randn(num_hiddens, num_hiddens) * sigma)
        self.b_h = nn.Parameter(torch.zeros(num_hiddens))

    def forward(self, inputs, state=None):
        """``inputs``: (num_steps, batch_size, num_inputs). Returns the list of the
        hidden states of all steps, each (batch_size, num_hiddens), and the last one."""
        if state is None:
            state = torch.zeros((inputs.shape[1], self.num_hiddens), device=inputs.device)
        elif isinstance(state, (tuple, list)):  # d2l passes (state,)
            state, = state
        # The input terms of all steps at once; only H_{t-1} W_hh must wait for H_{t-1}
        XW = torch.matmul(inputs, self.W_xh) + self.b_h
        outputs = []
        for XW_t in XW:
            state = torch.tanh(XW_t + torch.matmul(state, self.W_hh))
            outputs.append(state)
        return outputs, state


class RNNLMScratch(d2l.Classifier):
    """A character-level language model on top of any recurrent layer ``rnn``."""
    def __init__(self, rnn, vocab_size, lr=0.01):
        super().__init__()
        self.save_hyperparameters()
        self.init_params()

    def init_params(self):
        self.W_hq = nn.Parameter(
            torch.randn(self.rnn.num_hiddens, self.vocab_size) * self.rnn.sigma)
        self.b_q = nn.Parameter(torch.zeros(self.vocab_size))

    def training_step(self, batch):
        l = self.loss(self(*batch[:-1]), batch[-1])
        self.plot('ppl', torch.exp(l), train=True)
        return l

    def validation_step(self, batch):
        l = self.loss(self(*batch[:-1]), batch[-1])
        self.plot('ppl', torch.exp(l), train=False)

    def one_hot(self, X):
        """Token indices (batch_size, num_steps) to one-hot vectors
        (num_steps, batch_size, vocab_size): time first, as the RNN reads them."""
        return F.one_hot(X.T, self.vocab_size).type(torch.float32)

    def output_layer(self, rnn_outputs):
        """Hidden states (a list of (batch_size, num_hiddens) or one tensor with
        time first) to logits of shape (batch_size, num_steps, vocab_size)."""
        H = rnn_outputs if torch.is_tensor(rnn_outputs) else torch.stack(list(rnn_outputs))
        return (torch.matmul(H, self.W_hq) + self.b_q).swapaxes(0, 1)

    def forward(self, X, state=None):
        embs = self.one_hot(X)
        rnn_outputs, _ = self.rnn(embs, state)
        return self.output_layer(rnn_outputs)

    def predict(self, prefix, num_preds, vocab, device=None):
        """``prefix`` followed by ``num_preds`` characters, each the most likely
        next one (greedy decoding). Every character of ``prefix`` must be in ``vocab``."""
        if device is None:
            device = model_device(self)
        outputs = d2l.known_indices(vocab, prefix, 'prefix character')
        if not outputs:
            raise ValueError('predict needs a non-empty prefix to start from')
        with inference_mode(self):
            # Warm up: read the whole prefix in one call, keeping the last state
            X = torch.tensor([outputs], device=device)
            rnn_outputs, state = self.rnn(self.one_hot(X), None)
            predicted = []
            for _ in range(num_preds):
                Y = self.output_layer(rnn_outputs[-1:])  # the last step only
                predicted.append(Y.argmax(dim=2))  # shape (1, 1)
                rnn_outputs, state = self.rnn(self.one_hot(predicted[-1]), state)
        if predicted:
            outputs += torch.cat(predicted, 1)[0].tolist()  # one read-back at the end
        return ''.join(vocab.idx_to_token[i] for i in outputs)


class RNN(d2l.Module):
    """A one-layer tanh RNN: ``torch.nn.RNN`` in the book's Module."""
    def __init__(self, num_inputs, num_hiddens):
        super().__init__()
        self.save_hyperparameters()
        self.rnn = nn.RNN(num_inputs, num_hiddens)

    def forward(self, inputs, H=None):
        return self.rnn(inputs, H)


class RNNLM(RNNLMScratch):
    """The language model with a ``torch.nn`` output layer (for ``RNN``, ``GRU``, ...)."""
    def init_params(self):
        self.linear = nn.LazyLinear(self.vocab_size)

    def output_layer(self, hiddens):
        return self.linear(hiddens).swapaxes(0, 1)


class GRU(RNN):
    """A multilayer GRU (``torch.nn.GRU``), with dropout between layers."""
    def __init__(self, num_inputs, num_hiddens, num_layers, dropout=0):
        d2l.Module.__init__(self)
        self.save_hyperparameters()
        self.rnn = nn.GRU(num_inputs, num_hiddens, num_layers, dropout=dropout)
