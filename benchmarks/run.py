"""Time the book's training runs, headless, in the full profile.

    python benchmarks/run.py                 # every run listed below
    python benchmarks/run.py R7 R9           # chosen runs
    python benchmarks/run.py R7 --out results.jsonl --threads 2

Each section's notebook is executed as the book has it (its code cells in
order, from its own folder, in a fresh Python process; no Jupyter needed), with
``Trainer.fit`` wrapped by a timer. One JSON line per run goes to stdout (and to
``--out``): run id, section, device, seconds, seconds per epoch, epochs, final
metrics, d2lmini and torch versions, profile and CPU threads. The timer covers
``fit`` only (data already loaded, one-time imports done, as in the d2l figures
we compare with) and waits for the device before stopping.
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / 'notebooks' / 'en'

# run id -> (notebook, indices of its Trainer.fit calls that make up the run)
RUNS = {
    'R1': ('chapter_linear-regression/linear-regression-scratch.md', [0]),
    'R2': ('chapter_linear-regression/linear-regression-concise.md', [0]),
    'R3': ('chapter_linear-regression/weight-decay.md', [0]),
    'R4': ('chapter_linear-regression/weight-decay.md', [1]),
    'R5': ('chapter_linear-regression/weight-decay.md', [2]),
    'R6': ('chapter_linear-classification/softmax-regression-scratch.md', [0]),
    'R7': ('chapter_linear-classification/softmax-regression-concise.md', [0]),
    'R8': ('chapter_multilayer-perceptrons/mlp-implementation.md', [0]),
    'R9': ('chapter_multilayer-perceptrons/mlp-implementation.md', [1]),
    'R10': ('chapter_multilayer-perceptrons/dropout.md', [0]),
    'R11': ('chapter_multilayer-perceptrons/dropout.md', [1]),
    'R12': ('chapter_multilayer-perceptrons/kaggle-house-price.md', [0, 1, 2, 3, 4]),
    'R13': ('chapter_convolutional-neural-networks/lenet.md', [0]),
    'R23': ('chapter_recurrent-neural-networks/sequence.md', [0]),
    'R24': ('chapter_recurrent-neural-networks/rnn-scratch.md', [0]),
    'R25': ('chapter_recurrent-neural-networks/rnn-concise.md', [0]),
    'R26': ('chapter_recurrent-modern/lstm.md', [0]),
    'R27': ('chapter_recurrent-modern/lstm.md', [1]),
    'R28': ('chapter_recurrent-modern/gru.md', [0]),
    'R29': ('chapter_recurrent-modern/gru.md', [1]),
    'R30': ('chapter_recurrent-modern/deep-rnn.md', [0]),
    'R31': ('chapter_recurrent-modern/deep-rnn.md', [1]),
    'R32': ('chapter_recurrent-modern/seq2seq.md', [0]),
    'R33': ('chapter_attention-mechanisms-and-transformers/bahdanau-attention.md', [0]),
    'R34': ('chapter_attention-mechanisms-and-transformers/transformer.md', [0]),
    'R35': ('chapter_attention-mechanisms-and-transformers/vision-transformer.md', [0]),
}

CHILD = r'''
import json, sys, time
import jupytext, torch
import torch._dynamo  # imported by the first torch.optim optimizer: a one-time 2-3 s, not training
import d2lmini as d2l

fits = []
plain_fit = d2l.Trainer.fit

def timed_fit(self, model, data):
    cuda = torch.cuda.is_available()
    if cuda:
        torch.cuda.synchronize()
    start = time.perf_counter()
    plain_fit(self, model, data)
    metrics = {k: model.board.values(k)[-1] for k in model.board.labels()}  # waits for the device
    if cuda:
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    device = str(self.gpus[0]) if getattr(self, 'gpus', None) else 'cpu'
    if device.startswith('cuda'):
        device += ' (' + torch.cuda.get_device_name(self.gpus[0]) + ')'
    fits.append({'seconds': seconds, 'epochs': self.max_epochs, 'metrics': metrics,
                 'device': device})

d2l.Trainer.fit = timed_fit
notebook, out = sys.argv[1], sys.argv[2]
namespace = {'__name__': '__main__'}
for cell in jupytext.read(notebook).cells:
    if cell.cell_type != 'code' or 'raises-exception' in cell.metadata.get('tags', []):
        continue
    exec(compile(cell.source, notebook, 'exec'), namespace)
with open(out, 'w') as f:
    json.dump(fits, f)
'''


def run_notebook(notebook, threads):
    env = dict(os.environ, D2LMINI_PROFILE='full', D2LMINI_BOARD='off', MPLBACKEND='Agg')
    if threads:
        env['OMP_NUM_THREADS'] = str(threads)
    with tempfile.NamedTemporaryFile(suffix='.json') as out:
        subprocess.run([sys.executable, '-c', CHILD, str(NOTEBOOKS / notebook), out.name],
                       cwd=(NOTEBOOKS / notebook).parent, env=env, check=True,
                       stdout=subprocess.DEVNULL)
        return json.loads(pathlib.Path(out.name).read_text())


def summarise(run, notebook, fits, threads):
    import torch
    import d2lmini
    seconds = sum(f['seconds'] for f in fits)
    epochs = sum(f['epochs'] for f in fits)
    names = fits[0]['metrics']
    metrics = {k: round(sum(f['metrics'][k] for f in fits) / len(fits), 4) for k in names}
    return {'run': run, 'section': notebook.removesuffix('.md'), 'device': fits[0]['device'],
            'seconds': round(seconds, 2), 'sec_per_epoch': round(seconds / epochs, 3),
            'epochs': epochs, 'fits': len(fits), 'metrics': metrics,
            'd2lmini': d2lmini.__version__, 'torch': torch.__version__, 'profile': 'full',
            'threads': threads or torch.get_num_threads()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('runs', nargs='*', help=f'run ids (default: all of {", ".join(RUNS)})')
    parser.add_argument('--out', help='also append the JSON lines to this file')
    parser.add_argument('--threads', type=int, default=0,
                        help='CPU threads for torch (default: torch\'s own choice)')
    args = parser.parse_args()
    unknown = [r for r in args.runs if r not in RUNS]
    if unknown:
        parser.error(f'unknown run(s) {", ".join(unknown)}; known: {", ".join(RUNS)}')
    chosen = args.runs or list(RUNS)
    by_notebook = {}
    for run in chosen:
        by_notebook.setdefault(RUNS[run][0], []).append(run)
    for notebook, runs in by_notebook.items():
        fits = run_notebook(notebook, args.threads)
        for run in runs:
            indices = RUNS[run][1]
            if max(indices) >= len(fits):
                raise SystemExit(f'{notebook} made {len(fits)} fit(s); {run} needs fit {max(indices)}')
            line = json.dumps(summarise(run, notebook, [fits[i] for i in indices], args.threads),
                              ensure_ascii=False)
            print(line, flush=True)
            if args.out:
                with open(args.out, 'a', encoding='utf-8') as f:
                    f.write(line + '\n')


if __name__ == '__main__':
    main()
