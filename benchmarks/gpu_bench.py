"""Stage 2 of benchmarks/gpu.sh: d2l 1.0.3 against d2lmini, then d2lmini's levers.

    python benchmarks/gpu_bench.py --out DIR --deadline UNIX_TIME [--logs DIR] [--tiny]

Runs benchmarks/d2l_compare.py once per configuration, in a fresh process each,
most valuable first: for AlexNet@224, VGG@224 and ResNet-18@96, d2l's own
Trainer and data pipeline, ours as the book runs it, and ours with every lever;
then each lever alone. A configuration starts only if the time left before the
deadline is enough for it, and is killed at the deadline. Every finished run is
appended to DIR/bench.jsonl at once, and DIR/bench.md (a table of seconds per
epoch, from the last epoch of each run) is rewritten after each run, so a
timeout loses at most the run in progress. ``--tiny`` runs one epoch of two
batches of 16 images per configuration (a dry run on a CPU).
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
MODELS = ('alexnet', 'vgg', 'resnet18')
LEVERS = ('bf16', 'channels_last', 'cudnn_benchmark', 'fused_sgd', 'eval_batch', 'bf16_cl')
D2L_H100 = {'alexnet': 11.84, 'vgg': 12.34, 'resnet18': 8.02}  # s/epoch, d2l's code, one H100


def configurations():
    for model in MODELS:
        yield 'd2l', model, 'base'
        yield 'ours', model, 'base'
        yield 'ours', model, 'all'
    for model in ('resnet18', 'alexnet', 'vgg'):
        for lever in LEVERS:
            yield 'ours', model, lever


def table(records):
    """Markdown: s/epoch of the last epoch per model and configuration, and d2l's ratio."""
    rows = ['| model | configuration | s/epoch (last) | train images/s | val_acc | d2l / this |',
            '|---|---|---:|---:|---:|---:|']
    d2l = {r['model']: r['epoch_seconds'][-1] for r in records if r['impl'] == 'd2l'}
    for r in records:
        sec = r['epoch_seconds'][-1]
        ratio = f"{d2l[r['model']] / sec:.2f}" if r['model'] in d2l else ''
        acc = '' if r['val_acc'] is None else f"{r['val_acc']:.3f}"
        rows.append(f"| {r['model']} | {r['impl']} {r['variant']} | {sec:.2f} | "
                    f"{r['train_images_per_s'][-1]:.0f} | {acc} | {ratio} |")
    rows.append('')
    rows.append('d2l on one H100 (design notes): ' + ', '.join(
        f'{m} {s} s/epoch' for m, s in D2L_H100.items()))
    return '\n'.join(rows) + '\n'


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', required=True)
    parser.add_argument('--deadline', type=float, required=True)
    parser.add_argument('--logs', default=None, help='folder for one log per run '
                        '(default: DIR/logs)')
    parser.add_argument('--tiny', action='store_true')
    parser.add_argument('--min-seconds', type=float, default=None,
                        help='do not start a run with less time left (default 60, tiny 20)')
    args = parser.parse_args(argv)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    jsonl, logs = out / 'bench.jsonl', pathlib.Path(args.logs or out / 'logs')
    logs.mkdir(parents=True, exist_ok=True)
    minimum = args.min_seconds or (20 if args.tiny else 60)
    extra = (['--epochs', '1', '--batches', '2', '--val-batches', '1', '--batch-size', '16']
             if args.tiny else [])
    env = dict(os.environ, GPU_EVAL_BATCH='32') if args.tiny else None
    records = []
    configs = list(configurations())
    if args.tiny:
        configs = configs[:3] + [('ours', 'resnet18', 'bf16_cl')]
    for impl, model, variant in configs:
        left = args.deadline - time.time()
        if left < minimum:
            print(f'bench: {left:.0f} s left, stopping before {impl} {model} {variant}', flush=True)
            break
        name = f'{impl}-{model}-{variant}'
        cmd = [sys.executable, str(HERE / 'd2l_compare.py'), '--impl', impl, '--model', model,
               '--variant', variant, '--out', str(jsonl)] + extra
        start = time.time()
        with open(logs / f'{name}.log', 'w') as log:
            try:
                code = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, env=env,
                                      timeout=left - 2).returncode
            except subprocess.TimeoutExpired:
                code = 'timeout'
        print(f'bench: {name}: exit {code} after {time.time() - start:.0f} s', flush=True)
        if jsonl.exists():
            records = [json.loads(line) for line in jsonl.read_text().splitlines() if line]
            (out / 'bench.md').write_text(table(records))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
