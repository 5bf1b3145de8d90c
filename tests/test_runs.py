"""Stored full runs (book/runs): every one is intact, from the full profile, with its
provenance, and every result check it made passed; bad files give clear errors."""
import json
import pathlib
import sys

import jupytext
import nbformat
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / 'book'))
import runs  # noqa: E402

STORED = sorted(runs.RUNS.rglob('*.json'))


def page_of(path):
    return path.relative_to(runs.RUNS).with_suffix('').as_posix()


def test_every_stored_run_is_intact_and_passed_its_checks():
    for path in STORED:
        check_stored_run(path)


def check_stored_run(path):
    record = runs.load_run(path)  # raises StoredRunError with the file's name otherwise
    page = page_of(path)
    assert record['page'] == page, f'{path} says it is the run of {record["page"]}'
    source = ROOT / 'notebooks' / 'en' / f'{page}.md'
    assert source.exists(), f'{path} is the stored run of a page that no longer exists'
    assert not runs.failed_checks(record), runs.failed_checks(record)
    nb = jupytext.read(source)
    code = runs.code_sources(nb)
    if 'd2l.expect(' in ''.join(code) and record['code_sha256'] == runs.code_hash(nb):
        assert any(c['what'] and 'value' in c for c in record['checks']), (
            f'{page} checks its results with d2l.expect, but its stored run recorded none')
    for i, outputs in enumerate(record['cells']):
        for out in outputs:
            if out.get('output_type') == 'error' and record['code_sha256'] == runs.code_hash(nb):
                cell = [c for c in nb.cells if c.cell_type == 'code'][i]
                assert 'raises-exception' in cell.metadata.get('tags', []), (
                    f'{page}: code cell {i} raised {out.get("ename")} in the stored run')


def _a_run(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell('print(1)'), nbformat.v4.new_code_cell('2')]
    nb.cells[0].outputs = [nbformat.v4.new_output('stream', name='stdout', text='1\n')]
    nb.cells[1].outputs = [nbformat.v4.new_output('execute_result', data={'text/plain': '2'},
                                                  execution_count=2)]
    checks = [{'what': 'val_acc', 'detail': '0.9, expected > 0.8', 'ok': True,
               'profile': 'full', 'value': 0.9}]
    record = runs.make_run('chapter_x/page', nb, 1.5, checks)
    path = tmp_path / 'page.json'
    runs.write_json(path, record)
    return nb, path


def test_a_written_run_loads_and_merges_back(tmp_path):
    nb, path = _a_run(tmp_path)
    record = runs.load_run(path)
    assert record['provenance']['profile'] == 'full'
    assert record['code_sha256'] == runs.code_hash(nb)
    fresh = nbformat.v4.new_notebook()
    fresh.cells = [nbformat.v4.new_markdown_cell('# T'), nbformat.v4.new_code_cell('print(1)'),
                   nbformat.v4.new_code_cell('2')]
    runs.merge_outputs(fresh, record['cells'])
    assert fresh.cells[1].outputs[0]['text'] == '1\n'
    assert fresh.cells[2].outputs[0]['data'] == {'text/plain': '2'}
    assert fresh.cells[2].outputs[0]['execution_count'] == 2


def test_a_truncated_run_names_the_file(tmp_path):
    _, path = _a_run(tmp_path)
    path.write_text(path.read_text()[:200])
    with pytest.raises(runs.StoredRunError, match=str(path)):
        runs.load_run(path)


def test_a_hand_edited_output_is_refused(tmp_path):
    _, path = _a_run(tmp_path)
    record = json.loads(path.read_text())
    record['cells'][0][0]['text'] = '0.99\n'
    path.write_text(json.dumps(record))
    with pytest.raises(runs.StoredRunError, match='edited by hand'):
        runs.load_run(path)


@pytest.mark.parametrize('key', runs.PROVENANCE_KEYS)
def test_missing_provenance_is_refused(tmp_path, key):
    _, path = _a_run(tmp_path)
    record = json.loads(path.read_text())
    del record['provenance'][key]
    path.write_text(json.dumps(record))
    with pytest.raises(runs.StoredRunError, match=f'provenance lacks {key}'):
        runs.load_run(path)


def test_a_quick_profile_run_is_refused(tmp_path):
    _, path = _a_run(tmp_path)
    record = json.loads(path.read_text())
    record['provenance']['profile'] = 'quick'
    path.write_text(json.dumps(record))
    with pytest.raises(runs.StoredRunError, match='only full-profile runs'):
        runs.load_run(path)


def test_failed_checks_are_reported(tmp_path):
    _, path = _a_run(tmp_path)
    record = runs.load_run(path)
    record['checks'].append({'what': 'val_loss', 'detail': '0.9, expected < 0.5', 'ok': False,
                             'profile': 'full'})
    assert runs.failed_checks(record) == ['val_loss: 0.9, expected < 0.5 (full profile)']


def test_a_stale_run_is_not_fresh(tmp_path, monkeypatch):
    nb, path = _a_run(tmp_path)
    monkeypatch.setattr(runs, 'run_path', lambda page: path)
    fresh, stale = runs.fresh_run('chapter_x/page', nb)
    assert fresh is not None and stale is None
    nb.cells[1].source = '3'
    fresh, stale = runs.fresh_run('chapter_x/page', nb)
    assert fresh is None and stale is not None


def test_expected_figures_are_read_from_the_code():
    code = ["d2l.expect(model, 'val_acc', above=0.8, quick_above=0.5)",
            "x = 1\nd2l.expect(trainer, 'val_loss', below=0.2);", "%matplotlib inline"]
    assert runs.expected_figures(code) == ['val_acc > 0.8', 'val_loss < 0.2']
