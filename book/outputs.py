"""Store full-profile runs of the book's pages for the site (``make outputs``).

    python book/outputs.py chapter_convolutional-neural-networks/lenet ...   # these pages
    python book/outputs.py                # every page whose stored run is missing or stale
    python book/outputs.py --check        # list missing/stale stored runs, execute nothing

Each page is executed top to bottom in a fresh kernel, from its own folder, in
the full profile, on the machine at hand (pages that need a GPU are skipped
when none is visible, unless named explicitly). Its outputs, the result checks
it made (``d2l.expect``, ``d2l.check_close``), its provenance and hashes go to
``book/runs/<page>.json``, written only if every cell ran and every check
passed. Both languages share the run: their code cells are identical.
"""
import json
import os
import pathlib
import sys
import tempfile
import time

import jupytext

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import runs  # noqa: E402

ROOT = runs.ROOT
NOTEBOOKS = ROOT / 'notebooks' / 'en'
# Full runs too long for a CPU machine (hours); they are stored from a GPU machine.
NEEDS_GPU = ('chapter_convolutional-modern/', 'chapter_attention-mechanisms-and-transformers/'
             'vision-transformer')


def pages_with_code():
    sys.path.insert(0, str(ROOT / 'tests'))
    from notebook_tools import toc_files
    found = []
    for page in toc_files():
        nb = jupytext.read(NOTEBOOKS / f'{page}.md')
        if runs.code_sources(nb):
            found.append(page)
    return found


def needs_gpu(page):
    return page.startswith(NEEDS_GPU) and not page.endswith('/index')


def status(page):
    """'fresh', 'stale' or 'missing'."""
    nb = jupytext.read(NOTEBOOKS / f'{page}.md')
    fresh, stale = runs.fresh_run(page, nb)
    return 'fresh' if fresh else 'stale' if stale else 'missing'


def execute(page, profile='full', timeout=None):
    """Execute ``page`` in a fresh kernel; return (executed notebook, seconds, checks)."""
    from nbclient import NotebookClient
    source = NOTEBOOKS / f'{page}.md'
    nb = jupytext.read(source)
    fd, log = tempfile.mkstemp(suffix='.jsonl')
    os.close(fd)
    saved = dict(os.environ)
    os.environ.update(D2LMINI_PROFILE=profile, D2LMINI_CHECK_LOG=log)
    os.environ.setdefault('D2LMINI_BOARD', 'static')
    os.environ.setdefault('D2LMINI_BUILD', str(ROOT / '_build' / 'outputs'))
    os.environ.pop('MPLBACKEND', None)  # notebooks must keep the inline backend
    start = time.perf_counter()
    try:
        client = NotebookClient(nb, timeout=timeout, kernel_name='python3',
                                resources={'metadata': {'path': str(source.parent)}})
        client.execute()
        seconds = time.perf_counter() - start
        with open(log, encoding='utf-8') as f:
            checks = [json.loads(line) for line in f if line.strip()]
    finally:
        os.environ.clear()
        os.environ.update(saved)
        os.unlink(log)
    for i, cell in enumerate(c for c in nb.cells if c.cell_type == 'code'):
        if 'raises-exception' in cell.metadata.get('tags', []) and not any(
                o.get('output_type') == 'error' for o in cell.outputs):
            raise RuntimeError(f'{page}: code cell {i} is tagged raises-exception but raised '
                               'nothing; the error it demonstrates has gone')
    return nb, seconds, checks


def store(page):
    print(f'{page}: executing in the full profile on {runs.device_words()} ...', flush=True)
    nb, seconds, checks = execute(page)
    record = runs.make_run(page, nb, seconds, checks)
    bad = runs.failed_checks(record)
    if bad:
        raise RuntimeError(f'{page}: result checks failed, run not stored:\n  ' + '\n  '.join(bad))
    runs.write_json(runs.run_path(page), record)
    size = runs.run_path(page).stat().st_size
    print(f'{page}: stored ({seconds:.1f} s, {len(checks)} check(s), {size / 1024:.0f} KiB)',
          flush=True)


def main(args):
    check_only = '--check' in args
    named = [a.removesuffix('.md').removeprefix('notebooks/en/').removeprefix('notebooks/zh/')
             for a in args if not a.startswith('--')]
    for page in named:
        if not (NOTEBOOKS / f'{page}.md').exists():
            print(f'no such page: {page} (give paths like chapter_preliminaries/ndarray)')
            return 2
    import torch
    gpu = torch.cuda.is_available()
    todo = []
    for page in named or pages_with_code():
        state = status(page)
        if named or state != 'fresh':
            if not named and needs_gpu(page) and not gpu:
                print(f'{page}: {state}, needs a GPU (skipped on this machine)')
                continue
            todo.append(page)
            if check_only:
                print(f'{page}: {state}')
    if check_only:
        return 1 if todo else 0
    failed = []
    for page in todo:
        try:
            store(page)
        except Exception as e:  # keep going; report at the end
            print(f'{page}: FAILED\n{e}', flush=True)
            failed.append(page)
    print(f'{len(todo) - len(failed)} page(s) stored, {len(failed)} failed'
          + ''.join(f'\n  {p}' for p in failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
