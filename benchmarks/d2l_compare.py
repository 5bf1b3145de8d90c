"""Time training runs of chapter 8's networks with d2l 1.0.3's own Trainer and data, or with ours.

    python benchmarks/d2l_compare.py --impl d2l --model alexnet            # 2 epochs, print JSON
    python benchmarks/d2l_compare.py --impl ours --model resnet18 --variant all --out runs.jsonl
    python benchmarks/d2l_compare.py --impl ours --model vgg --batches 3   # 3 batches per epoch

The network is the book's own class, taken from its section's notebook (only the
imports, classes and functions of its code cells are executed) with ``d2l`` bound
either to d2l 1.0.3 (``from d2l import torch as d2l``; put it on PYTHONPATH, e.g.
``pip install --no-deps --target DIR d2l==1.0.3``) or to d2lmini. Both packages
provide the names these classes use (``Classifier``, ``Residual``, ``ResNeXtBlock``,
``init_cnn``), so the architecture is the same and only the Trainer, the data
pipeline and, for ours, the opt-in levers of benchmarks/gpu_levers.py differ.

d2l's FashionMNIST reads torchvision's layout ``<root>/FashionMNIST/raw/*.gz``;
``--data`` names a folder holding ``FashionMNIST/raw`` (default: $D2LMINI_MIRROR,
which d2lmini reads too). Each epoch is timed with the device synchronized, in
two parts: the training batches and the validation batches. ``--batches N``
and ``--val-batches M`` stop the parts after N and M batches (the plotting
frequency stays that of a full epoch, so with caps no metric may be recorded). One JSON line per run goes to stdout and, with ``--out``, is appended
to that file.
"""
import argparse
import ast
import json
import os
import pathlib
import platform
import re
import shutil
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / 'notebooks' / 'en' / 'chapter_convolutional-modern'
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / 'benchmarks'))

# name -> (notebook, class, constructor arguments, image side, initialize with init_cnn)
MODELS = {
    'alexnet': ('alexnet.md', 'AlexNet', {'lr': 0.01}, 224, True),
    'vgg': ('vgg.md', 'VGG', {'arch': ((1, 16), (1, 32), (2, 64), (2, 128), (2, 128)),
                              'lr': 0.01}, 224, True),
    'nin': ('nin.md', 'NiN', {'lr': 0.05}, 224, True),
    'googlenet': ('googlenet.md', 'GoogleNet', {'lr': 0.01}, 96, True),
    'resnet18': ('resnet.md', 'ResNet18', {'lr': 0.01}, 96, True),
    'densenet': ('densenet.md', 'DenseNet', {'lr': 0.01}, 96, False),
    'regnet': ('cnn-design.md', 'RegNetX32', {'lr': 0.05}, 96, False),
}
BATCH_SIZE = 128


def definitions(notebook):
    """The imports, classes and functions of a MyST notebook's code cells, as one module."""
    text = (NOTEBOOKS / notebook).read_text(encoding='utf-8')
    cells = re.findall(r'^```\{code-cell\}[^\n]*\n(.*?)^```$', text, flags=re.S | re.M)
    keep = []
    for cell in cells:
        body = '\n'.join(line for line in cell.splitlines() if not line.startswith(':tags:'))
        tree = ast.parse(body)
        keep += [node for node in tree.body
                 if isinstance(node, (ast.Import, ast.ImportFrom, ast.ClassDef, ast.FunctionDef))]
    return ast.Module(body=keep, type_ignores=[])


def framework(impl):
    if impl == 'ours':
        import d2lmini as d2l
        return d2l
    from d2lmini._compat import import_torchvision
    import_torchvision()  # a CPU-only torch beside a CUDA torchvision needs the workaround
    try:
        import scipy.spatial  # noqa: F401  (d2l imports it at the top; nothing timed here uses it)
    except ImportError:
        import types
        stub = types.ModuleType('scipy.spatial')

        def distance_matrix(*args, **kwargs):
            raise NotImplementedError('scipy is not installed (stub for d2l_compare.py)')
        stub.distance_matrix = distance_matrix
        sys.modules.setdefault('scipy', types.ModuleType('scipy'))
        sys.modules['scipy.spatial'] = stub
    from d2l import torch as d2l
    return d2l


class Timed:
    """Iterate over a loader, recording how long the loop (including its body) takes."""
    def __init__(self, loader, limit, seconds, images, sync):
        self.loader, self.limit, self.seconds, self.images, self.sync = (
            loader, limit, seconds, images, sync)

    def __len__(self):
        return len(self.loader)

    def __iter__(self):
        self.sync()
        start, count = time.perf_counter(), 0
        for i, batch in enumerate(self.loader):
            if self.limit and i >= self.limit:
                break
            count += len(batch[-1])
            yield batch
        self.sync()
        self.seconds.append(time.perf_counter() - start)
        self.images.append(count)


