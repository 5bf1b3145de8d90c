"""Details of the sequence chapters that the other tests leave open: what
``show_heatmaps`` draws, the Bahdanau decoder's recurrence, BLEU against d2l's
own formula, the language model's devices, the Seq2Seq validation curve and the
text datasets' loaders, files and messages."""
import collections
import math
import os
import random
import types

import numpy as np
import pytest
import torch
from torch import nn

import d2lmini as d2l

needs_mirror = pytest.mark.skipif(not os.environ.get('D2LMINI_MIRROR'),
                                  reason='the text datasets need the data mirror (D2LMINI_MIRROR)')


def heatmap_figure(matrices, *args, **kwargs):
    d2l.show_heatmaps(matrices, *args, **kwargs)
    fig = d2l.plt.gcf()
    panels = [ax for ax in fig.axes if ax.images]
    colorbars = [ax for ax in fig.axes if not ax.images]
    return fig, panels, colorbars


# -- show_heatmaps -------------------------------------------------------------------

def test_heatmaps_label_only_the_outer_panels_and_title_the_columns(figures):
    matrices = torch.arange(2 * 3 * 4 * 5, dtype=torch.float32).reshape(2, 3, 4, 5)
    fig, panels, colorbars = heatmap_figure(matrices, 'keys', 'queries',
                                            titles=['x', 'y', 'z'])
    assert len(panels) == 6 and len(colorbars) == 1
    grid = [panels[0:3], panels[3:6]]  # row by row, as subplots creates them
    assert [ax.get_xlabel() for ax in grid[1]] == ['keys'] * 3  # the bottom row
    assert [ax.get_xlabel() for ax in grid[0]] == [''] * 3
    assert [ax.get_ylabel() for ax in (grid[0][0], grid[1][0])] == ['queries'] * 2
    assert [ax.get_ylabel() for row in grid for ax in row[1:]] == [''] * 4
    assert [[ax.get_title() for ax in row] for row in grid] == [['x', 'y', 'z']] * 2
    # Each panel shows its own matrix
    for i in range(2):
        for j in range(3):
            assert np.array_equal(grid[i][j].images[0].get_array(), matrices[i, j].numpy())


def test_heatmaps_share_axes_colour_scale_and_colour_map(figures):
    matrices = torch.tensor([[[[0.0, 1.0]], [[2.0, 3.0]]], [[[-1.0, 0.5]], [[0.0, 7.0]]]])
    fig, panels, (cbar_ax,) = heatmap_figure(matrices, 'k', 'q')
    for ax in panels[1:]:
        assert ax.get_shared_x_axes().joined(panels[0], ax)
        assert ax.get_shared_y_axes().joined(panels[0], ax)
    assert {ax.images[0].get_clim() for ax in panels} == {(-1.0, 7.0)}
    assert {ax.images[0].get_cmap().name for ax in panels} == {'Reds'}
    # The colour bar shows that same scale and colour map
    mappable = cbar_ax.images[0] if cbar_ax.images else fig.axes[-1]._colorbar.mappable
    assert mappable.get_cmap().name == 'Reds'
    assert mappable.get_clim() == (-1.0, 7.0)
    fig, panels, _ = heatmap_figure(matrices, 'k', 'q', cmap='Blues')
    assert {ax.images[0].get_cmap().name for ax in panels} == {'Blues'}
    assert fig.axes[-1]._colorbar.mappable.get_cmap().name == 'Blues'


def test_heatmaps_colour_bar_is_beside_all_panels_and_shorter_than_the_grid(figures):
    fig, panels, (cbar_ax,) = heatmap_figure(torch.rand(3, 2, 4, 4), 'k', 'q')
    boxes = [ax.get_position(original=True) for ax in panels]
    # Every panel gave up the same room for the colour bar
    assert len({round(b.width, 6) for b in boxes}) == 1
    assert len({round(b.height, 6) for b in boxes}) == 1
    bar = cbar_ax.get_position(original=True)
    assert bar.x0 > max(b.x1 for b in boxes)  # to the right of the whole grid
    grid_height = max(b.y1 for b in boxes) - min(b.y0 for b in boxes)
    assert 0.3 * grid_height < bar.height < 0.9 * grid_height


