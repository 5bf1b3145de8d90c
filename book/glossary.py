"""The glossary: one list of English/Chinese term pairs (``book/glossary.yml``).

It becomes the glossary page of both sites (``notebooks/{en,zh}/glossary.md``,
generated and committed; a test checks they are current) and the jieba user
dictionary that makes Chinese terms searchable on the zh site.

    python book/glossary.py          # rewrite both glossary pages
    python book/glossary.py --check  # exit 1 if they are out of date
"""
import pathlib
import sys

import yaml

BOOK = pathlib.Path(__file__).resolve().parent
ROOT = BOOK.parent
SOURCE = BOOK / 'glossary.yml'
HEADER = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
    format_version: 0.13
kernelspec:
  display_name: Python 3 (ipykernel)
  language: python
  name: python3
---
"""
TEXT = {
    'en': ('# Glossary',
           'Every English term of the book with the Chinese term the Chinese edition '
           'uses for it, in the order of the chapter where it first matters.',
           ('English', '中文', 'Chapter')),
    'zh': ('# 术语表',
           '本书用到的术语及其英文原文，按首次出现的章节排列。中文站点的搜索也依据这份术语表'
           '切分词语，所以在搜索框中输入“梯度下降”这样的完整术语即可找到相关章节。',
           ('中文', 'English', '章')),
}


def load():
    """The term pairs, checked: no empty fields and no duplicates in either language."""
    entries = yaml.safe_load(SOURCE.read_text(encoding='utf-8'))
    for key in ('en', 'zh'):
        seen = set()
        for entry in entries:
            term = str(entry.get(key, '')).strip()
            if not term:
                raise ValueError(f'{SOURCE}: an entry has no {key!r} term: {entry}')
            if term.lower() in seen:
                raise ValueError(f'{SOURCE}: {key} term {term!r} appears twice')
            seen.add(term.lower())
    return sorted(entries, key=lambda e: (int(e.get('chapter', 0)), e['en'].lower()))


def page(lang):
    """The glossary page of one language as MyST markdown."""
    title, intro, columns = TEXT[lang]
    rows = [f'| {" | ".join(columns)} |', '|---|---|---|']
    for e in load():
        first, second = (e['en'], e['zh']) if lang == 'en' else (e['zh'], e['en'])
        rows.append(f'| {first} | {second} | {e.get("chapter", "")} |')
    note = '% Generated from book/glossary.yml by book/glossary.py: edit that file, not this page.'
    return f'{HEADER}\n{title}\n\n{note}\n\n{intro}\n\n' + '\n'.join(rows) + '\n'


def page_path(lang):
    return ROOT / 'notebooks' / lang / 'glossary.md'


def write_jieba_dict(path):
    """A jieba user dictionary (word, frequency, tag) with every Chinese term."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    words = sorted({e['zh'].replace(' ', '') for e in load()})
    path.write_text(''.join(f'{w} 100000 n\n' for w in words), encoding='utf-8')
    return path


def main(argv):
    stale = [lang for lang in TEXT
             if not page_path(lang).exists()
             or page_path(lang).read_text(encoding='utf-8') != page(lang)]
    if '--check' in argv:
        if stale:
            print('glossary pages out of date: ' + ', '.join(map(str, map(page_path, stale)))
                  + '; run python book/glossary.py')
            return 1
        return 0
    for lang in stale:
        page_path(lang).write_text(page(lang), encoding='utf-8')
        print(f'wrote {page_path(lang)}')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
