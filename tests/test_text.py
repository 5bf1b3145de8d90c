"""Vocab, the Time Machine corpus and the English–French translation pairs."""
import os

import pytest
import torch

import d2lmini as d2l

needs_mirror = pytest.mark.skipif(not os.environ.get('D2LMINI_MIRROR'),
                                  reason='the text datasets need the data mirror (D2LMINI_MIRROR)')


# -- Vocab ------------------------------------------------------------------
def test_vocab_indices_are_sorted_tokens_with_unk_and_reserved():
    vocab = d2l.Vocab(list('banana bread'), reserved_tokens=['<pad>'])
    assert vocab.idx_to_token == sorted(set('banana bread') | {'<unk>', '<pad>'})
    assert vocab.idx_to_token[:3] == [' ', '<pad>', '<unk>']
    assert len(vocab) == 9
    assert all(vocab.token_to_idx[t] == i for i, t in enumerate(vocab.idx_to_token))
    assert vocab.unk == 2


def test_vocab_round_trips_and_maps_unknown_tokens_to_unk():
    text = list('the quick brown fox')
    vocab = d2l.Vocab(text)
    indices = vocab[text]
    assert isinstance(indices, list) and len(indices) == len(text)
    assert vocab.to_tokens(indices) == text
    assert vocab.to_tokens(torch.tensor(indices)) == text
    assert vocab.to_tokens(indices[:1]) == text[:1]  # a one-element list stays a list
    assert vocab.to_tokens(indices[4]) == 'q' and vocab.to_tokens(torch.tensor(indices[4])) == 'q'
    assert vocab['Z'] == vocab.unk and vocab[('t', 'Z')] == [vocab['t'], vocab.unk]
    assert 'q' in vocab and 'Z' not in vocab
    assert list(vocab) == vocab.idx_to_token


def test_vocab_frequencies_min_freq_and_nested_sentences():
    sentences = [['a', 'b', 'a'], ['c', 'a', 'b'], ['d']]
    vocab = d2l.Vocab(sentences, min_freq=2)
    assert vocab.token_freqs == [('a', 3), ('b', 2), ('c', 1), ('d', 1)]  # ties: text order
    assert vocab.idx_to_token == ['<unk>', 'a', 'b']
    assert vocab[['c', 'a']] == [vocab.unk, 1]
    assert vocab[[['a'], ['b', 'c']]] == [[1], [2, 0]]
    empty = d2l.Vocab()
    assert empty.idx_to_token == ['<unk>'] and empty.token_freqs == []


def test_known_indices_names_every_missing_token():
    vocab = d2l.Vocab(list('abc'))
    assert d2l.known_indices(vocab, 'cab') == vocab[list('cab')]
    message = r"2 prefix character\(s\) not in the vocabulary: 'X', 'Y'"
    with pytest.raises(ValueError, match=message):
        d2l.known_indices(vocab, 'aXbY', 'prefix character')


# -- The Time Machine ---------------------------------------------------------
def bare(cls):
    """An instance without running __init__ (no data read)."""
    return object.__new__(cls)


def test_time_machine_preprocessing_and_tokens():
    tm = bare(d2l.TimeMachine)
    raw = 'The Time-Machine, by H. G. Wells [1898]\n\n\n I.\nIntroduction'
    text = tm._preprocess(raw)
    assert text == 'the time machine by h g wells i introduction'
    assert tm._tokenize('ab c') == ['a', 'b', ' ', 'c']
    corpus, vocab = tm.build(raw)
    assert vocab.idx_to_token[:2] == [' ', '<unk>'] and '-' not in vocab
    assert ''.join(vocab.to_tokens(corpus)) == text
    # A given vocabulary is used as is; characters it lacks become <unk>
    corpus2, vocab2 = tm.build('zeta', vocab)
    assert vocab2 is vocab and corpus2[0] == vocab.unk and corpus2[1:] == vocab[list('eta')]


def test_time_machine_refuses_an_empty_corpus():
    with pytest.raises(ValueError, match='no letters'):
        bare(d2l.TimeMachine).build('1898 -- 1900!\n')


@pytest.fixture(scope='module')
def time_machine():
    return d2l.TimeMachine(batch_size=4, num_steps=5, num_train=22, num_val=9)


@needs_mirror
def test_time_machine_corpus_matches_d2l(time_machine):
    data = time_machine
    assert len(data.vocab) == 28  # 26 letters, space, <unk>
    assert len(data.X) == 173428 - 5  # d2l's corpus has 173,428 characters
    assert data.vocab.token_freqs[:3] == [(' ', 32775), ('e', 17838), ('t', 13515)]
    assert ''.join(data.vocab.to_tokens(data.X[0])) == 'the t'
    assert torch.equal(data.X[1:, :], data.Y[:-1, :])  # windows overlap
    assert torch.equal(data.X[:, 1:], data.Y[:, :-1])  # labels: the next character