def test_heatmaps_figure_size(figures, monkeypatch):
    monkeypatch.setitem(d2l.plt.rcParams, 'figure.figsize', [6.0, 4.0])
    fig, _, _ = heatmap_figure(torch.rand(1, 1, 2, 2), 'k', 'q')
    assert tuple(fig.get_size_inches()) == (2.5, 2.5)
    fig, _, _ = heatmap_figure(torch.rand(1, 2, 2, 2), 'k', 'q', figsize=(4.0, 3.0))
    assert tuple(fig.get_size_inches()) == (4.0, 3.0)


@pytest.mark.parametrize('shape', [(1, 1), (1, 3), (3, 1)])
def test_heatmaps_single_row_or_column_grids(figures, shape):
    fig, panels, colorbars = heatmap_figure(torch.rand(*shape, 3, 2), 'keys', 'queries')
    assert len(panels) == shape[0] * shape[1] and len(colorbars) == 1
    assert panels[-1].get_xlabel() == 'keys' and panels[0].get_ylabel() == 'queries'


def test_heatmaps_tick_labels_on_every_panel(figures):
    fig, panels, _ = heatmap_figure(torch.rand(2, 2, 3, 4), 'k', 'q',
                                    xticklabels=['a', 'b', 'c', 'd'],
                                    yticklabels=['<bos>', 'x', 'y'])
    for ax in panels:
        assert list(ax.get_xticks()) == [0, 1, 2, 3]
        assert list(ax.get_yticks()) == [0, 1, 2]
    bottom_left = panels[2]  # the panel whose tick labels both show
    xlabels = bottom_left.get_xticklabels()
    assert [t.get_text() for t in xlabels] == ['a', 'b', 'c', 'd']
    assert all(t.get_rotation() == 90 for t in xlabels)  # tokens read upwards
    assert [t.get_text() for t in bottom_left.get_yticklabels()] == ['<bos>', 'x', 'y']


def test_heatmaps_accept_arrays_lists_and_tensors_that_need_grad(figures):
    data = np.arange(8, dtype=np.float64).reshape(1, 2, 2, 2)
    _, panels, _ = heatmap_figure(data, 'k', 'q')
    assert np.array_equal(panels[1].images[0].get_array(), data[0, 1])
    d2l.plt.close('all')
    _, panels, _ = heatmap_figure(data.tolist(), 'k', 'q')
    assert panels[0].images[0].get_clim() == (0.0, 7.0)
    d2l.plt.close('all')
    weights = torch.ones(1, 1, 2, 3, requires_grad=True) * torch.tensor([1.0, 2.0, 3.0])
    _, panels, _ = heatmap_figure(weights, 'k', 'q')  # e.g. attention weights in training
    assert panels[0].images[0].get_clim() == (1.0, 3.0)


@pytest.mark.parametrize('bad', [torch.rand(3, 3), np.zeros((2, 2, 2)), torch.rand(1, 1, 1, 2, 2)])
def test_heatmaps_reject_arrays_that_are_not_4d(figures, bad):
    shape = re_escape(str(tuple(bad.shape)))
    with pytest.raises(ValueError, match=f'show_heatmaps needs a 4-D array.*got shape {shape}'):
        d2l.show_heatmaps(bad, 'k', 'q')
    assert d2l.plt.get_fignums() == []  # no empty figure left behind


def re_escape(text):
    import re
    return re.escape(text)


# -- the Bahdanau decoder -------------------------------------------------------------

def bahdanau(num_layers, seed=3, src_vocab=7, tgt_vocab=6):
    torch.manual_seed(seed)
    encoder = d2l.Seq2SeqEncoder(src_vocab, 4, 8, num_layers)
    decoder = d2l.Seq2SeqAttentionDecoder(tgt_vocab, 4, 8, num_layers)
    model = d2l.Seq2Seq(encoder, decoder, tgt_pad=0, lr=0.01)
    model(torch.ones(1, 3, dtype=torch.long), torch.ones(1, 2, dtype=torch.long),
          torch.tensor([3]))
    return model.eval()


