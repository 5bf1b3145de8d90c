"""Sphinx extension for the bilingual book.

* **What a page shows** (``read_page``, the reader of every ``.md`` page): the
  outputs of its stored full run (``book/runs``) while the page's code matches
  it; otherwise the test suite's execution of the page (``_build/executed``,
  executed here if the suite has not done it), with a notice at the top of the
  page, in its language, saying that the outputs come from a shortened run and
  what the full run reaches. A line under the title says where the outputs come
  from. myst-nb itself never executes anything (``execute_notebooks: off``).
* The same-page language switch (anchors included: every section carries a
  language-independent id ``d2l-sN``) and ``hreflang`` alternates.
* Each page as a downloadable ``.ipynb`` with the outputs the page shows, a first
  cell that installs d2lmini from the wheel published with the site when it is
  missing, and the diagrams embedded; an "Open in Colab" button when a
  repository is configured (``d2l_repository_url``).
* Offline math: MathJax is served from the site itself.
* On the zh site, a jieba user dictionary generated from the glossary, and a
  search splitter that also indexes every glossary term found inside a longer
  word (梯度下降 inside 小批量随机梯度下降).
"""
import base64
import copy
import json
import os
import pathlib
import re
import shutil
import sys

import nbformat
from docutils import nodes
from sphinx.search.zh import SearchChinese
from sphinx.transforms import SphinxTransform

ROOT = pathlib.Path(__file__).resolve().parents[2]
BOOK = ROOT / 'book'
sys.path.insert(0, str(BOOK))
import glossary  # noqa: E402
import runs  # noqa: E402

LANGUAGES = {'en': ('English', 'en'), 'zh': ('中文', 'zh-Hans')}
_APP = None
_PAGES = {}  # docname -> notebook as shown on the page (outputs merged in)

TEXT = {
    'en': {
        'full': 'full run', 'quick': 'shortened test run (quick profile)',
        'line': 'Outputs on this page: {kind} on {device}, {date}, {seconds} of execution{versions}.',
        'versions': '; torch {torch}, d2lmini {d2lmini}',
        'notice_title': 'These outputs come from a shortened run, not from the book\'s full run',
        'notice': ('The code below was run by the test suite with every training capped at a few '
                   'batches, so its curves and numbers are far from the results the text '
                   'describes. {why} {figures} To see the real results, run the notebook yourself '
                   '(it trains in full by default), or store a full run with '
                   '`make outputs PAGES={page}`.'),
        'stale': 'The stored full run of this page is out of date: its code has changed since.',
        'stale_reached': ('The last full run, before the code changed, reached: {reached}.'),
        'missing': 'No full run of this page has been stored yet.',
        'missing_gpu': ('No full run of this page has been stored yet; it needs a GPU (hours on a '
                        'CPU).'),
        'figures': 'The full run is checked against: {figures}.',
        'colab': 'Open in Colab', 'download': 'Jupyter notebook (.ipynb) with the outputs shown here',
        'install': ("# d2lmini, the book's helper package: installed only if it is missing "
                    "(e.g. on Colab)."),
        'figure': 'Figure',
    },
    'zh': {
        'full': '完整运行', 'quick': '测试用的缩短运行（quick 配置）',
        'line': '本页输出来自：{kind}，{device}，{date}，执行用时 {seconds}{versions}。',
        'versions': '；torch {torch}，d2lmini {d2lmini}',
        'notice_title': '本页输出来自缩短的运行，不是本书完整运行的结果',
        'notice': ('下面的代码由测试套件运行，每次训练只跑少量批量，因此曲线和数值与正文描述的结果相去甚远。'
                   '{why}{figures}要看到真实结果，请自己运行这个笔记本（默认就是完整训练），或用 '
                   '`make outputs PAGES={page}` 保存一次完整运行。'),
        'stale': '本页保存的完整运行已经过时：此后代码有改动。',
        'stale_reached': '代码改动之前的最后一次完整运行达到：{reached}。',
        'missing': '本页还没有保存完整运行。',
        'missing_gpu': '本页还没有保存完整运行；它需要 GPU（在 CPU 上要几个小时）。',
        'figures': '完整运行的检验标准：{figures}。',
        'colab': '在 Colab 中打开', 'download': '下载 Jupyter 笔记本（.ipynb），含本页所示输出',
        'install': ("# d2lmini, the book's helper package: installed only if it is missing "
                    "(e.g. on Colab)."),
        'figure': '图',
    },
}


