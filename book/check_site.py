"""Checks of the built site, run at the end of ``make book``.

    python book/check_site.py _build/site

Fails (exit 1, one line per problem) unless, for both languages: every page of
the table of contents was built; its language switch points at the same page of
the other site, which exists; it carries hreflang alternates, a provenance line
and a downloadable .ipynb whose code equals the source; and the zh search index
finds 梯度下降 in the sections that discuss gradient descent.
"""
import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / 'tests'))
from notebook_tools import code_cells, toc_files  # noqa: E402

LANGS = ('en', 'zh')
# Pages that must come up when searching the zh site for this term.
SEARCH_CHECKS = {'梯度下降': ['chapter_linear-regression/linear-regression']}


def search_index(site, lang):
    text = (site / lang / 'searchindex.js').read_text(encoding='utf-8')
    return json.loads(text[text.index('(') + 1:text.rindex(')')])


def check(site):
    problems = []
    pages = toc_files()
    for lang in LANGS:
        other = next(code for code in LANGS if code != lang)
        for page in pages:
            html_path = site / lang / f'{page}.html'
            if not html_path.exists():
                problems.append(f'{lang}: {page}.html was not built')
                continue
            html = html_path.read_text(encoding='utf-8')
            switch = re.search(r'<a class="btn btn-sm d2l-lang-switch" href="([^"]+)"', html)
            if not switch:
                problems.append(f'{lang}/{page}: no language switch')
            else:
                target = (html_path.parent / switch.group(1)).resolve()
                expected = (site / other / f'{page}.html').resolve()
                if target != expected or not target.exists():
                    problems.append(f'{lang}/{page}: language switch goes to {target}, '
                                    f'not {expected}')
            for code in ('en', 'zh-Hans'):
                if f'hreflang="{code}"' not in html:
                    problems.append(f'{lang}/{page}: no hreflang="{code}" alternate')
            if 'class="d2l-provenance"' not in html:
                problems.append(f'{lang}/{page}: no provenance line')
            notebook = site / lang / '_notebooks' / f'{page}.ipynb'
            if not notebook.exists():
                problems.append(f'{lang}/{page}: no .ipynb download')
            else:
                nb = json.loads(notebook.read_text(encoding='utf-8'))
                got = [(''.join(c['source']), c['metadata'].get('tags', []))
                       for c in nb['cells'] if c['cell_type'] == 'code']
                if got != code_cells(ROOT / 'notebooks' / lang / f'{page}.md'):
                    problems.append(f'{lang}/{page}: the .ipynb download differs from the source')
    index = search_index(site, 'zh')
    for term, must_find in SEARCH_CHECKS.items():
        docs = index['terms'].get(term)
        if docs is None:
            problems.append(f'zh search: the index has no term {term}')
            continue
        docs = docs if isinstance(docs, list) else [docs]
        found = {index['docnames'][i] for i in docs}
        for page in must_find:
            if page not in found:
                problems.append(f'zh search: {term} does not find {page} (found {sorted(found)})')
    return problems


if __name__ == '__main__':
    site = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / '_build' / 'site')
    problems = check(site)
    for p in problems:
        print('site check:', p)
    print(f'site check: {len(problems)} problem(s) in {site}')
    sys.exit(1 if problems else 0)