def last(board, key):
    if hasattr(board, 'values'):  # d2lmini
        values = board.values(key)
        return values[-1] if values else None
    points = getattr(board, 'data', {}).get(key)  # d2l: lists of Point(x, y)
    return float(points[-1].y) if points else None


def run(args):
    import torch
    d2l = framework(args.impl)
    notebook, name, kwargs, side, init = MODELS[args.model]
    namespace = {'__name__': 'book_models', 'd2l': d2l}
    exec(compile(definitions(notebook), notebook, 'exec'), namespace)
    cuda = torch.cuda.is_available()
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    torch.manual_seed(0)
    if args.impl == 'd2l':  # d2l reads ../data/FashionMNIST/raw and extracts the files there
        work = pathlib.Path(tempfile.mkdtemp(prefix='d2l-compare-'))
        shutil.copytree(pathlib.Path(args.data) / 'FashionMNIST', work / 'data' / 'FashionMNIST')
        for path in (work / 'data' / 'FashionMNIST' / 'raw').iterdir():
            path.chmod(0o644)
        (work / 'run').mkdir()
        os.chdir(work / 'run')
    data = d2l.FashionMNIST(batch_size=args.batch_size, resize=(side, side))
    model = namespace[name](**kwargs)
    trainer = d2l.Trainer(max_epochs=args.epochs, num_gpus=1)
    if args.variant != 'base':
        if args.impl != 'ours':
            raise SystemExit('levers apply to d2lmini only (--impl ours)')
        import gpu_levers
        gpu_levers.apply(gpu_levers.VARIANTS[args.variant], trainer, model, data)
    X = next(iter(data.get_dataloader(True)))[0]
    model.apply_init([X[:8]], d2l.init_cnn if init else None)
    train_s, val_s, train_n, val_n, epoch_s = [], [], [], [], []
    plain_prepare, plain_epoch = trainer.prepare_data, trainer.fit_epoch

    def prepare_data(data):
        plain_prepare(data)
        trainer.train_dataloader = Timed(trainer.train_dataloader, args.batches, train_s,
                                         train_n, sync)
        if trainer.val_dataloader is not None:
            limit = args.batches if args.val_batches is None else args.val_batches
            trainer.val_dataloader = Timed(trainer.val_dataloader, limit, val_s, val_n, sync)

    def fit_epoch():
        sync()
        start = time.perf_counter()
        plain_epoch()
        sync()
        epoch_s.append(time.perf_counter() - start)

    trainer.prepare_data, trainer.fit_epoch = prepare_data, fit_epoch
    start = time.perf_counter()
    trainer.fit(model, data)
    sync()
    total = time.perf_counter() - start
    device = torch.cuda.get_device_name(0) if cuda else f'CPU ({os.cpu_count()} cores)'
    record = {
        'impl': args.impl, 'model': args.model, 'variant': args.variant, 'resize': side,
        'batch_size': args.batch_size, 'epochs': args.epochs, 'batches_cap': args.batches,
        'val_batches_cap': args.val_batches,
        'device': device, 'torch': torch.__version__, 'threads': torch.get_num_threads(),
        'python': platform.python_version(), 'fit_seconds': round(total, 3),
        'epoch_seconds': [round(s, 3) for s in epoch_s],
        'train_seconds': [round(s, 3) for s in train_s],
        'val_seconds': [round(s, 3) for s in val_s],
        'train_images': train_n, 'val_images': val_n,
        'train_images_per_s': [round(n / s, 1) for n, s in zip(train_n, train_s)],
        'val_acc': last(model.board, 'val_acc'), 'train_loss': last(model.board, 'train_loss'),
    }
    return record


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--impl', choices=('d2l', 'ours'), required=True)
    parser.add_argument('--model', choices=sorted(MODELS), required=True)
    parser.add_argument('--variant', default='base')
    parser.add_argument('--epochs', type=int, default=2)
    parser.add_argument('--batch-size', type=int, default=BATCH_SIZE)
    parser.add_argument('--batches', type=int, default=0,
                        help='training batches per epoch (0: all)')
    parser.add_argument('--val-batches', type=int, default=None,
                        help='validation batches per epoch (default: as --batches)')
    parser.add_argument('--data', default=os.environ.get('D2LMINI_MIRROR', ''))
    parser.add_argument('--out', default=None)
    args = parser.parse_args(argv)
    if args.impl == 'd2l' and not (pathlib.Path(args.data) / 'FashionMNIST' / 'raw').is_dir():
        raise SystemExit(f'--data {args.data!r} has no FashionMNIST/raw folder for d2l')
    os.environ.setdefault('D2LMINI_BOARD', 'off')
    os.environ['D2LMINI_PROFILE'] = 'full'
    record = run(args)
    line = json.dumps(record)
    print(line, flush=True)
    if args.out:
        with open(args.out, 'a', encoding='utf-8') as f:
            f.write(line + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
