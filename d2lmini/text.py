"""Text as data: the ``Vocab``, the Time Machine character corpus (sections
9.2–9.3) and the English–French sentence pairs for translation (section 10.5).

Both datasets follow d2l's preprocessing rules exactly, so vocabularies, index
arrays and the train/validation split are the ones d2l's figures come from. The
index arrays are built once as tensors; a minibatch is an index slice of them
(:class:`d2lmini.TensorLoader`), so an epoch runs no per-example Python.
"""
import collections
import re

import torch

import d2lmini as d2l


class Vocab:
    """A vocabulary: maps tokens to indices and back (d2l's semantics).

    The tokens are sorted (so indices do not depend on the order of the text);
    ``'<unk>'`` is always among them, and so is every token in
    ``reserved_tokens``. Tokens seen fewer than ``min_freq`` times are left out.
    Looking up a token the vocabulary does not have gives the index of
    ``'<unk>'``, as in d2l.
    """
    def __init__(self, tokens=[], min_freq=0, reserved_tokens=[]):
        if tokens and isinstance(tokens[0], list):  # a list of sentences
            tokens = [token for line in tokens for token in line]
        # (token, count) pairs, most frequent first; ties keep the text's order
        self.token_freqs = collections.Counter(tokens).most_common()
        frequent = {token for token, count in self.token_freqs if count >= min_freq}
        self.idx_to_token = sorted(frequent | {'<unk>'} | set(reserved_tokens))
        self.token_to_idx = {token: i for i, token in enumerate(self.idx_to_token)}

    def __len__(self):
        return len(self.idx_to_token)

    def __getitem__(self, tokens):
        """The index of a token, or the list of indices of a list (or tuple) of tokens."""
        if isinstance(tokens, (list, tuple)):
            return [self[token] for token in tokens]
        return self.token_to_idx.get(tokens, self.unk)

    def __contains__(self, token):
        return token in self.token_to_idx

    def __iter__(self):
        return iter(self.idx_to_token)

    def to_tokens(self, indices):
        """The token of one index, or the list of tokens of several (list, 1-D tensor)."""
        if isinstance(indices, torch.Tensor):
            indices = indices.tolist()
        if isinstance(indices, (list, tuple)):
            return [self.idx_to_token[int(i)] for i in indices]
        return self.idx_to_token[int(indices)]

    @property
    def unk(self):
        """The index of the unknown token ``'<unk>'``."""
        return self.token_to_idx['<unk>']


def known_indices(vocab, tokens, what='token'):
    """``vocab[tokens]``, but a ValueError naming every token the vocabulary lacks.

    For callers that must not let an unknown token turn silently into ``'<unk>'``.
    """
    missing = sorted({token for token in tokens if token not in vocab})
    if missing:
        raise ValueError(f'{len(missing)} {what}(s) not in the vocabulary: '
                         f'{", ".join(map(repr, missing))}; the vocabulary has '
                         f'{len(vocab)} tokens, e.g. {vocab.idx_to_token[:30]}')
    return vocab[list(tokens)]


class TimeMachine(d2l.DataModule):
    """H. G. Wells' *The Time Machine* as a character-level language-modelling dataset.

    Example ``i`` is the window of ``num_steps`` characters starting at
    character ``i`` of the corpus; its label is the same window shifted by one
    character. The first ``num_train`` windows are for training, the next
    ``num_val`` for validation (they overlap their neighbours, as in d2l).
    """
    def __init__(self, batch_size, num_steps, num_train=10000, num_val=5000):
        super().__init__()
        self.save_hyperparameters()
        corpus, self.vocab = self.build(self._download())
        windows = _windows(torch.tensor(corpus), num_steps, num_train + num_val)
        self.X, self.Y = windows[:, :-1], windows[:, 1:]

    def _download(self):
        with open(d2l.fetch('time_machine', self.root), encoding='utf-8') as f:
            return f.read()

    def _preprocess(self, text):
        """Lower-case letters only: every run of other characters becomes one space."""
        return re.sub('[^A-Za-z]+', ' ', text).lower()

    def _tokenize(self, text):
        """Character tokens."""
        return list(text)

    def build(self, raw_text, vocab=None):
        """The corpus (a list of token indices) and the vocabulary of ``raw_text``."""
        text = self._preprocess(raw_text)
        if not text.strip():
            raise ValueError('the text contains no letters: there is no corpus to build')
        tokens = self._tokenize(text)
        if vocab is None:
            vocab = Vocab(tokens)
        return vocab[tokens], vocab

    def get_dataloader(self, train):
        idx = (slice(0, self.num_train) if train
               else slice(self.num_train, self.num_train + self.num_val))
        return self.get_tensorloader([self.X, self.Y], train, idx)


def _windows(corpus, num_steps, num_needed):
    """Every run of ``num_steps + 1`` consecutive tokens of ``corpus``, one per row
    (a view: no copy), after checking that there are at least ``num_needed``."""
    if not isinstance(num_steps, int) or num_steps < 1:
        raise ValueError(f'num_steps must be a positive integer, got {num_steps!r}')
    available = len(corpus) - num_steps
    if available < num_needed:
        raise ValueError(
            f'a corpus of {len(corpus)} tokens gives {max(available, 0)} windows of '
            f'num_steps={num_steps} (+1 for the label), but num_train + num_val = '
            f'{num_needed} are asked for; lower num_steps, num_train or num_val')
    return corpus.unfold(0, num_steps + 1, 1)


