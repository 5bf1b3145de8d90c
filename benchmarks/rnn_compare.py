"""Seconds per epoch of the recurrent runs with d2l 1.0.3's own code and with d2lmini, side by side.

    pip install --no-deps --target /tmp/d2l_pkg d2l==1.0.3     # once; never into the book's venv
    python benchmarks/rnn_compare.py --d2l /tmp/d2l_pkg           # R23-R32, 3 epochs, 2 rounds
    D2L_PATH=/tmp/d2l_pkg python benchmarks/rnn_compare.py R24 --epochs 5 --out rnn.jsonl

For each round, one child process per side (first d2l, then ours) trains every chosen run for
``--epochs`` epochs with the book's hyperparameters and times each epoch (``Trainer.fit_epoch``,
training and validation, with the device synchronized). The d2l side uses d2l 1.0.3's classes
(``d2l.TimeMachine``, ``d2l.RNNScratch``, ``d2l.RNNLMScratch``, ``d2l.RNN``, ``d2l.RNNLM``,
``d2l.LinearRegression``, ``d2l.Trainer`` with its ``DataLoader``), imported from the folder given
by ``--d2l`` or ``$D2L_PATH``; our side uses d2lmini. Where d2l defines a dataset only in a
notebook (R23's noisy sine wave), both sides build it with the book's own class, taken from our
notebook and bound to each package's ``DataModule``, so that only the framework code differs.

d2l's ``ProgressBoard`` draws its matplotlib figure at every plotted point (that is how its book
runs); ``--d2l-board off`` sets ``display=False`` to time its training alone. Our board is
``D2LMINI_BOARD=off`` (nothing is drawn while training). Rounds alternate the two sides, so that
a changing machine load affects both; the per-epoch figure of a side is the median over all its
epochs after the first (warm-up) of all rounds. One JSON line per run goes to stdout (and to
``--out``): both medians, ``ratio`` = d2l / ours (above 1: ours is faster), the per-epoch times and
the final validation metric of each side.
"""
import argparse
import ast
import json
import os
import pathlib
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHAPTER9 = ROOT / 'notebooks' / 'en' / 'chapter_recurrent-neural-networks'


def definitions(notebook, names):
    """The classes ``names`` defined in a MyST notebook's code cells, as one module."""
    text = notebook.read_text(encoding='utf-8')
    cells = re.findall(r'^```\{code-cell\}[^\n]*\n(.*?)^```$', text, flags=re.S | re.M)
    keep = []
    for cell in cells:
        body = '\n'.join(line for line in cell.splitlines() if not line.startswith(':tags:'))
        keep += [node for node in ast.parse(body).body
                 if isinstance(node, ast.ClassDef) and node.name in names]
    return ast.Module(body=keep, type_ignores=[])


def r23(d2l):
    """9.1: linear regression on 4 lagged values of a noisy sine wave (the notebook's NoisySine)."""
    namespace = {'d2l': d2l, 'torch': __import__('torch')}
    exec(compile(definitions(CHAPTER9 / 'sequence.md', {'NoisySine'}), 'sequence.md', 'exec'),
         namespace)
    data = namespace['NoisySine']()
    return data, d2l.LinearRegression(lr=0.01), {}, 'val_loss'


def r24(d2l):
    """9.5: the scratch RNN language model."""
    data = d2l.TimeMachine(batch_size=1024, num_steps=32)
    rnn = d2l.RNNScratch(num_inputs=len(data.vocab), num_hiddens=32)
    model = d2l.RNNLMScratch(rnn, vocab_size=len(data.vocab), lr=1)
    return data, model, {'gradient_clip_val': 1}, 'val_ppl'


def r25(d2l):
    """9.6: the language model with nn.RNN."""
    data = d2l.TimeMachine(batch_size=1024, num_steps=32)
    rnn = d2l.RNN(num_inputs=len(data.vocab), num_hiddens=32)
    model = d2l.RNNLM(rnn, vocab_size=len(data.vocab), lr=1)
    return data, model, {'gradient_clip_val': 1}, 'val_ppl'


CHAPTER10 = ROOT / 'notebooks' / 'en' / 'chapter_recurrent-modern'