# -- configuration -----------------------------------------------------------------
def build_profile():
    from d2lmini.profiles import suite_profile
    return os.environ.get('D2LMINI_PROFILE', '').strip().lower() or suite_profile()


def config_inited(app, config):
    lang = config.d2l_language
    if lang not in LANGUAGES:
        raise ValueError(f'd2l_language must be one of {sorted(LANGUAGES)}')
    config.nb_custom_formats = {'.md': ('d2lbook.read_page', {'lang': lang}, False)}
    config.html_favicon = str(BOOK / '_static' / 'favicon.svg')
    config.html_js_files = list(config.html_js_files) + ['d2l.js']
    config.mathjax_path = 'mathjax/tex-svg-full.js'  # served from the site, see copy_mathjax
    options = dict(config.html_theme_options)
    options['search_bar_text'] = {'en': 'Search this book...', 'zh': '搜索本书……'}[lang]
    config.html_theme_options = options
    if lang == 'zh':
        user_dict = glossary.write_jieba_dict(ROOT / '_build' / 'jieba_userdict.txt')
        config.html_search_options = {'dict': str(user_dict)}


def mathjax_source():
    """The folder of the MathJax 3 bundle shipped by the sphinx-mathjax-offline package."""
    import importlib.util
    spec = importlib.util.find_spec('sphinx-mathjax-offline')
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError('the package sphinx-mathjax-offline is missing: '
                           'pip install -r requirements.txt')
    return pathlib.Path(list(spec.submodule_search_locations)[0]) / 'static' / 'mathjax'


def copy_mathjax(app, exception):
    """Serve MathJax from the site (one self-contained file: TeX input, SVG output)."""
    if exception is not None or app.builder.format != 'html':
        return
    target = pathlib.Path(app.outdir) / '_static' / 'mathjax'
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(mathjax_source() / 'tex-svg-full.js', target / 'tex-svg-full.js')


# -- what a page shows ---------------------------------------------------------------
def read_page(text, lang):
    """myst-nb reader of a page: the notebook with the outputs it is to show."""
    from myst_nb.core.read import read_myst_markdown_notebook
    nb = read_myst_markdown_notebook(text, add_source_map=True)
    docname = _APP.env.docname
    nb = page_notebook(nb, docname, lang)
    if runs.code_sources(nb):
        _PAGES[docname] = nb
    return nb


def page_notebook(nb, docname, lang):
    sources = runs.code_sources(nb)
    if not sources:
        return nb  # nothing was executed: no provenance to state
    record, stale = runs.fresh_run(docname, nb)
    if record is not None:
        runs.merge_outputs(nb, record['cells'])
        nb.metadata['d2l_outputs'] = {'kind': 'full', **record['provenance']}
        info = provenance_line(lang, 'full', record['provenance'])
    else:
        profile = build_profile()
        kept = runs.load_executed(docname, profile, nb)
        if kept is None:
            kept = execute_now(docname, profile)
        runs.merge_outputs(nb, [c.outputs for c in kept.cells])
        meta = kept.metadata['d2l']
        nb.metadata['d2l_outputs'] = {'kind': profile, **meta}
        info = provenance_line(lang, profile, meta)
        if profile != 'full':
            info += '\n\n' + notice(lang, docname, stale, sources)
    insert_after_title(nb, info)
    return nb


def execute_now(docname, profile):
    """Execute a page that the test suite has not executed (e.g. `make book` alone)."""
    import outputs
    try:
        executed, seconds, _ = outputs.execute(docname, profile=profile, timeout=1800)
    except Exception as e:
        raise RuntimeError(f'{docname}: executing the page ({profile} profile) failed:\n{e}') from e
    runs.save_executed(docname, profile, executed, seconds)
    return runs.load_executed(docname, profile, executed)