@pytest.mark.parametrize('num_layers', [1, 3])
def test_bahdanau_queries_with_the_last_layers_hidden_state(num_layers):
    model = bahdanau(num_layers)
    src, valid = torch.tensor([[1, 2, 3, 4], [5, 6, 1, 1]]), torch.tensor([4, 2])
    tgt = torch.tensor([[1, 2, 3], [1, 4, 5]])
    with torch.no_grad():
        state = model.decoder.init_state(model.encoder(src, valid), valid)
        enc_outputs, hidden, _ = state
        Y, new_state = model.decoder(tgt, state)
        first = model.decoder.attention_weights[0]
        # The first query is the encoder's final state in the top layer
        model.decoder.attention(hidden[-1].unsqueeze(1), enc_outputs, enc_outputs, valid)
        expected = model.decoder.attention.attention_weights
    d2l.check_shape(Y, (2, 3, 6))
    d2l.check_shape(new_state[1], (num_layers, 2, 8))
    torch.testing.assert_close(first, expected)
    assert torch.equal(first[1, :, 2:], torch.zeros(1, 2))


def test_bahdanau_decoder_carries_its_hidden_state_from_step_to_step():
    # With one source position, attention always gives the same context: what the
    # decoder knows of the past must come through the GRU's hidden state.
    model = bahdanau(2)
    src, valid = torch.tensor([[3], [3]]), torch.tensor([1, 1])
    with torch.no_grad():
        enc = model.encoder(src, valid)
        Y = model.decoder(torch.tensor([[1, 2, 4], [5, 2, 4]]),
                          model.decoder.init_state(enc, valid))[0]
        # Later steps remember the first token, though they read the same ones
        assert not torch.allclose(Y[0, 1:], Y[1, 1:])
        # The encoder's final state is where the decoder starts
        outputs, hidden = enc
        Y2 = model.decoder(torch.tensor([[1, 2, 4], [1, 2, 4]]),
                           model.decoder.init_state((outputs, hidden * 0), valid))[0]
        Y1 = model.decoder(torch.tensor([[1, 2, 4], [1, 2, 4]]),
                           model.decoder.init_state(enc, valid))[0]
    assert not torch.allclose(Y1[:, 0], Y2[:, 0])
    # Step by step with the returned state is the same as all steps at once
    with torch.no_grad():
        state, steps = model.decoder.init_state(enc, valid), []
        for t in range(3):
            out, state = model.decoder(torch.tensor([[1, 2, 4], [1, 2, 4]])[:, t:t + 1], state)
            steps.append(out)
    torch.testing.assert_close(torch.cat(steps, 1), Y1)


def test_seq2seq_validation_step_plots_the_masked_loss_with_valid_lengths():
    model = bahdanau(2)
    model.board.display = False
    model.trainer = types.SimpleNamespace(epoch=2, num_val_batches=1)
    src = torch.tensor([[1, 2, 3, 4], [5, 6, 1, 1]])
    valid = torch.tensor([4, 2])
    tgt, labels = torch.tensor([[1, 2, 3], [1, 4, 5]]), torch.tensor([[2, 3, 0], [4, 5, 3]])
    with torch.no_grad():
        model.validation_step((src, tgt, valid, labels))
        expected = model.loss(model(src, tgt, valid), labels)
        # The source lengths matter here: the padded positions are not attended to
        assert not torch.allclose(model.loss(model(src, tgt, torch.tensor([4, 4])), labels),
                                  expected)
    assert list(model.board.data) == ['val_loss']
    (point,) = model.board.data['val_loss']
    assert point.x == 3 and point.y == pytest.approx(expected.item())


# -- BLEU ---------------------------------------------------------------------------

