"""Stored runs: the outputs a page shows, and where they came from.

A page's **stored full run** (``book/runs/<page>.json``, committed) holds the
outputs of every code cell from executing the page in the full profile, with
its provenance (device, date, wall time, versions), the result checks the page
made, a hash of the page's code and a hash of the outputs. It is made by
``make outputs PAGES=...`` (``book/outputs.py``) and rendered by the site while
the page's code is unchanged (the run is *fresh*); once the code changes it is
*stale* and never rendered.

A page without a fresh stored run shows the outputs of the test suite's
execution (quick profile on a machine without a GPU), kept per profile and
device under ``_build/executed/`` and shared by both languages (their code is
identical), with a notice at its top.

Both kinds of file are read through :func:`load_run` / :func:`load_executed`,
which refuse bad data with an error naming the file.
"""
import ast
import datetime
import hashlib
import json
import os
import pathlib
import platform
import tempfile

import nbformat

ROOT = pathlib.Path(__file__).resolve().parents[1]
RUNS = ROOT / 'book' / 'runs'
EXECUTED = ROOT / '_build' / 'executed'
FORMAT = 1
PROVENANCE_KEYS = ('profile', 'device', 'date', 'wall_seconds', 'python', 'torch', 'd2lmini')


class StoredRunError(ValueError):
    """A stored run or executed notebook is unreadable, inconsistent or edited by hand."""


# -- hashing ---------------------------------------------------------------------
def code_sources(nb):
    return [cell.source for cell in nb.cells if cell.cell_type == 'code']


def code_hash(nb_or_sources):
    """sha256 of a page's code cells (sources only, in order)."""
    sources = nb_or_sources if isinstance(nb_or_sources, list) else code_sources(nb_or_sources)
    return hashlib.sha256(json.dumps(sources, ensure_ascii=False).encode()).hexdigest()


def _outputs_hash(cells):
    blob = json.dumps(cells, sort_keys=True, ensure_ascii=False, separators=(',', ':'))
    return hashlib.sha256(blob.encode()).hexdigest()


def device_key():
    import torch
    return 'cuda' if torch.cuda.is_available() else 'cpu'


def device_words():
    """The machine notebooks run on, in words: 'GPU (NVIDIA H100 ...)' or 'CPU (2 cores)'."""
    import torch
    if torch.cuda.is_available():
        return f'GPU ({torch.cuda.get_device_name(0)})'
    return f'CPU ({os.cpu_count()} cores)'


def _clean_outputs(cell):
    """A cell's outputs as plain JSON, without volatile metadata."""
    outs = []
    for out in cell.get('outputs', []):
        out = json.loads(json.dumps(out))
        out.pop('execution_count', None)
        if out.get('output_type') == 'error':
            out['traceback'] = []  # long and full of ANSI codes; ename/evalue say what happened
        outs.append(out)
    return outs


# -- expected figures ------------------------------------------------------------
def expected_figures(sources):
    """What the page's ``d2l.expect`` calls require in the full profile, e.g. ['val_acc > 0.82']."""
    found = []
    for source in sources:
        try:
            tree = ast.parse(_strip_magics(source))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == 'expect' and len(node.args) >= 2
                    and isinstance(node.args[1], ast.Constant)):
                metric = node.args[1].value
                for kw in node.keywords:
                    if kw.arg in ('above', 'below') and isinstance(kw.value, ast.Constant):
                        found.append(f'{metric} {">" if kw.arg == "above" else "<"} '
                                     f'{kw.value.value}')
    return found


def _strip_magics(source):
    return '\n'.join('' if line.lstrip().startswith(('%', '!')) else line
                     for line in source.splitlines())


# -- stored full runs ------------------------------------------------------------
def run_path(page):
    return RUNS / f'{page}.json'


def make_run(page, executed_nb, wall_seconds, checks, profile='full'):
    """The stored-run record of an executed notebook."""
    import torch
    import d2lmini
    cells = [_clean_outputs(c) for c in executed_nb.cells if c.cell_type == 'code']
    return {
        'format': FORMAT,
        'page': page,
        'code_sha256': code_hash(executed_nb),
        'provenance': {
            'profile': profile,
            'device': device_words(),
            'date': datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'),
            'wall_seconds': round(wall_seconds, 1),
            'python': platform.python_version(),
            'torch': torch.__version__,
            'd2lmini': d2lmini.__version__,
        },
        'checks': checks,
        'cells': cells,
        'outputs_sha256': _outputs_hash(cells),
    }


