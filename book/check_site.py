"""Checks of the built site, run at the end of ``make book``.

    python book/check_site.py _build/site

Fails (exit 1, one line per problem) unless, for both languages: every page of
the table of contents was built; its language switch points at the same page of
the other site, which exists; it carries hreflang alternates; a page with code
says under its title where its outputs come from (a full run, or a shortened
run together with the notice), offers an .ipynb whose code is the page's code
after an install cell, and whose outputs are the ones the page shows; no page,
stylesheet or script loads anything from another host (the site works
offline: math is typeset by the site's own MathJax); and the zh search index
finds each checked glossary term on every page whose text contains it.
"""
import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / 'tests'))
sys.path.insert(0, str(ROOT / 'book'))
from notebook_tools import code_cells, toc_files  # noqa: E402

LANGS = ('en', 'zh')
# Terms the zh search must find on every page whose text contains them (also inside compounds).
SEARCH_TERMS = ('梯度下降', '反向传播', '交叉熵', '卷积')
_EXTERNAL = re.compile(
    r'<(?:script|img|iframe|source|audio|video|embed)\b[^>]*\bsrc\s*=\s*["\']\s*(?:https?:)?//'
    r'|<link\b(?=[^>]*\brel\s*=\s*["\'](?:stylesheet|icon|preload|modulepreload|manifest)'
    r'["\'])[^>]*\bhref\s*=\s*["\']\s*(?:https?:)?//', re.I)
_CSS_EXTERNAL = re.compile(r'(?:url\(\s*["\']?|@import\s+["\'])\s*(?:https?:)?//', re.I)


def search_index(site, lang):
    text = (site / lang / 'searchindex.js').read_text(encoding='utf-8')
    return json.loads(text[text.index('(') + 1:text.rindex(')')])


def external_loads(site):
    """Files of the site that load a script, style, font or image from another host."""
    problems = []
    for path in sorted(site.rglob('*')):
        if path.suffix not in ('.html', '.css', '.js') or not path.is_file():
            continue
        text = path.read_text(encoding='utf-8', errors='replace')
        pattern = _EXTERNAL if path.suffix == '.html' else _CSS_EXTERNAL
        if path.suffix == '.js':  # scripts may mention URLs; flag only CSS they inject
            continue
        m = pattern.search(text)
        if m:
            start = max(0, m.start() - 20)
            problems.append(f'{path.relative_to(site)} loads from another host: '
                            f'{text[start:m.end() + 60]!r}')
    return problems


def check_page(site, lang, page):
    problems = []
    other = next(code for code in LANGS if code != lang)
    html_path = site / lang / f'{page}.html'
    if not html_path.exists():
        return [f'{lang}: {page}.html was not built']
    html = html_path.read_text(encoding='utf-8')
    switch = re.search(r'<a class="btn btn-sm d2l-lang-switch" href="([^"]+)"', html)
    if not switch:
        problems.append(f'{lang}/{page}: no language switch')
    else:
        target = (html_path.parent / switch.group(1)).resolve()
        expected = (site / other / f'{page}.html').resolve()
        if target != expected or not target.exists():
            problems.append(f'{lang}/{page}: language switch goes to {target}, not {expected}')
    for code in ('en', 'zh-Hans'):
        if f'hreflang="{code}"' not in html:
            problems.append(f'{lang}/{page}: no hreflang="{code}" alternate')
    if 'id="d2l-s0"' not in html:
        problems.append(f'{lang}/{page}: sections lack the language-independent d2l-sN ids')
    source = ROOT / 'notebooks' / lang / f'{page}.md'
    cells = code_cells(source)
    provenance = re.search(r'<p class="d2l-provenance">(.*?)</p>', html, re.S)
    notebook = site / lang / '_notebooks' / f'{page}.ipynb'
    if not cells:
        if provenance:
            problems.append(f'{lang}/{page}: a page without code claims outputs')
        if notebook.exists():
            problems.append(f'{lang}/{page}: a page without code has an .ipynb download')
        return problems
    if not provenance:
        problems.append(f'{lang}/{page}: no line saying where its outputs come from')
    else:
        shortened = ('shortened' in provenance.group(1) or '缩短' in provenance.group(1))
        if shortened != ('d2l-quick-notice' in html):
            problems.append(f'{lang}/{page}: outputs of a shortened run need the notice, and only '
                            'they')
    if 'd2l-notebook' not in html:
        problems.append(f'{lang}/{page}: no .ipynb download button')
    if not notebook.exists():
        problems.append(f'{lang}/{page}: no .ipynb download')
        return problems
    nb = json.loads(notebook.read_text(encoding='utf-8'))
    got = [(''.join(c['source']), c['metadata'].get('tags', []))
           for c in nb['cells'] if c['cell_type'] == 'code']
    if not got or 'import d2lmini' not in got[0][0] or got[1:] != cells:
        problems.append(f'{lang}/{page}: the .ipynb is not an install cell followed by the '
                        'page\'s code')
    if not any(c.get('outputs') for c in nb['cells'] if c['cell_type'] == 'code'):
        problems.append(f'{lang}/{page}: the .ipynb carries no outputs')
    return problems


def check(site):
    problems = []
    pages = toc_files()
    for lang in LANGS:
        for page in pages:
            problems += check_page(site, lang, page)
        if not (site / lang / '_static' / 'mathjax' / 'tex-svg-full.js').exists():
            problems.append(f'{lang}: MathJax is not served from the site')
    problems += external_loads(site)
    if not list(site.glob('d2lmini-*.whl')):
        problems.append('no d2lmini wheel at the site root (downloaded notebooks install it)')
    if not (site / 'favicon.ico').exists():
        problems.append('no favicon.ico at the site root')
    index = search_index(site, 'zh')
    for term in SEARCH_TERMS:
        found = set()
        for kind in ('terms', 'titleterms'):  # Sphinx keeps words of titles apart
            docs = index[kind].get(term, [])
            found |= {index['docnames'][i] for i in (docs if isinstance(docs, list) else [docs])}
        for page in pages:
            text = (ROOT / 'notebooks' / 'zh' / f'{page}.md').read_text(encoding='utf-8')
            if term in text.split('\n---\n', 1)[-1] and page not in found:
                problems.append(f'zh search: {term} does not find {page}')
    return problems


if __name__ == '__main__':
    site = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / '_build' / 'site')
    problems = check(site)
    for p in problems:
        print('site check:', p)
    print(f'site check: {len(problems)} problem(s) in {site}')
    sys.exit(1 if problems else 0)