def d2l_bleu(pred_seq, label_seq, k):
    """d2l's BLEU (section 10.7), verbatim."""
    pred_tokens, label_tokens = pred_seq.split(' '), label_seq.split(' ')
    len_pred, len_label = len(pred_tokens), len(label_tokens)
    score = math.exp(min(0, 1 - len_label / len_pred))
    for n in range(1, min(k, len_pred) + 1):
        num_matches, label_subs = 0, collections.defaultdict(int)
        for i in range(len_label - n + 1):
            label_subs[' '.join(label_tokens[i: i + n])] += 1
        for i in range(len_pred - n + 1):
            if label_subs[' '.join(pred_tokens[i: i + n])] > 0:
                num_matches += 1
                label_subs[' '.join(pred_tokens[i: i + n])] -= 1
        score *= math.pow(num_matches / (len_pred - n + 1), math.pow(0.5, n))
    return score


def test_bleu_equals_d2ls_formula_on_random_sentences():
    rng = random.Random(0)
    words = ['a', 'b', 'c', 'd', '.']
    for _ in range(300):
        pred = ' '.join(rng.choice(words) for _ in range(rng.randint(1, 7)))
        label = ' '.join(rng.choice(words) for _ in range(rng.randint(1, 7)))
        k = rng.randint(1, 5)
        assert d2l.bleu(pred, label, k) == pytest.approx(d2l_bleu(pred, label, k)), (pred, label, k)


@pytest.mark.parametrize('pred, label', [
    ('', 'a b'),        # the model emitted <eos> first: an empty translation
    ('a', ''),
    ('a  b', 'a b'),    # tokens are split on each space, as in d2l
    ('a b', 'a  b'),
    ('a b ', 'a b'),
    ('a\tb c', 'a\tb c d'),
])
def test_bleu_splits_on_single_spaces_like_d2l(pred, label):
    for k in (1, 2, 3):
        assert d2l.bleu(pred, label, k) == pytest.approx(d2l_bleu(pred, label, k))


def test_bleu_of_an_empty_prediction_is_zero():
    assert d2l.bleu('', 'il pleut .', k=2) == 0
    assert d2l.bleu('a  b', 'a b', k=1) == pytest.approx((2 / 3) ** 0.5)  # 3 tokens, one empty


@pytest.mark.parametrize('k', [-1, 2.0, '2', None])
def test_bleu_rejects_k_that_is_not_a_positive_integer(k):
    with pytest.raises(ValueError, match=r'k \(the longest n-gram\) must be a positive integer'):
        d2l.bleu('a b', 'a b', k)


# -- the language model's predict -------------------------------------------------------

class RecordingRNN(nn.Module):
    """A stand-in recurrent layer with the (inputs, state) interface that records
    the device of what it reads."""
    num_hiddens, sigma = 3, 0.01

    def __init__(self):
        super().__init__()
        self.devices = []

    def forward(self, inputs, state):
        self.devices.append(inputs.device.type)
        H = inputs[..., :1].expand(-1, -1, self.num_hiddens)  # on the inputs' device
        return H, state


def test_predict_reads_the_prefix_on_the_models_device():
    vocab = d2l.Vocab(list('abc'))
    model = d2l.RNNLMScratch(RecordingRNN(), len(vocab)).to('meta')
    assert model.predict('ab', 0, vocab) == 'ab'
    assert model.rnn.devices == ['meta']


def test_predict_reads_the_prefix_on_the_device_it_is_given():
    vocab = d2l.Vocab(list('abc'))
    model = d2l.RNNLMScratch(RecordingRNN(), len(vocab))
    assert model.predict('ab', 0, vocab, device='meta') == 'ab'
    assert model.rnn.devices == ['meta']
    assert model.predict('ab', 2, vocab, device='cpu').startswith('ab')
    assert model.rnn.devices[1:] == ['cpu'] * 3  # the prefix, then one call per prediction


# -- known_indices, Time Machine, fra-eng -------------------------------------------------

def test_known_indices_default_names_tokens_and_shows_the_vocabulary():
    vocab = d2l.Vocab(['un', 'deux', 'trois'])
    assert d2l.known_indices(vocab, ['trois', 'un']) == [vocab['trois'], vocab['un']]
    assert d2l.known_indices(vocab, []) == []
    with pytest.raises(ValueError, match=r"^1 token\(s\) not in the vocabulary: 'quatre'; "
                                         r"the vocabulary has 4 tokens, e\.g\. \['<unk>', "):
        d2l.known_indices(vocab, ['un', 'quatre', 'quatre'])


