"""The English and Chinese trees mirror each other: same pages, same code, same tags."""
import pytest

from notebook_tools import (LANGUAGES, NOTEBOOKS, cjk_line_breaks, code_cells, notebook_paths,
                            raw_code_blocks, toc_files)

PAGES = notebook_paths('en')


def test_both_trees_have_the_same_pages():
    assert PAGES, 'no notebooks found'
    assert notebook_paths('en') == notebook_paths('zh')


def test_toc_lists_every_page_and_only_existing_pages():
    listed = {f + '.md' for f in toc_files()}
    for lang in LANGUAGES:
        assert set(notebook_paths(lang)) == listed, lang


@pytest.mark.parametrize('page', PAGES)
def test_code_cells_are_byte_identical(page):
    en, zh = NOTEBOOKS / 'en' / page, NOTEBOOKS / 'zh' / page
    assert raw_code_blocks(en) == raw_code_blocks(zh)
    assert code_cells(en) == code_cells(zh)  # same sources and the same tags


@pytest.mark.parametrize('page', PAGES)
def test_pages_are_jupytext_notebooks_with_a_title(page):
    for lang in LANGUAGES:
        text = (NOTEBOOKS / lang / page).read_text(encoding='utf-8')
        assert text.startswith('---\njupytext:'), f'{lang}/{page} lacks the jupytext header'
        body = text.split('\n---\n', 1)[1]
        first = next(line for line in body.splitlines() if line.strip())
        assert first.startswith('# '), f'{lang}/{page} must start with a "# " title'


@pytest.mark.parametrize('page', PAGES)
def test_no_line_break_inside_chinese_prose(page):
    text = (NOTEBOOKS / 'zh' / page).read_text(encoding='utf-8')
    breaks = cjk_line_breaks(text)
    assert not breaks, (f'zh/{page}: a line break between two Chinese characters at line(s) '
                        f'{breaks} shows as a stray space; join those lines')
