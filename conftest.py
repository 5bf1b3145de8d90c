"""Lets ``pytest --nbval-lax notebooks/`` run the book's MyST-markdown notebooks.

nbval only collects ``.ipynb`` files; here ``.md`` notebooks (those with a
jupytext header) are read through jupytext and handed to nbval unchanged. The
kernels inherit this process's environment, so the profile and board settings
below reach every notebook.
"""
import os

import jupytext
import nbformat
import nbval.plugin

os.environ.setdefault('D2LMINI_BOARD', 'static')
if 'D2LMINI_PROFILE' not in os.environ:
    from d2lmini.profiles import suite_profile
    os.environ['D2LMINI_PROFILE'] = suite_profile()


class _NbformatWithMyst:
    """nbformat, except that ``read`` also understands MyST-markdown notebooks."""
    def __getattr__(self, name):
        return getattr(nbformat, name)

    def read(self, path, as_version=4):
        if str(path).endswith('.md'):
            return jupytext.read(path)
        return nbformat.read(path, as_version=as_version)


nbval.plugin.nbformat = _NbformatWithMyst()


def _is_myst_notebook(path):
    with open(path, encoding='utf-8') as f:
        head = f.read(400)
    return head.startswith('---') and 'jupytext:' in head


def pytest_collect_file(file_path, parent):
    opt = parent.config.option
    if ((opt.nbval or opt.nbval_lax) and file_path.suffix == '.md'
            and 'notebooks' in file_path.parts and _is_myst_notebook(file_path)):
        return nbval.plugin.IPyNbFile.from_parent(parent, path=file_path)


# -- every notebook executed once per run, its outputs kept for the book -----------------
# nbval runs the cells; these hooks (1) fail a cell tagged raises-exception that raised
# nothing, and (2) when every cell of a notebook passed, keep the executed notebook under
# _build/executed/<profile>-<device>/ so that `make book` shows these outputs instead of
# executing the page a second time (both languages share them: their code is identical).
import pathlib  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import pytest  # noqa: E402

_ROOT = pathlib.Path(__file__).resolve().parent
_RESULTS = {}  # notebook path -> [start time, {cell index: (passed, outputs)}]


def _is_cell(item):
    return isinstance(item, nbval.plugin.IPyNbCell)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    if not _is_cell(item) or call.when != 'call':
        return
    report = outcome.get_result()
    outputs = item.test_outputs or []
    tags = item.cell.metadata.get('tags', [])
    if report.passed and 'raises-exception' in tags and not any(
            o.get('output_type') == 'error' for o in outputs):
        report.outcome = 'failed'
        report.longrepr = (f'{item.nodeid}: the cell is tagged raises-exception but raised '
                           'nothing; the error it demonstrates has gone (fix the code, or the '
                           'tag and the prose)')
    state = _RESULTS.setdefault(str(item.parent.path), [time.perf_counter(), {}])
    state[1][item.cell_num] = (report.passed, outputs)


def pytest_runtest_teardown(item, nextitem):
    if not _is_cell(item) or (nextitem is not None and nextitem.parent is item.parent):
        return
    state = _RESULTS.pop(str(item.parent.path), None)
    path = pathlib.Path(item.parent.path)
    notebooks = _ROOT / 'notebooks'
    if state is None or notebooks not in path.parents:
        return
    start, cells = state
    code = [c for c in item.parent.nb.cells if c.cell_type == 'code']
    if len(cells) != len(code) or not all(passed for passed, _ in cells.values()):
        return  # a failed notebook keeps nothing: the book build would execute it again
    sys.path.insert(0, str(_ROOT / 'book'))
    import runs
    for i, cell in enumerate(code):
        cell.outputs = cells[i][1]
    page = path.relative_to(notebooks).with_suffix('').as_posix().split('/', 1)[1]
    runs.save_executed(page, os.environ['D2LMINI_PROFILE'], item.parent.nb,
                       time.perf_counter() - start)


def pytest_report_teststatus(report, config):
    """With D2LMINI_ALL_TESTS=1 (CI), a skipped test is a failure: CI runs them all."""
    if report.skipped and os.environ.get('D2LMINI_ALL_TESTS') == '1' and report.when != 'teardown':
        report.outcome = 'failed'
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.longrepr = f'skipped in CI, where every test must run: {reason}'
        return 'failed', 'F', 'FAILED'