def test_known_indices_shows_only_a_sample_of_a_large_vocabulary():
    tokens = [f'w{i:03d}' for i in range(200)]
    vocab = d2l.Vocab(tokens)
    with pytest.raises(ValueError) as info:
        d2l.known_indices(vocab, ['nope'])
    message = str(info.value)
    assert 'the vocabulary has 201 tokens' in message
    assert "'w000'" in message and "'w150'" not in message


def test_show_list_len_pair_hist_labels_both_axes(figures):
    d2l.show_list_len_pair_hist(['src', 'tgt'], '# tokens per sequence', 'count',
                                [[1, 2], [3]], [[1], [2, 3, 4]])
    ax = d2l.plt.gca()
    assert (ax.get_xlabel(), ax.get_ylabel()) == ('# tokens per sequence', 'count')


@needs_mirror
@pytest.mark.parametrize('cls, first_text, path', [
    (d2l.MTFraEng, 'Go.\tVa !\nHi.\tSalut !\n', 'fra-eng/fra.txt'),
    (d2l.TimeMachine, None, 'timemachine.txt')])
def test_download_uses_the_objects_root(tmp_path, monkeypatch, cls, first_text, path):
    # d2l's chapters 9.2 and 10.5 call data._download(); the file goes under data.root
    monkeypatch.setenv('D2LMINI_DATA', str(tmp_path / 'elsewhere'))
    data = object.__new__(cls)
    data.root = str(tmp_path / 'root')
    raw = data._download()
    if first_text is None:
        assert 'the time machine' in raw.lower()
    else:
        assert raw.startswith(first_text)
    assert (tmp_path / 'root' / path).is_file()
    assert not (tmp_path / 'elsewhere').exists()


@needs_mirror
def test_fra_eng_is_read_as_utf8_whatever_the_locale(tmp_path, monkeypatch):
    # open() without an encoding decodes with the locale's (ASCII on some servers,
    # cp1252 on Windows); the French text must still come out right
    import builtins
    import d2lmini.text as text_module

    def open_with_an_ascii_locale(file, mode='r', buffering=-1, encoding=None, *args, **kwargs):
        if 'b' not in mode and encoding is None:
            encoding = 'ascii'
        return builtins.open(file, mode, buffering, encoding, *args, **kwargs)

    monkeypatch.setattr(text_module, 'open', open_with_an_ascii_locale, raising=False)
    data = object.__new__(d2l.MTFraEng)
    data.root = str(tmp_path)
    raw = data._download()
    assert raw.split('\n')[2] == 'Run!\tCours\u202f!'
    assert 'Ça alors' in raw


@needs_mirror
def test_fra_eng_training_loader_shuffles_and_validation_keeps_order():
    data = d2l.MTFraEng(batch_size=1000, num_train=64, num_val=16)
    src = data.arrays[0]
    torch.manual_seed(0)
    (first,) = [b[0] for b in data.train_dataloader()]
    (second,) = [b[0] for b in data.train_dataloader()]
    assert first.shape == (64, 9)
    assert sorted(map(tuple, first.tolist())) == sorted(map(tuple, src[:64].tolist()))
    assert not torch.equal(first, src[:64]) and not torch.equal(first, second)
    (val,) = [b[0] for b in data.val_dataloader()]
    assert torch.equal(val, src[64:])  # num_val + 1 pairs, as in d2l
    assert len(val) == 17


# -- beam search with decoders of other state layouts ----------------------------------------

BOS, EOS = 1, 2