# d2l 1.0.3 defines these models of chapter 10 in its notebooks, not in its package. For the d2l
# side they are written here in d2l's form (the same computations as d2l's sections 10.1-10.3:
# one matrix product per gate and step, the layers of a stack in an nn.Sequential), so that the
# comparison times d2l's own model code with d2l's Trainer; our side takes the classes from our
# notebooks. Only the timing depends on this code; both compute the same functions.
D2L_FORMS = """
class Seq2SeqDecoder(d2l.Decoder):
    def __init__(self, vocab_size, embed_size, num_hiddens, num_layers, dropout=0):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.rnn = d2l.GRU(embed_size + num_hiddens, num_hiddens, num_layers, dropout)
        self.dense = nn.LazyLinear(vocab_size)
        self.apply(d2l.init_seq2seq)

    def init_state(self, enc_all_outputs, *args):
        return enc_all_outputs

    def forward(self, X, state):
        embs = self.embedding(X.t().type(torch.int32))
        enc_output, hidden_state = state
        context = enc_output[-1].repeat(embs.shape[0], 1, 1)
        outputs, hidden_state = self.rnn(torch.cat((embs, context), -1), hidden_state)
        return self.dense(outputs).swapaxes(0, 1), [enc_output, hidden_state]


class MaskedSeq2Seq(d2l.Seq2Seq):
    def loss(self, Y_hat, Y):
        l = super().loss(Y_hat, Y, averaged=False)
        mask = (Y.reshape(-1) != self.tgt_pad).type(torch.float32)
        return (l * mask).sum() / mask.sum()


class LSTMScratch(d2l.Module):
    def __init__(self, num_inputs, num_hiddens, sigma=0.01):
        super().__init__()
        self.save_hyperparameters()
        weight = lambda *shape: nn.Parameter(torch.randn(*shape) * sigma)
        block = lambda: (weight(num_inputs, num_hiddens), weight(num_hiddens, num_hiddens),
                         nn.Parameter(torch.zeros(num_hiddens)))
        self.W_xi, self.W_hi, self.b_i = block()
        self.W_xf, self.W_hf, self.b_f = block()
        self.W_xo, self.W_ho, self.b_o = block()
        self.W_xc, self.W_hc, self.b_c = block()

    def forward(self, inputs, H_C=None):
        if H_C is None:
            H = torch.zeros((inputs.shape[1], self.num_hiddens), device=inputs.device)
            C = torch.zeros((inputs.shape[1], self.num_hiddens), device=inputs.device)
        else:
            H, C = H_C
        outputs = []
        for X in inputs:
            I = torch.sigmoid(torch.matmul(X, self.W_xi) + torch.matmul(H, self.W_hi) + self.b_i)
            F = torch.sigmoid(torch.matmul(X, self.W_xf) + torch.matmul(H, self.W_hf) + self.b_f)
            O = torch.sigmoid(torch.matmul(X, self.W_xo) + torch.matmul(H, self.W_ho) + self.b_o)
            C_tilde = torch.tanh(torch.matmul(X, self.W_xc) + torch.matmul(H, self.W_hc) + self.b_c)
            C = F * C + I * C_tilde
            H = O * torch.tanh(C)
            outputs.append(H)
        return outputs, (H, C)


class LSTM(d2l.RNN):
    def __init__(self, num_inputs, num_hiddens):
        d2l.Module.__init__(self)
        self.save_hyperparameters()
        self.rnn = nn.LSTM(num_inputs, num_hiddens)

    def forward(self, inputs, H_C=None):
        return self.rnn(inputs, H_C)


class GRUScratch(d2l.Module):
    def __init__(self, num_inputs, num_hiddens, sigma=0.01):
        super().__init__()
        self.save_hyperparameters()
        weight = lambda *shape: nn.Parameter(torch.randn(*shape) * sigma)
        block = lambda: (weight(num_inputs, num_hiddens), weight(num_hiddens, num_hiddens),
                         nn.Parameter(torch.zeros(num_hiddens)))
        self.W_xz, self.W_hz, self.b_z = block()
        self.W_xr, self.W_hr, self.b_r = block()
        self.W_xh, self.W_hh, self.b_h = block()

    def forward(self, inputs, H=None):
        if H is None:
            H = torch.zeros((inputs.shape[1], self.num_hiddens), device=inputs.device)
        outputs = []
        for X in inputs:
            Z = torch.sigmoid(torch.matmul(X, self.W_xz) + torch.matmul(H, self.W_hz) + self.b_z)
            R = torch.sigmoid(torch.matmul(X, self.W_xr) + torch.matmul(H, self.W_hr) + self.b_r)
            H_tilde = torch.tanh(torch.matmul(X, self.W_xh) + torch.matmul(R * H, self.W_hh)
                                 + self.b_h)
            H = Z * H + (1 - Z) * H_tilde
            outputs.append(H)
        return outputs, H


class GRU(d2l.RNN):
    def __init__(self, num_inputs, num_hiddens):
        d2l.Module.__init__(self)
        self.save_hyperparameters()
        self.rnn = nn.GRU(num_inputs, num_hiddens)


class StackedRNNScratch(d2l.Module):
    def __init__(self, num_inputs, num_hiddens, num_layers, sigma=0.01):
        super().__init__()
        self.save_hyperparameters()
        self.rnns = nn.Sequential(*[d2l.RNNScratch(num_inputs if i == 0 else num_hiddens,
                                                   num_hiddens, sigma)
                                    for i in range(num_layers)])

    def forward(self, inputs, Hs=None):
        outputs = inputs
        if Hs is None:
            Hs = [None] * self.num_layers
        for i in range(self.num_layers):
            outputs, Hs[i] = self.rnns[i](outputs, Hs[i])
            outputs = torch.stack(outputs, 0)
        return outputs, Hs
"""