def write_json(path, record):
    """Write ``record`` to ``path`` atomically (no half-written file on failure)."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix='.part')
    try:
        with os.fdopen(fd, 'w', encoding='utf-8') as f:
            json.dump(record, f, ensure_ascii=False, indent=1, sort_keys=True)
            f.write('\n')
        os.chmod(tmp, 0o644)  # mkstemp makes it private
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load_run(path):
    """A stored run, validated; raises StoredRunError naming the file otherwise."""
    path = pathlib.Path(path)
    try:
        record = json.loads(path.read_text(encoding='utf-8'))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise StoredRunError(f'{path}: not a readable stored run ({e}); it may be truncated. '
                             'Delete it and run `make outputs PAGES=<page>` again.') from None
    problems = []
    if not isinstance(record, dict):
        raise StoredRunError(f'{path}: a stored run must be a JSON object')
    if record.get('format') != FORMAT:
        problems.append(f'format {record.get("format")!r}, expected {FORMAT}')
    prov = record.get('provenance')
    if not isinstance(prov, dict):
        problems.append('no provenance')
    else:
        missing = [k for k in PROVENANCE_KEYS if prov.get(k) in (None, '')]
        if missing:
            problems.append(f'provenance lacks {", ".join(missing)}')
        elif prov['profile'] != 'full':
            problems.append(f'profile is {prov["profile"]!r}: only full-profile runs are stored')
    cells = record.get('cells')
    if not isinstance(cells, list) or not all(isinstance(c, list) for c in cells):
        problems.append('no list of cell outputs')
    elif record.get('outputs_sha256') != _outputs_hash(cells):
        problems.append('its outputs do not match their hash: the file was edited by hand or '
                        'damaged')
    if not isinstance(record.get('checks'), list):
        problems.append('no list of result checks')
    if not isinstance(record.get('code_sha256'), str):
        problems.append('no code hash')
    if problems:
        raise StoredRunError(f'{path}: ' + '; '.join(problems) +
                             '. Run `make outputs PAGES=<page>` to store the page again.')
    return record


def failed_checks(record):
    """The result checks of a stored run that did not pass, as readable lines."""
    bad = []
    for check in record['checks']:
        if not check.get('ok') or check.get('profile') != 'full':
            bad.append(f'{check.get("what")}: {check.get("detail")} '
                       f'({check.get("profile")} profile)')
    return bad


def fresh_run(page, nb):
    """The stored run of ``page`` if it exists and matches the code of ``nb``, else None.
    Also returns the stale record (or None) so that callers can say what the full run reached."""
    path = run_path(page)
    if not path.exists():
        return None, None
    record = load_run(path)
    if record['code_sha256'] == code_hash(nb) and len(record['cells']) == len(code_sources(nb)):
        return record, None
    return None, record


# -- executed notebooks of the test suite / quick builds ---------------------------
def executed_path(page, profile):
    return EXECUTED / f'{profile}-{device_key()}' / f'{page}.ipynb'


def save_executed(page, profile, nb, seconds):
    """Keep an executed notebook (code cells with outputs) for the book build."""
    keep = nbformat.v4.new_notebook()
    keep.metadata['d2l'] = {
        'code_sha256': code_hash(nb), 'profile': profile, 'device': device_words(),
        'date': datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'),
        'seconds': round(seconds, 1)}
    for cell in nb.cells:
        if cell.cell_type == 'code':
            new = nbformat.v4.new_code_cell(cell.source)
            new.outputs = [nbformat.from_dict(o) for o in _clean_outputs(cell)]
            keep.cells.append(new)
    path = executed_path(page, profile)
    write_json(path, json.loads(nbformat.writes(keep)))
    return path


def load_executed(page, profile, nb):
    """The kept execution of ``page`` in ``profile`` if its code matches ``nb``, else None."""
    path = executed_path(page, profile)
    if not path.exists():
        return None
    try:
        kept = nbformat.read(str(path), as_version=4)
        meta = kept.metadata['d2l']
    except Exception as e:  # a damaged cache entry is re-executed, and said so
        print(f'{path}: unreadable executed notebook ({e}); executing the page again')
        return None
    if meta.get('code_sha256') != code_hash(nb) or code_sources(kept) != code_sources(nb):
        return None
    return kept


# -- merging outputs into a page -------------------------------------------------
def merge_outputs(nb, cell_outputs):
    """Put ``cell_outputs`` (one list per code cell, in order) into the code cells of ``nb``."""
    code = [c for c in nb.cells if c.cell_type == 'code']
    if len(code) != len(cell_outputs):
        raise StoredRunError(f'{len(cell_outputs)} stored cell outputs for {len(code)} code cells')
    count = 0
    for cell, outputs in zip(code, cell_outputs):
        count += 1
        cell.execution_count = count
        cell.outputs = [nbformat.from_dict(json.loads(json.dumps(o))) for o in outputs]
        for out in cell.outputs:
            if out.get('output_type') == 'execute_result':
                out['execution_count'] = count
    return nb