class MTFraEng(d2l.DataModule):
    """English–French sentence pairs (Tatoeba, the fra-eng file d2l uses) for translation.

    Each batch is ``(src, tgt[:, :-1], src_valid_len, tgt[:, 1:])``: source
    indices, decoder inputs (starting with ``<bos>``), the number of source
    tokens that are not ``<pad>``, and the labels. Every sentence ends with
    ``<eos>`` and is padded with ``<pad>`` (or cut) to ``num_steps`` tokens.
    Like d2l, it reads the first ``num_train + num_val + 1`` pairs, so the
    validation split holds ``num_val + 1`` of them, and keeps the tokens that
    occur at least twice (the others become ``<unk>``).
    """
    def __init__(self, batch_size, num_steps=9, num_train=512, num_val=128):
        super().__init__()
        self.save_hyperparameters()
        self.arrays, self.src_vocab, self.tgt_vocab = self._build_arrays(
            self._download())

    def _download(self):
        with open(d2l.fetch('fra-eng', self.root), encoding='utf-8') as f:
            return f.read()

    def _preprocess(self, text):
        """Plain spaces for non-breaking ones, lower case, and a space before
        every ``, . ! ?`` that does not already follow one."""
        text = text.replace('\u202f', ' ').replace('\xa0', ' ')
        text = re.sub(r'(?<=[^ ])(?=[,.!?])', ' ', text)
        return text.lower()

    def _tokenize(self, text, max_examples=None):
        """Word tokens of each ``english<TAB>french`` line, ``<eos>`` appended.

        With ``max_examples``, reads lines 0 to ``max_examples`` (inclusive, as d2l).
        """
        src, tgt = [], []
        lines = text.split('\n')
        if max_examples:
            lines = lines[:max_examples + 1]
        for line in lines:
            pair = line.split('\t')
            if len(pair) != 2:  # a blank or malformed line
                continue
            src.append([t for t in pair[0].split(' ') if t] + ['<eos>'])
            tgt.append([t for t in pair[1].split(' ') if t] + ['<eos>'])
        return src, tgt

    def _build_arrays(self, raw_text, src_vocab=None, tgt_vocab=None):
        """The four arrays of the dataset and the two vocabularies (built here
        unless given)."""
        n = self.num_train + self.num_val
        # Only lines 0..n are read: preprocess just those (the file has 167,130)
        head = '\n'.join(raw_text.split('\n', n + 1)[:n + 1])
        src, tgt = self._tokenize(self._preprocess(head), n)
        return self._arrays(src, tgt, src_vocab, tgt_vocab)

    def _arrays(self, src, tgt, src_vocab=None, tgt_vocab=None):
        src_array, src_vocab = self._pad_and_index(src, src_vocab, self.num_steps)
        tgt_array, tgt_vocab = self._pad_and_index([['<bos>'] + s for s in tgt],
                                                   tgt_vocab, self.num_steps + 1)
        src_valid_len = (src_array != src_vocab['<pad>']).sum(1)
        return ((src_array, tgt_array[:, :-1], src_valid_len, tgt_array[:, 1:]),
                src_vocab, tgt_vocab)

    def _pad_and_index(self, sentences, vocab, length):
        """Cut or pad each sentence to ``length`` tokens and index them."""
        sentences = [s[:length] + ['<pad>'] * (length - len(s)) for s in sentences]
        if vocab is None:
            vocab = Vocab(sentences, min_freq=2)
        return torch.tensor(vocab[sentences], dtype=torch.long), vocab

    def get_dataloader(self, train):
        idx = slice(0, self.num_train) if train else slice(self.num_train, None)
        return self.get_tensorloader(self.arrays, train, idx)

    def build(self, src_sentences, tgt_sentences):
        """The four arrays for new sentence pairs, indexed with the dataset's vocabularies.

        Raises a ValueError if a sentence does not fit in ``num_steps`` tokens
        (its ``<eos>`` included): the model would not see all of it.
        """
        if not src_sentences or len(src_sentences) != len(tgt_sentences):
            raise ValueError(f'build needs pairs: got {len(src_sentences)} source '
                             f'and {len(tgt_sentences)} target sentences')
        for sentence in list(src_sentences) + list(tgt_sentences):
            if '\t' in sentence or '\n' in sentence:
                raise ValueError(f'sentence {sentence!r} contains a tab or a line break')
        raw_text = '\n'.join(s + '\t' + t for s, t in zip(src_sentences, tgt_sentences))
        src, tgt = self._tokenize(self._preprocess(raw_text))
        for side, tokenized in (('source', src), ('target', tgt)):
            for sentence in tokenized:
                if len(sentence) > self.num_steps:
                    raise ValueError(
                        f'{side} sentence {" ".join(sentence)!r} has {len(sentence)} '
                        f'tokens (<eos> included) but num_steps={self.num_steps}; '
                        'shorten it or use an MTFraEng with a larger num_steps')
        arrays, _, _ = self._arrays(src, tgt, self.src_vocab, self.tgt_vocab)
        return arrays


def show_list_len_pair_hist(legend, xlabel, ylabel, xlist, ylist):
    """Histogram of the lengths of the lists in ``xlist`` and in ``ylist``, side by side."""
    d2l.set_figsize()
    _, _, patches = d2l.plt.hist([[len(l) for l in xlist], [len(l) for l in ylist]])
    d2l.plt.xlabel(xlabel)
    d2l.plt.ylabel(ylabel)
    for patch in patches[1].patches:
        patch.set_hatch('/')
    d2l.plt.legend(legend)