def chapter10_class(d2l, notebook, name):
    """Class ``name`` of a chapter 10 notebook, bound to ``d2l``: ours from our notebook for
    d2lmini, d2l's form (D2L_FORMS) for d2l 1.0.3."""
    import torch
    from torch import nn
    if d2l.__name__.startswith('d2lmini'):
        module = definitions(CHAPTER10 / notebook, {name})
    else:
        module = ast.Module(body=[node for node in ast.parse(D2L_FORMS).body
                                  if node.name == name], type_ignores=[])
    namespace = {'d2l': d2l, 'torch': torch, 'nn': nn}
    exec(compile(module, notebook, 'exec'), namespace)
    return namespace[name]


def time_machine_lm(d2l, layer, scratch, lr):
    data = d2l.TimeMachine(batch_size=1024, num_steps=32)
    lm = d2l.RNNLMScratch if scratch else d2l.RNNLM
    return data, lm(layer(len(data.vocab)), vocab_size=len(data.vocab), lr=lr), \
        {'gradient_clip_val': 1}, 'val_ppl'


def r26(d2l):
    """10.1: the scratch LSTM language model."""
    LSTMScratch = chapter10_class(d2l, 'lstm.md', 'LSTMScratch')
    return time_machine_lm(d2l, lambda v: LSTMScratch(v, 32), True, 4)


def r27(d2l):
    """10.1: the language model with nn.LSTM."""
    LSTM = chapter10_class(d2l, 'lstm.md', 'LSTM')
    return time_machine_lm(d2l, lambda v: LSTM(v, 32), False, 4)


def r28(d2l):
    """10.2: the scratch GRU language model."""
    GRUScratch = chapter10_class(d2l, 'gru.md', 'GRUScratch')
    return time_machine_lm(d2l, lambda v: GRUScratch(v, 32), True, 4)


def r29(d2l):
    """10.2: the language model with a one-layer nn.GRU."""
    GRU = chapter10_class(d2l, 'gru.md', 'GRU')
    return time_machine_lm(d2l, lambda v: GRU(v, 32), False, 4)


def r30(d2l):
    """10.3: the scratch two-layer RNN language model."""
    Stacked = chapter10_class(d2l, 'deep-rnn.md', 'StackedRNNScratch')
    return time_machine_lm(d2l, lambda v: Stacked(v, 32, num_layers=2), True, 2)


def r31(d2l):
    """10.3: the two-layer GRU language model (the package's GRU on both sides)."""
    return time_machine_lm(d2l, lambda v: d2l.GRU(v, 32, num_layers=2), False, 2)