@needs_mirror
def test_time_machine_loaders_split_train_and_val(time_machine):
    data = time_machine
    train, val = data.train_dataloader(), data.val_dataloader()
    assert (len(train), len(val)) == (6, 3)  # ceil(22 / 4), ceil(9 / 4)
    torch.manual_seed(0)
    seen = torch.cat([X for X, _ in train])
    assert seen.shape == (22, 5)
    # Every training window once, in a shuffled order; labels stay with their windows
    assert sorted(map(tuple, seen.tolist())) == sorted(map(tuple, data.X[:22].tolist()))
    for X, Y in train:
        assert X.shape[1:] == (5,) and torch.equal(X[:, 1:], Y[:, :-1])
    vX = torch.cat([X for X, _ in val])
    assert torch.equal(vX, data.X[22:31])  # validation: the next 9 windows, in order


@needs_mirror
def test_time_machine_refuses_impossible_sizes():
    with pytest.raises(ValueError, match='windows of num_steps=173000'):
        d2l.TimeMachine(batch_size=2, num_steps=173000)
    with pytest.raises(ValueError, match='num_steps must be a positive integer'):
        d2l.TimeMachine(batch_size=2, num_steps=0)


# -- English-French -----------------------------------------------------------
def test_fra_eng_preprocessing_matches_d2l_rules():
    mt = bare(d2l.MTFraEng)
    raw = 'Go.\tVa\u202f!\nHi,you!\tSalut\xa0!\n...Wait?!\tAttends ?'
    # A line break is not a space: the first '.' of the third line gets one too
    assert mt._preprocess(raw) == 'go .\tva !\nhi ,you !\tsalut !\n . . .wait ? !\tattends ?'
    src, tgt = mt._tokenize(mt._preprocess(raw) + '\nno tab here\n')
    assert src == [['go', '.', '<eos>'], ['hi', ',you', '!', '<eos>'],
                   ['.', '.', '.wait', '?', '!', '<eos>']]
    assert tgt[0] == ['va', '!', '<eos>']
    # max_examples=n reads lines 0..n, as d2l does
    assert len(mt._tokenize(mt._preprocess(raw), max_examples=1)[0]) == 2


@pytest.fixture(scope='module')
def fra_eng():
    return d2l.MTFraEng(batch_size=128)


@needs_mirror
def test_fra_eng_arrays_layout(fra_eng):
    data = fra_eng
    src, tgt_in, src_valid_len, labels = data.arrays
    assert src.shape == tgt_in.shape == labels.shape == (641, 9)  # 512 + 128 + 1 pairs
    assert (len(data.src_vocab), len(data.tgt_vocab)) == (194, 214)
    assert src.dtype == torch.long and src_valid_len.dtype == torch.long
    pad, bos, eos = (data.tgt_vocab[t] for t in ('<pad>', '<bos>', '<eos>'))
    assert (tgt_in[:, 0] == bos).all()
    assert torch.equal(tgt_in[:, 1:], labels[:, :-1])  # teacher forcing: shifted by one
    assert torch.equal(src_valid_len, (src != data.src_vocab['<pad>']).sum(1))
    assert data.src_vocab.to_tokens(src[0]) == ['go', '.', '<eos>'] + ['<pad>'] * 6
    assert data.tgt_vocab.to_tokens(labels[0]) == ['va', '!', '<eos>'] + ['<pad>'] * 6
    assert ((labels == eos).sum(1) <= 1).all() and (labels[:, -1] != bos).all()
    assert pad != eos


@needs_mirror
def test_fra_eng_loaders_split_512_and_129(fra_eng):
    train, val = fra_eng.train_dataloader(), fra_eng.val_dataloader()
    assert [len(b[0]) for b in train] == [128] * 4
    batches = list(val)
    assert [len(b[0]) for b in batches] == [128, 1]
    assert torch.equal(batches[0][0], fra_eng.arrays[0][512:640])
    assert len(batches[0]) == 4


@needs_mirror
def test_fra_eng_build_uses_the_dataset_vocabularies(fra_eng):
    data = fra_eng
    src, tgt_in, valid, labels = data.build(['Go.', 'zebras run .'], ['Va !', 'x .'])
    assert data.src_vocab.to_tokens(src[0][:3]) == ['go', '.', '<eos>']
    assert src[1, 0] == data.src_vocab.unk  # unknown words become <unk>, as in d2l
    assert valid.tolist() == [3, 4]
    assert torch.equal(tgt_in[:, 1:], labels[:, :-1])
    with pytest.raises(ValueError, match='source sentence .* has 11 tokens'):
        data.build(['one two three four five six seven eight nine ten'], ['un'])
    with pytest.raises(ValueError, match='target sentence'):
        data.build(['go .'], ['a b c d e f g h i'])
    with pytest.raises(ValueError, match='1 source and 2 target'):
        data.build(['go .'], ['va !', 'va !'])
    with pytest.raises(ValueError, match='tab or a line break'):
        data.build(['go\t.'], ['va !'])


def test_show_list_len_pair_hist_draws_two_hatched_series():
    d2l.plt.close('all')
    d2l.show_list_len_pair_hist(['source', 'target'], '# tokens', 'count',
                                [[1, 2], [1], [1, 2, 3]], [[1], [1, 2, 3, 4]])
    ax = d2l.plt.gca()
    hatched = [p for p in ax.patches if p.get_hatch() == '/']
    assert len(hatched) == 10 and len(ax.patches) == 20  # 10 bins per series
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ['source', 'target']
    assert ax.get_xlabel() == '# tokens'
    d2l.plt.close('all')