class LSTMDecoder(d2l.Decoder):
    """An LSTM decoder whose state is a dict: the encoder's context (batch first), the
    LSTM's (h, c) tuple and a temperature shared by all rows (a 0-d tensor)."""
    def __init__(self, vocab_size, num_hiddens):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, 4)
        self.rnn = nn.LSTM(4 + num_hiddens, num_hiddens)
        self.dense = nn.Linear(num_hiddens, vocab_size)
        self.state_types = []

    def init_state(self, enc_all_outputs, enc_valid_lens):
        outputs, hidden = enc_all_outputs
        return {'context': outputs[-1], 'lstm': (hidden[-1:], torch.zeros_like(hidden[-1:])),
                'temperature': torch.tensor(0.3)}

    def forward(self, X, state):
        self.state_types.append(type(state['lstm']))
        embs = self.embedding(X.t())
        context = state['context'].expand(embs.shape[0], -1, -1)
        outputs, (h, c) = self.rnn(torch.cat((embs, context), -1), state['lstm'])
        Y = self.dense(outputs).swapaxes(0, 1) / state['temperature']
        return Y, {'context': state['context'], 'lstm': (h, c),
                   'temperature': state['temperature']}


class Memory:
    """A decoder state that is not a list, tuple or dict."""
    def __init__(self, state):
        self.state = state


class MemoryDecoder(LSTMDecoder):
    """The same decoder with its state in an object, reordered by ``reorder_state``."""
    def __init__(self, vocab_size, num_hiddens):
        super().__init__(vocab_size, num_hiddens)
        self.reordered = []

    def init_state(self, enc_all_outputs, enc_valid_lens):
        return Memory(super().init_state(enc_all_outputs, enc_valid_lens))

    def forward(self, X, state):
        Y, new = super().forward(X, state.state)
        return Y, Memory(new)

    def reorder_state(self, state, rows):
        self.reordered.append(rows.tolist())
        s = state.state
        return Memory({'context': s['context'][rows],
                       'lstm': tuple(t[:, rows] for t in s['lstm']),
                       'temperature': s['temperature']})


def lstm_model(decoder_cls, seed=0, vocab=5):
    torch.manual_seed(seed)
    model = d2l.EncoderDecoder(d2l.Seq2SeqEncoder(6, 4, 8, 1), decoder_cls(vocab, 8))
    return model.eval()


def assert_scores_are_sequence_probabilities(model, src, valid, out, alpha=0.75):
    for b in range(src.shape[0]):
        for tokens, L, score in zip(out.tokens[b], out.lengths[b], out.scores[b]):
            seq = tokens[:L]
            dec_in = torch.cat((torch.tensor([BOS]), seq[:-1]))[None]
            with torch.no_grad():
                logits = model(src[b:b + 1], dec_in, valid[b:b + 1])
            log_p = torch.log_softmax(logits, -1)[0].gather(1, seq[:, None]).sum()
            assert score.item() == pytest.approx(log_p.item() / L.item() ** alpha, abs=1e-4)


SRC = torch.tensor([[1, 2, 3, 4], [5, 3, 1, 1]])
VALID = torch.tensor([4, 2])


def test_beam_search_reorders_dict_and_tuple_states_and_keeps_shared_tensors():
    model = lstm_model(LSTMDecoder)
    out = d2l.beam_search(model, SRC, VALID, 4, 3, bos=BOS, eos=EOS)
    assert out.tokens.shape == (2, 3, 4)
    assert_scores_are_sequence_probabilities(model, SRC, VALID, out)
    assert (out.scores[:, :-1] >= out.scores[:, 1:]).all()
    # The LSTM's (h, c) stays a tuple through every step
    assert set(model.decoder.state_types) == {tuple}


def test_beam_search_uses_the_decoders_reorder_state():
    model = lstm_model(MemoryDecoder)
    out = d2l.beam_search(model, SRC, VALID, 4, 3, bos=BOS, eos=EOS)
    assert_scores_are_sequence_probabilities(model, SRC, VALID, out)
    reordered = model.decoder.reordered
    assert len(reordered) == 3  # after every step but the last
    assert all(len(rows) == 6 for rows in reordered)
    assert all(0 <= r < 3 for rows in reordered for r in rows[:3])  # source 0's beams
    assert all(3 <= r < 6 for rows in reordered for r in rows[3:])  # source 1's beams
    # Same sequences as the decoder without the hook (whose state beam_search reorders)
    plain = d2l.beam_search(lstm_model(LSTMDecoder), SRC, VALID, 4, 3, bos=BOS, eos=EOS)
    assert torch.equal(out.tokens, plain.tokens)