def _seconds(value):
    value = float(value)
    return f'{value:.1f} s' if value < 10 else f'{value:.0f} s'


def provenance_line(lang, kind, prov):
    t = TEXT[lang]
    device = prov['device']
    if lang == 'zh':
        device = re.sub(r'CPU \((\d+) cores\)', r'CPU（\1 核）', device)
    versions = t['versions'].format(**prov) if 'torch' in prov else ''
    seconds = _seconds(prov.get('wall_seconds', prov.get('seconds', 0)))
    if lang == 'zh':
        seconds = seconds.replace(' s', ' 秒')
    line = t['line'].format(kind=t['full' if kind == 'full' else 'quick'], device=device,
                            date=prov['date'][:10], seconds=seconds, versions=versions)
    return f'<p class="d2l-provenance">{line}</p>'


def notice(lang, docname, stale, sources):
    import outputs
    t = TEXT[lang]
    if stale is not None:
        why = t['stale']
        reached = '; '.join(f'{c["what"]} {c["detail"].split(",")[0]}' for c in stale['checks']
                            if 'value' in c)
        if reached:
            why += (' ' if lang == 'en' else '') + t['stale_reached'].format(reached=reached)
    else:
        why = t['missing_gpu' if outputs.needs_gpu(docname) else 'missing']
    figs = runs.expected_figures(sources)
    figures = t['figures'].format(figures=', '.join(figs)) if figs else ''
    body = t['notice'].format(why=why, figures=figures, page=docname)
    return (f':::{{admonition}} {t["notice_title"]}\n:class: warning d2l-quick-notice\n'
            f'{body}\n:::')


def insert_after_title(nb, markdown):
    """Put ``markdown`` into its own cell right under the page title."""
    source_map = nb.metadata.get('source_map')
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != 'markdown':
            continue
        lines = cell.source.split('\n')
        k = next((j for j, line in enumerate(lines) if line.startswith('# ')), None)
        if k is None:
            continue
        head, rest = '\n'.join(lines[:k + 1]), '\n'.join(lines[k + 1:])
        new = [nbformat.v4.new_markdown_cell(head), nbformat.v4.new_markdown_cell(markdown)]
        start = source_map[i] if source_map else 0
        lines_map = [start, start + k]
        if rest.strip():
            new.append(nbformat.v4.new_markdown_cell(rest))
            lines_map.append(start + k + 1)
        nb.cells[i:i + 1] = new
        if source_map:
            source_map[i:i + 1] = lines_map
        return
    raise ValueError('the page has no "# " title')


# -- page context: language switch, downloads, Colab ----------------------------------
def page_context(app, pagename, templatename, context, doctree):
    lang = app.config.d2l_language
    other = next(code for code in LANGUAGES if code != lang)
    to_root = '../' * pagename.count('/')
    context['d2l_other_url'] = f'{to_root}../{other}/{pagename}.html'
    context['d2l_other_label'] = LANGUAGES[other][0]
    context['d2l_other_hreflang'] = LANGUAGES[other][1]
    context['metatags'] = context.get('metatags', '') + ''.join(
        f'\n<link rel="alternate" hreflang="{LANGUAGES[code][1]}" '
        f'href="{to_root}../{code}/{pagename}.html" />' for code in LANGUAGES)
    if pagename in _PAGES:
        context['d2l_notebook_url'] = f'{to_root}_notebooks/{pagename}.ipynb'
        context['d2l_notebook_title'] = TEXT[lang]['download']
        repo = app.config.d2l_repository_url.rstrip('/')
        if repo.startswith('https://github.com/'):
            context['d2l_colab_url'] = (
                'https://colab.research.google.com/github/' + repo[len('https://github.com/'):]
                + f'/blob/{app.config.d2l_pages_branch}/{lang}/_notebooks/{pagename}.ipynb')
            context['d2l_colab_label'] = TEXT[lang]['colab']


