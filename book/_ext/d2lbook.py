"""Sphinx extension for the bilingual book.

* One execution cache per profile and device kind (``_build/.jupyter_cache/<profile>-<device>``):
  jupyter-cache keys only on code, so the zh build reuses the en execution, but
  it ignores environment variables, hence one cache per profile.
* The same-page language switch and ``hreflang`` alternates on every page.
* Each page says which profile, device and date produced its outputs.
* Each page's notebook as a real ``.ipynb`` download (``_notebooks/<page>.ipynb``).
* On the zh site, a jieba user dictionary generated from the glossary, so that
  Chinese terms such as 梯度下降 are indexed as words.
"""
import datetime
import functools
import pathlib
import sys

import jupytext
from d2lmini.profiles import profile as build_profile

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'book'))
import glossary  # noqa: E402

LANGUAGES = {'en': ('English', 'en'), 'zh': ('中文', 'zh-Hans')}


@functools.lru_cache(maxsize=None)
def build_device():
    """The device notebooks execute on in this build, in words and as a short key."""
    import torch
    if torch.cuda.is_available():
        return f'GPU ({torch.cuda.get_device_name(0)})', 'cuda'
    return 'CPU', 'cpu'


def config_inited(app, config):
    if config.d2l_language not in LANGUAGES:
        raise ValueError(f'd2l_language must be one of {sorted(LANGUAGES)}')
    _, key = build_device()
    cache = ROOT / '_build' / '.jupyter_cache' / f'{build_profile()}-{key}'
    config.nb_execution_cache_path = str(cache)
    if config.d2l_language == 'zh':
        user_dict = glossary.write_jieba_dict(ROOT / '_build' / 'jieba_userdict.txt')
        config.html_search_options = {'dict': str(user_dict)}


def _exec_date(app, pagename):
    try:
        from myst_nb.sphinx_ import NbMetadataCollector
        data = NbMetadataCollector.get_exec_data(app.env, pagename)
    except (ImportError, KeyError):
        data = None
    if not data or not data.get('mtime'):
        return None
    return datetime.datetime.fromtimestamp(data['mtime'], datetime.timezone.utc)


def page_context(app, pagename, templatename, context, doctree):
    lang = app.config.d2l_language
    other = next(code for code in LANGUAGES if code != lang)
    to_root = '../' * pagename.count('/')
    other_url = f'{to_root}../{other}/{pagename}.html'
    context['d2l_other_url'] = other_url
    context['d2l_other_label'] = LANGUAGES[other][0]
    context['d2l_other_hreflang'] = LANGUAGES[other][1]
    context['metatags'] = context.get('metatags', '') + ''.join(
        f'\n<link rel="alternate" hreflang="{LANGUAGES[code][1]}" '
        f'href="{to_root}../{code}/{pagename}.html" />' for code in LANGUAGES)
    if pagename in app.env.found_docs and _is_notebook(app, pagename):
        context['d2l_notebook_url'] = f'{to_root}_notebooks/{pagename}.ipynb'
    device, _ = build_device()
    executed = _exec_date(app, pagename)
    if executed is not None:
        context['d2l_provenance'] = (
            f'Outputs: profile {build_profile()}, {device}, executed '
            f'{executed:%Y-%m-%d %H:%M} UTC' if lang == 'en' else
            f'本页输出：{build_profile()} 配置，{device}，执行于 {executed:%Y-%m-%d %H:%M} UTC')
    elif pagename in app.env.found_docs:
        today = datetime.datetime.now(datetime.timezone.utc)
        context['d2l_provenance'] = (
            f'No code outputs on this page; built {today:%Y-%m-%d} (profile '
            f'{build_profile()}, {device})' if lang == 'en' else
            f'本页没有代码输出；构建于 {today:%Y-%m-%d}（{build_profile()} 配置，{device}）')


def _is_notebook(app, docname):
    path = pathlib.Path(app.env.doc2path(docname))
    return path.suffix == '.md' and path.read_text(encoding='utf-8').startswith('---\njupytext:')


def write_notebooks(app, exception):
    """Convert every page's source to an .ipynb that readers can download."""
    if exception is not None or app.builder.format != 'html':
        return
    out = pathlib.Path(app.outdir) / '_notebooks'
    for docname in sorted(app.env.found_docs):
        if not _is_notebook(app, docname):
            continue
        target = out / f'{docname}.ipynb'
        target.parent.mkdir(parents=True, exist_ok=True)
        nb = jupytext.read(app.env.doc2path(docname))
        nb.metadata.pop('jupytext', None)
        jupytext.write(nb, target, fmt='ipynb')


def setup(app):
    app.setup_extension('d2lfigures')
    app.add_config_value('d2l_language', 'en', 'html')
    app.connect('config-inited', config_inited)
    app.connect('html-page-context', page_context)
    app.connect('build-finished', write_notebooks)
    return {'parallel_read_safe': True, 'parallel_write_safe': True}
