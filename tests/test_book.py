"""Checks of the book's own sources: glossary, configuration, provenance of the toc."""
import pathlib
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / 'book'))
import glossary  # noqa: E402


def test_glossary_pages_are_generated_from_glossary_yml():
    assert glossary.main(['--check']) == 0, 'run: python book/glossary.py'


def test_jieba_dictionary_holds_every_chinese_term(tmp_path):
    path = glossary.write_jieba_dict(tmp_path / 'dict.txt')
    words = {line.split()[0] for line in path.read_text(encoding='utf-8').splitlines()}
    assert '梯度下降' in words and '反向传播' in words
    assert len(words) == len(glossary.load())


def test_the_two_site_configs_differ_only_in_language():
    en = yaml.safe_load((ROOT / '_config.yml').read_text(encoding='utf-8'))
    zh = yaml.safe_load((ROOT / '_config.zh.yml').read_text(encoding='utf-8'))
    for cfg in (en, zh):
        cfg.pop('title'), cfg.pop('author')
    en_sphinx, zh_sphinx = en['sphinx']['config'], zh['sphinx']['config']
    assert (en_sphinx.pop('language'), zh_sphinx.pop('language')) == ('en', 'zh_CN')
    assert (en_sphinx.pop('d2l_language'), zh_sphinx.pop('d2l_language')) == ('en', 'zh')
    assert zh_sphinx.pop('html_search_language') == 'zh'
    assert en == zh