class SectionIds(SphinxTransform):
    """Give every section an id that is the same in both languages (``d2l-s0``, ``d2l-s1``,
    ...: the pages mirror each other's headings), so the language switch keeps the anchor."""
    default_priority = 800

    def apply(self):
        for i, section in enumerate(self.document.findall(nodes.section)):
            section['ids'].append(f'd2l-s{i}')


# -- downloads ---------------------------------------------------------------------
def wheel_name():
    import d2lmini
    return f'd2lmini-{d2lmini.__version__}-py3-none-any.whl'


def install_source(app):
    """Where the install cell of a download gets d2lmini: the wheel published with the site."""
    base = app.config.d2l_site_url.strip()
    if base:
        return base.rstrip('/') + '/' + wheel_name()
    return str(ROOT / '_build' / 'site' / wheel_name())


_FIGURE = re.compile(r'```\{d2l-figure\}\s+(\S+)\n((?::[\w-]+:.*\n)*)(.*?)\n```', re.S)


def _embed_figures(source, lang):
    import figures

    def replace(m):
        caption = ' '.join(m.group(3).split())
        svg = figures.render(m.group(1), lang, title=caption, standalone=True)
        data = base64.b64encode(svg.encode()).decode()
        return f'![{m.group(1)}](data:image/svg+xml;base64,{data})\n\n*{caption}*'
    return _FIGURE.sub(replace, source)


def download_notebook(app, nb):
    lang = app.config.d2l_language
    nb = copy.deepcopy(nb)
    nb.metadata.pop('source_map', None)
    nb.metadata.pop('jupytext', None)
    nb.metadata.pop('d2l_outputs', None)
    for cell in nb.cells:
        if cell.cell_type == 'markdown':
            source = _embed_figures(cell.source, lang)
            source = re.sub(r'<p class="d2l-provenance">(.*?)</p>', r'*\1*', source)
            source = re.sub(r':::\{admonition\} (.*?)\n:class: .*?\n(.*?)\n:::',
                            r'> **\1**\n>\n> \2', source, flags=re.S)
            cell.source = source
    first_code = next((i for i, c in enumerate(nb.cells) if c.cell_type == 'code'), len(nb.cells))
    install = nbformat.v4.new_code_cell(
        f'{TEXT[lang]["install"]}\ntry:\n    import d2lmini\nexcept ImportError:\n'
        f'    %pip install -q "{install_source(app)}"')
    nb.cells.insert(first_code, install)
    nb.nbformat, nb.nbformat_minor = 4, 5
    return nb


def write_notebooks(app, exception):
    """Every page with code as an .ipynb that readers can download and run."""
    if exception is not None or app.builder.format != 'html':
        return
    out = pathlib.Path(app.outdir) / '_notebooks'
    for docname, nb in sorted(_PAGES.items()):
        target = out / f'{docname}.ipynb'
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(download_notebook(app, nb), str(target))


# -- search ------------------------------------------------------------------------
class SearchChineseTerms(SearchChinese):
    """jieba's search mode, plus every glossary term contained in the text: jieba splits
    小批量随机梯度下降 into two- and three-character words only, so 梯度下降 would be missed."""
    terms = None

    def split(self, input):
        words = super().split(input)
        if SearchChineseTerms.terms is None:
            SearchChineseTerms.terms = sorted({str(e['zh']).strip() for e in glossary.load()})
        words.extend(term for term in self.terms if term in input)
        return words


def setup(app):
    global _APP
    _APP = app
    app.setup_extension('d2lfigures')
    app.add_config_value('d2l_language', 'en', 'html')
    app.add_config_value('d2l_site_url', '', 'html')
    app.add_config_value('d2l_repository_url', '', 'html')
    app.add_config_value('d2l_pages_branch', 'gh-pages', 'html')
    app.add_search_language(SearchChineseTerms)
    app.add_transform(SectionIds)
    app.connect('config-inited', config_inited)
    app.connect('html-page-context', page_context)
    app.connect('build-finished', write_notebooks)
    app.connect('build-finished', copy_mathjax)
    return {'parallel_read_safe': False, 'parallel_write_safe': True}