def r32(d2l):
    """10.7: the GRU encoder-decoder on 512 English-French pairs (d2l's 10.7 decoder and masked
    loss, which its package lacks, in d2l's form on the d2l side)."""
    data = d2l.MTFraEng(batch_size=128)
    if d2l.__name__.startswith('d2lmini'):
        decoder_class, model_class = d2l.Seq2SeqDecoder, d2l.Seq2Seq
    else:
        decoder_class = chapter10_class(d2l, 'seq2seq.md', 'Seq2SeqDecoder')
        model_class = chapter10_class(d2l, 'seq2seq.md', 'MaskedSeq2Seq')
    encoder = d2l.Seq2SeqEncoder(len(data.src_vocab), 256, 256, 2, 0.2)
    decoder = decoder_class(len(data.tgt_vocab), 256, 256, 2, 0.2)
    model = model_class(encoder, decoder, tgt_pad=data.tgt_vocab['<pad>'], lr=0.005)
    return data, model, {'gradient_clip_val': 1}, 'val_loss'


# run id -> function(d2l) -> (data, model, extra Trainer arguments, validation metric).
# Models that d2l defines only in its notebooks are bound to each side as R23 and R26-R30 do.
RUNS = {
    'R23': r23,
    'R24': r24,
    'R25': r25,
    'R26': r26,
    'R27': r27,
    'R28': r28,
    'R29': r29,
    'R30': r30,
    'R31': r31,
    'R32': r32,
}


def load_d2l(path):
    """d2l 1.0.3's ``d2l.torch`` from the folder ``path`` (as made by pip install --target)."""
    if not path or not (pathlib.Path(path) / 'd2l' / 'torch.py').is_file():
        raise SystemExit(f'no d2l package in {path!r}: run pip install --no-deps --target DIR '
                         'd2l==1.0.3 and pass --d2l DIR (or set D2L_PATH=DIR)')
    sys.path.insert(0, str(path))
    sys.path.insert(1, str(ROOT))
    from d2lmini._compat import import_torchvision
    import_torchvision()  # a CPU-only torch beside a CUDA torchvision needs the workaround
    try:
        import scipy.spatial  # noqa: F401  (d2l imports it at the top; nothing timed here uses it)
    except ImportError:
        import types
        scipy, spatial = types.ModuleType('scipy'), types.ModuleType('scipy.spatial')
        spatial.distance_matrix = None
        scipy.spatial = spatial
        sys.modules.update({'scipy': scipy, 'scipy.spatial': spatial})
    from d2l import torch as d2l
    return d2l


def last_value(board, key):
    if hasattr(board, 'values'):  # d2lmini
        values = board.values(key)
        return values[-1] if values else None
    points = getattr(board, 'data', {}).get(key)  # d2l: lists of Point(x, y)
    return float(points[-1].y) if points else None