class OddStateDecoder(LSTMDecoder):
    """Adds to the state something beam_search cannot reorder by itself."""
    def __init__(self, vocab_size, num_hiddens, extra):
        super().__init__(vocab_size, num_hiddens)
        self.extra = extra

    def forward(self, X, state):
        Y, new = super().forward(X, state)
        h = new['lstm'][0][0]  # (batch, num_hiddens)
        if self.extra == 'per_row_list':  # one tensor per example
            new['rows'] = [row for row in h]
        elif self.extra == 'pairwise':  # (batch, batch)
            new['similarity'] = h @ h.T
        elif self.extra == 'flattened':  # (batch * num_hiddens,)
            new['flat'] = h.reshape(-1)
        elif self.extra == 'history':  # one more tensor each step
            new['history'] = state.get('history', []) + [h]
        elif self.extra == 'squeezed':  # (batch, num_hiddens), but (num_hiddens,) for one source
            new['last'] = h.squeeze()
        return Y, new


@pytest.mark.parametrize('extra, message', [
    ('per_row_list', r'the decoder state changes structure with the batch size; '
                     r'give the decoder a reorder_state\(state, rows\) method'),
    ('pairwise', r'cannot find the batch dimension of a decoder state tensor of shape '
                 r'\(4, 4\) \(one source: \(1, 1\)\); give the decoder a '
                 r'reorder_state\(state, rows\) method'),
    ('flattened', r'cannot find the batch dimension of a decoder state tensor of shape '
                  r'\(32,\) \(one source: \(8,\)\)'),
    ('history', r'the decoder state changed structure between steps; '
                r'give the decoder a reorder_state\(state, rows\) method'),
    ('squeezed', r'cannot find the batch dimension of a decoder state tensor of shape '
                 r'\(4, 8\) \(one source: \(8,\)\)'),
])
def test_beam_search_explains_states_it_cannot_reorder(extra, message):
    torch.manual_seed(0)
    model = d2l.EncoderDecoder(d2l.Seq2SeqEncoder(6, 4, 8, 1),
                               OddStateDecoder(5, 8, extra)).eval()
    with pytest.raises(RuntimeError, match=message):
        d2l.beam_search(model, SRC, VALID, 4, 2, bos=BOS, eos=EOS)
    # With one beam there is nothing to reorder
    out = d2l.beam_search(model, SRC, VALID, 4, 1, bos=BOS, eos=EOS)
    assert out.tokens.shape == (2, 1, 4)


LSTMState = collections.namedtuple('LSTMState', ['h', 'c'])


class NamedTupleDecoder(LSTMDecoder):
    """The LSTM decoder with its (h, c) in a namedtuple, as many decoders keep it."""
    def forward(self, X, state):
        state = {**state, 'lstm': tuple(state['lstm'])}
        Y, new = super().forward(X, state)
        return Y, {**new, 'lstm': LSTMState(*new['lstm'])}


def test_beam_search_keeps_namedtuple_states():
    model = lstm_model(NamedTupleDecoder)
    out = d2l.beam_search(model, SRC, VALID, 4, 3, bos=BOS, eos=EOS)
    assert_scores_are_sequence_probabilities(model, SRC, VALID, out)
    plain = d2l.beam_search(lstm_model(LSTMDecoder), SRC, VALID, 4, 3, bos=BOS, eos=EOS)
    assert torch.equal(out.tokens, plain.tokens)


# -- English-French details without the file ---------------------------------------------------

def d2l_tokenize(text, max_examples=None):
    """d2l's MTFraEng._tokenize (section 10.5), verbatim."""
    src, tgt = [], []
    for i, line in enumerate(text.split('\n')):
        if max_examples and i > max_examples:
            break
        parts = line.split('\t')
        if len(parts) == 2:
            src.append([t for t in f'{parts[0]} <eos>'.split(' ') if t])
            tgt.append([t for t in f'{parts[1]} <eos>'.split(' ') if t])
    return src, tgt


