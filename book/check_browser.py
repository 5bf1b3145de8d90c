"""Check both built sites in a real browser (headless Chromium), as CI does.

    python book/check_browser.py [_build/site]

Serves the site on localhost and, with Playwright driving the system's Chromium
(``CHROMIUM`` or /usr/bin/chromium), checks for every page of both languages that
it loads with no failed request and no request to another host, and that every
equation was typeset (no raw TeX left); then, on a few pages, that the language
switch lands on the same page and section, that the zh search for 梯度下降 lists
(through the site's own JavaScript) every page whose text contains it, and that
no header item overflows at 1400 px and 400 px. Exit status 1 on any problem.

Needs ``pip install -r book/requirements-browser.txt`` and a Chromium; `make test`
does not.
"""
import contextlib
import functools
import http.server
import os
import pathlib
import socketserver
import sys
import threading
import urllib.parse

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / 'tests'))
from notebook_tools import toc_files  # noqa: E402

SEARCH_TERM = '梯度下降'
SWITCH_PAGES = ['chapter_linear-regression/linear-regression-scratch',
                'chapter_convolutional-neural-networks/lenet']
HEADER_PAGES = ['index', 'chapter_convolutional-neural-networks/lenet']


@contextlib.contextmanager
def serve(site):
    handler = functools.partial(QuietHandler, directory=str(site))
    with socketserver.ThreadingTCPServer(('127.0.0.1', 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f'http://127.0.0.1:{server.server_address[1]}'
        finally:
            server.shutdown()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def chromium():
    path = os.environ.get('CHROMIUM') or '/usr/bin/chromium'
    if not pathlib.Path(path).exists():
        raise SystemExit(f'no Chromium at {path}: install Debian\'s chromium package (or set '
                         'CHROMIUM to a Chromium binary)')
    return path


MATH_LEFT = """() => [...document.querySelectorAll('.math')]
    .filter(e => !e.querySelector('mjx-container')).map(e => e.textContent.slice(0, 60))"""
WAIT_MATH = """() => !window.MathJax || !window.MathJax.startup ||
    window.MathJax.startup.promise.then(() => true)"""


def check_pages(page, base, problems):
    failed = []
    # ERR_ABORTED: a request cut short by the next navigation (a missing file is a 404 below)
    page.on('requestfailed', lambda r: failed.append(f'{r.url} ({r.failure})')
            if r.failure != 'net::ERR_ABORTED' else None)
    page.on('response', lambda r: failed.append(f'{r.url} (HTTP {r.status})')
            if r.status >= 400 else None)
    page.on('request', lambda r: failed.append(f'{r.url} (another host)')
            if not r.url.startswith(base) and not r.url.startswith(('data:', 'blob:'))
            else None)
    count = 0
    for lang in ('en', 'zh'):
        for name in toc_files():
            failed.clear()
            url = f'{base}/{lang}/{name}.html'
            page.goto(url, wait_until='load')
            page.evaluate(WAIT_MATH)
            left = page.evaluate(MATH_LEFT)
            if left:
                problems.append(f'{lang}/{name}: {len(left)} equation(s) not typeset, e.g. '
                                f'{left[0]!r}')
            for f in sorted(set(failed)):
                problems.append(f'{lang}/{name}: request failed: {f}')
            count += 1
    return count


def check_switch(page, base, problems):
    for name in SWITCH_PAGES:
        for lang, other in (('en', 'zh'), ('zh', 'en')):
            page.goto(f'{base}/{lang}/{name}.html', wait_until='load')
            ids = page.evaluate("() => [...document.querySelectorAll('main section')]"
                                ".map(s => s.id).filter(i => i && !i.startsWith('d2l-s'))")
            if len(ids) < 3:
                problems.append(f'{lang}/{name}: too few sections to check the switch')
                continue
            anchor = ids[2]
            marker = page.evaluate(
                f"() => document.getElementById({anchor!r})"
                ".querySelector(':scope > span[id^=\"d2l-s\"]').id")
            page.goto(f'{base}/{lang}/{name}.html#{anchor}', wait_until='load')
            page.click('a.d2l-lang-switch')
            page.wait_for_load_state('load')
            parsed = urllib.parse.urlparse(page.url)
            if parsed.path != f'/{other}/{name}.html' or parsed.fragment != marker:
                problems.append(f'{lang}/{name}#{anchor}: the language switch went to {page.url}, '
                                f'not /{other}/{name}.html#{marker}')
            elif not page.evaluate(f"() => !!document.getElementById({marker!r})"):
                problems.append(f'{other}/{name}: no section {marker} to land on')


def check_search(page, base, problems, site):
    query = urllib.parse.quote(SEARCH_TERM)
    page.goto(f'{base}/zh/search.html?q={query}', wait_until='load')
    # Sphinx lists results one by one and writes the count into the summary when it is done
    page.wait_for_function("() => { const s = document.querySelector('#search-results "
                           "p.search-summary'); return s && /\\d/.test(s.textContent) && "
                           "document.querySelectorAll('#search-results li').length >= "
                           "parseInt(s.textContent.match(/\\d+/)[0]); }", timeout=60000)
    listed = set(page.evaluate(
        "() => [...document.querySelectorAll('#search-results li a')]"
        ".map(a => new URL(a.href).pathname)"))
    for name in toc_files():
        text = (ROOT / 'notebooks' / 'zh' / f'{name}.md').read_text(encoding='utf-8')
        if SEARCH_TERM in text.split('\n---\n', 1)[-1] and f'/zh/{name}.html' not in listed:
            problems.append(f'zh search for {SEARCH_TERM} does not list {name}')
    if not listed:
        problems.append(f'zh search for {SEARCH_TERM} lists nothing')


HEADER_BOX = """() => {
  const header = document.querySelector('.bd-header-article');
  const items = [...document.querySelectorAll('.header-article-items__end .btn, '
                 + '.header-article-items__end .d2l-header-links a')]
    .filter(e => e.offsetParent !== null);
  const h = header.getBoundingClientRect();
  const centers = items.map(e => { const r = e.getBoundingClientRect(); return (r.top + r.bottom) / 2; });
  const heights = items.map(e => e.getBoundingClientRect().height);
  const out = items.filter(e => { const r = e.getBoundingClientRect();
    return r.right > window.innerWidth + 0.5 || r.left < -0.5 || r.bottom > h.bottom + 1
           || r.top < h.top - 1; }).map(e => e.className);
  const spread = Math.max(...centers) - Math.min(...centers);
  return {out, rows: spread > 0.5 * Math.min(...heights) ? 2 : 1, n: items.length};
}"""


def check_header(browser, base, problems):
    for width in (1400, 400):
        context = browser.new_context(viewport={'width': width, 'height': 900})
        page = context.new_page()
        for lang in ('en', 'zh'):
            for name in HEADER_PAGES:
                page.goto(f'{base}/{lang}/{name}.html', wait_until='load')
                box = page.evaluate(HEADER_BOX)
                if box['out']:
                    problems.append(f'{lang}/{name} at {width} px: header items overflow: '
                                    f'{box["out"]}')
                if box['rows'] > 1:
                    problems.append(f'{lang}/{name} at {width} px: header items wrap onto '
                                    f'{box["rows"]} rows')
        context.close()


def main(args):
    site = pathlib.Path(args[0] if args else ROOT / '_build' / 'site').resolve()
    if not (site / 'en' / 'index.html').exists():
        print(f'no built site in {site}: run `make book` first')
        return 2
    from playwright.sync_api import sync_playwright
    problems = []
    with serve(site) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=['--no-sandbox'])
        page = browser.new_page()
        count = check_pages(page, base, problems)
        check_switch(browser.new_page(), base, problems)
        check_search(browser.new_page(), base, problems, site)
        check_header(browser, base, problems)
        browser.close()
    for p_ in problems:
        print('browser check:', p_)
    print(f'browser check: {count} pages loaded, {len(problems)} problem(s)')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