def child(args):
    """Train the chosen runs with one implementation and print one JSON line per run."""
    import torch
    import torch._dynamo  # noqa: F401  (the first optimizer imports it: a one-time cost, not training)
    if args.child == 'd2l':
        d2l = load_d2l(args.d2l)
        # d2l reads ../data/timemachine.txt (and downloads it if missing): give it a local copy
        work = pathlib.Path(tempfile.mkdtemp(prefix='rnn-compare-'))
        (work / 'data').mkdir()
        shutil.copy(pathlib.Path(args.data) / 'timemachine.txt', work / 'data')
        fra = pathlib.Path(args.data) / 'fra-eng' / 'fra.txt'
        # d2l downloads fra-eng.zip; offline it reads the mirror's extracted copy (not timed)
        d2l.MTFraEng._download = lambda self: fra.read_text(encoding='utf-8')
        (work / 'run').mkdir()
        os.chdir(work / 'run')
    else:
        sys.path.insert(0, str(ROOT))
        import d2lmini as d2l
    cuda = torch.cuda.is_available()
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    for run in args.runs:
        torch.manual_seed(0)
        data, model, extra, metric = RUNS[run](d2l)
        if args.child == 'd2l' and args.d2l_board == 'off':
            model.board.display = False
        trainer = d2l.Trainer(max_epochs=args.epochs, num_gpus=1, **extra)
        seconds, plain = [], trainer.fit_epoch

        def fit_epoch():
            sync()
            start = time.perf_counter()
            plain()
            sync()
            seconds.append(time.perf_counter() - start)

        trainer.fit_epoch = fit_epoch
        trainer.fit(model, data)
        value = last_value(model.board, metric)
        print(json.dumps({'run': run, 'impl': args.child, 'epoch_seconds': seconds,
                          metric: value, 'metric': metric}), flush=True)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('runs', nargs='*', help=f'run ids (default: all of {", ".join(RUNS)})')
    parser.add_argument('--d2l', default=os.environ.get('D2L_PATH', ''),
                        help='folder holding d2l 1.0.3 (default: $D2L_PATH)')
    parser.add_argument('--data', default=os.environ.get('D2LMINI_MIRROR', ''),
                        help='folder holding timemachine.txt (default: $D2LMINI_MIRROR)')
    parser.add_argument('--epochs', type=int, default=3)
    parser.add_argument('--rounds', type=int, default=2)
    parser.add_argument('--threads', type=int, default=0,
                        help='torch CPU threads of both sides (default: torch\'s choice)')
    parser.add_argument('--d2l-board', choices=('on', 'off'), default='on')
    parser.add_argument('--out', help='also append the JSON lines to this file')
    parser.add_argument('--child', choices=('d2l', 'ours'), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    unknown = [r for r in args.runs if r not in RUNS]
    if unknown:
        parser.error(f'unknown run(s) {", ".join(unknown)}; known: {", ".join(RUNS)}')
    args.runs = args.runs or list(RUNS)
    if args.epochs < 2:
        parser.error('--epochs must be at least 2 (the first epoch is a warm-up)')
    if args.child:
        return child(args)
    load_check = pathlib.Path(args.d2l or '.') / 'd2l' / 'torch.py'
    if not load_check.is_file():
        raise SystemExit(f'no d2l package in {args.d2l!r}: run pip install --no-deps --target DIR '
                         'd2l==1.0.3 and pass --d2l DIR (or set D2L_PATH=DIR)')
    if not (pathlib.Path(args.data) / 'timemachine.txt').is_file():
        raise SystemExit(f'--data {args.data!r} holds no timemachine.txt')
    env = dict(os.environ, D2LMINI_PROFILE='full', D2LMINI_BOARD='off', MPLBACKEND='Agg')
    if args.threads:
        env['OMP_NUM_THREADS'] = str(args.threads)
    results = {}  # (run, impl) -> list of child records
    for _ in range(args.rounds):
        for impl in ('d2l', 'ours'):
            command = [sys.executable, __file__, *args.runs, '--child', impl, '--d2l',
                       str(pathlib.Path(args.d2l).resolve()), '--data', args.data,
                       '--epochs', str(args.epochs), '--d2l-board', args.d2l_board]
            out = subprocess.run(command, env=env, check=True, capture_output=True, text=True,
                                 cwd=ROOT).stdout
            for line in out.splitlines():
                if line.startswith('{'):
                    record = json.loads(line)
                    results.setdefault((record['run'], impl), []).append(record)
    import torch
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else \
        f'CPU ({os.cpu_count()} cores)'
    for run in args.runs:
        line = {'run': run, 'epochs': args.epochs, 'rounds': args.rounds, 'device': device,
                'threads': args.threads or torch.get_num_threads(), 'torch': torch.__version__,
                'python': platform.python_version(), 'd2l_board': args.d2l_board}
        for impl in ('d2l', 'ours'):
            records = results[(run, impl)]
            after_warmup = [s for r in records for s in r['epoch_seconds'][1:]]
            line[f'{impl}_s_per_epoch'] = round(statistics.median(after_warmup), 4)
            line[f'{impl}_epoch_seconds'] = [[round(s, 3) for s in r['epoch_seconds']]
                                             for r in records]
            metric = records[-1]['metric']
            line[f'{impl}_{metric}'] = records[-1][metric]
        line['ratio'] = round(line['d2l_s_per_epoch'] / line['ours_s_per_epoch'], 2)
        text = json.dumps(line)
        print(text, flush=True)
        if args.out:
            with open(args.out, 'a', encoding='utf-8') as f:
                f.write(text + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