def test_fra_eng_tokenize_follows_d2l_on_irregular_lines():
    text = ('go .\tva !\n\nhi  there\tsalut\u2009!\nno tab\none\ttwo\tthree\n'
            'win\r\tgagne !\r\n\tvide\nend .\tfin .')
    mt = object.__new__(d2l.MTFraEng)
    assert mt._tokenize(text) == d2l_tokenize(text)
    src, tgt = mt._tokenize(text)
    assert src[-1] == ['end', '.', '<eos>']  # lines after a malformed one are read
    assert tgt[1] == ['salut\u2009!', '<eos>']  # only plain spaces separate tokens
    for n in (1, 2, 4):
        assert mt._tokenize(text, n) == d2l_tokenize(text, n)


def small_fra_eng(num_steps=5):
    mt = object.__new__(d2l.MTFraEng)
    mt.num_steps, mt.num_train, mt.num_val, mt.batch_size = num_steps, 3, 1, 2
    text = 'Go.\tVa !\nGo.\tVa !\nHi.\tSalut.\nHi.\tSalut !\nRun!\tCours !'
    mt.arrays, mt.src_vocab, mt.tgt_vocab = mt._build_arrays(text)
    return mt, text


def test_fra_eng_build_arrays_uses_given_vocabularies():
    mt, text = small_fra_eng()
    # Lines 0 to num_train + num_val, tokens seen at least twice
    assert mt.src_vocab.idx_to_token == ['.', '<eos>', '<pad>', '<unk>', 'go', 'hi']
    assert mt.tgt_vocab.idx_to_token == ['!', '<bos>', '<eos>', '<pad>', '<unk>', 'salut', 'va']
    src_vocab, tgt_vocab = d2l.Vocab(['go', '.', '<pad>', '<eos>']), d2l.Vocab(
        ['<bos>', '<eos>', '<pad>', 'va', '!'])
    arrays, sv, tv = mt._build_arrays(text, src_vocab, tgt_vocab)
    assert sv is src_vocab and tv is tgt_vocab
    assert src_vocab.to_tokens(arrays[0][2]) == ['<unk>', '.', '<eos>', '<pad>', '<pad>']
    assert tgt_vocab.to_tokens(arrays[3][0]) == ['va', '!', '<eos>', '<pad>', '<pad>']


def test_fra_eng_build_indexes_targets_with_the_target_vocabulary():
    mt, _ = small_fra_eng()
    src, tgt_in, valid, labels = mt.build(['Go.', 'Hi.'], ['Va !', 'Salut !'])
    assert mt.tgt_vocab.to_tokens(labels[0]) == ['va', '!', '<eos>', '<pad>', '<pad>']
    assert mt.tgt_vocab.to_tokens(tgt_in[1]) == ['<bos>', 'salut', '!', '<eos>', '<pad>']
    assert mt.src_vocab.to_tokens(src[1]) == ['hi', '.', '<eos>', '<pad>', '<pad>']
    assert valid.tolist() == [3, 3]
    assert src.dtype == labels.dtype == torch.long


def test_fra_eng_build_accepts_exactly_num_steps_tokens_and_explains_longer_ones():
    mt, _ = small_fra_eng(num_steps=5)
    src, _, valid, _ = mt.build(['go go go go'], ['va'])  # 4 words + <eos> = num_steps
    assert valid.tolist() == [5]
    with pytest.raises(ValueError, match=r"source sentence 'go go go go go <eos>' has 6 tokens "
                                         r"\(<eos> included\) but num_steps=5; shorten it or "
                                         r"use an MTFraEng with a larger num_steps"):
        mt.build(['go go go go go'], ['va'])
    with pytest.raises(ValueError, match=r"target sentence 'va va va va va <eos>' has 6"):
        mt.build(['go'], ['va va va va va'])
    with pytest.raises(ValueError, match='contains a tab or a line break'):
        mt.build(['go\n.'], ['va !'])
    with pytest.raises(ValueError, match='contains a tab or a line break'):
        mt.build(['go .'], ['va\n!'])
