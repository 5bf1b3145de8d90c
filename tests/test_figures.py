"""The book's diagrams (book/figures): each renders in both languages as well-formed SVG,
every figure a page uses exists, and both languages use the same figures in the same order."""
import re
import sys
import xml.etree.ElementTree as ET

import pytest

from notebook_tools import NOTEBOOKS, ROOT, notebook_paths

sys.path.insert(0, str(ROOT / 'book'))
import figures  # noqa: E402

USE = re.compile(r'^```\{d2l-figure\}\s+(\S+)', re.M)


def used(lang, page):
    return USE.findall((NOTEBOOKS / lang / page).read_text(encoding='utf-8'))


@pytest.mark.parametrize('name', sorted(figures.FIGURES))
def test_figure_renders_in_both_languages(name):
    texts = {}
    for lang in figures.LANGUAGES:
        for standalone in (False, True):
            svg = figures.render(name, lang, standalone=standalone)
            root = ET.fromstring(svg if standalone else
                                 svg.replace('<svg ', '<svg xmlns="http://www.w3.org/2000/svg" ', 1))
            assert root.tag.endswith('svg')
        texts[lang] = ''.join(ET.fromstring(figures.render(name, lang, standalone=True)).itertext())
    assert texts['en'].strip(), f'{name} has no text at all'


@pytest.mark.parametrize('page', notebook_paths('en'))
def test_pages_use_existing_figures_in_both_languages(page):
    en, zh = used('en', page), used('zh', page)
    assert en == zh, f'{page}: en uses {en}, zh uses {zh}'
    missing = [name for name in en if name not in figures.FIGURES]
    assert not missing, f'{page} uses undefined figure(s) {missing}'


def test_translator_wants_both_languages():
    with pytest.raises(TypeError):
        figures.translator('en')('only English')
