"""What the Makefile's targets run, inside the project's virtual environment.

    python book/make.py test                  # unit tests + parity + nbval over every notebook
    python book/make.py book                  # both sites into _build/site/{en,zh}
    python book/make.py outputs [PAGE ...]    # store full-profile runs for the site
    python book/make.py serve [PORT]          # serve _build/site on localhost
    python book/make.py run NB [-p name value ...]   # papermill run of one notebook

Profile of `test` and `book`: D2LMINI_PROFILE if set, else ``full`` when a CUDA
GPU is visible and ``quick`` otherwise. `run` and `outputs` are a reader's runs:
full unless D2LMINI_PROFILE says otherwise (`outputs` is always full). Files that
notebooks write go to _build/outputs.

The test command executes each notebook once: only the English tree (the
Chinese code cells are identical, which tests/test_parity.py checks), and it
keeps each executed notebook under _build/executed/ for the book build, which
then executes nothing that the tests already ran.
"""
import os
import pathlib
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
BUILD = ROOT / '_build'
LANGS = {'en': '_config.yml', 'zh': '_config.zh.yml'}
BIN = pathlib.Path(sys.executable).parent


def notebook_env(default_profile=None):
    env = dict(os.environ)
    if not env.get('D2LMINI_PROFILE'):
        from d2lmini.profiles import suite_profile
        env['D2LMINI_PROFILE'] = default_profile or suite_profile()
    env.setdefault('D2LMINI_BOARD', 'static')
    env.setdefault('D2LMINI_BUILD', str(BUILD / 'outputs'))
    env.pop('MPLBACKEND', None)  # notebooks must keep the inline backend
    return env


def run(cmd, env):
    print('+ ' + ' '.join(map(str, cmd)), flush=True)
    return subprocess.call([str(c) for c in cmd], cwd=ROOT, env=env)


def test(args):
    env = notebook_env()
    workers = env.get('D2LMINI_TEST_WORKERS', '2')
    print(f'profile: {env["D2LMINI_PROFILE"]}', flush=True)
    cmd = [sys.executable, '-m', 'pytest', 'tests', 'notebooks/en', '--nbval-lax',
           '--nbval-current-env', '-p', 'no:cacheprovider', '-q', '-rs']  # -rs: say why a test skipped
    if workers != '1':
        cmd += ['-n', workers, '--dist', 'loadfile']
        # One thread per kernel: parallel notebooks each using every core make
        # small tensor ops many times slower (measured 10x on 2 cores).
        env.setdefault('OMP_NUM_THREADS', '1')
    return run(cmd + list(args), env)


def book(args):
    env = notebook_env()
    print(f'profile: {env["D2LMINI_PROFILE"]}', flush=True)
    stale = run([sys.executable, 'book/glossary.py', '--check'], env)
    if stale:
        return stale
    site = BUILD / 'site'
    wheel = build_wheel(env)
    if wheel is None:
        return 1
    for lang, config in LANGS.items():  # one after the other: they share _build/executed
        out = BUILD / lang
        shutil.rmtree(out, ignore_errors=True)  # fresh output: no hidden old warnings
        status = run([BIN / 'jupyter-book', 'build', f'notebooks/{lang}', '--config', config,
                      '--toc', ROOT / '_toc.yml', '--path-output', out, '-W', '--keep-going'],
                     env)
        if status:
            print(f'the {lang} site failed to build (see the warnings above)')
            return status
    shutil.rmtree(site, ignore_errors=True)
    for lang in LANGS:
        shutil.copytree(BUILD / lang / '_build' / 'html', site / lang)
    shutil.copy2(wheel, site / wheel.name)  # what downloaded notebooks install
    shutil.copy2(ROOT / 'book' / '_static' / 'favicon.svg', site / 'favicon.svg')
    write_favicon_ico(site / 'favicon.ico')
    (site / 'index.html').write_text(
        '<!DOCTYPE html><meta charset="utf-8"><title>Dive into Deep Learning</title>'
        '<link rel="icon" href="favicon.svg" type="image/svg+xml">'
        '<meta http-equiv="refresh" content="0; url=en/index.html">'
        '<a href="en/index.html">English</a> | <a href="zh/index.html">中文</a>\n',
        encoding='utf-8')
    status = run([sys.executable, 'book/check_site.py', site], env)
    if status == 0:
        print(f'\nThe book is built. Open {site / "en" / "index.html"} '
              f'(中文: {site / "zh" / "index.html"}), or run `make serve` and visit '
              'http://localhost:8000/en/')
    return status


def build_wheel(env):
    """d2lmini's wheel, published with the site for the downloaded notebooks to install."""
    out = BUILD / 'wheel'
    shutil.rmtree(out, ignore_errors=True)
    if run([sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--disable-pip-version-check',
            '-q', '-w', out, ROOT], env):
        print('building the d2lmini wheel failed')
        return None
    (wheel,) = out.glob('d2lmini-*.whl')
    return wheel


def write_favicon_ico(path):
    """A 32x32 favicon.ico at the site root (browsers ask for /favicon.ico)."""
    from PIL import Image, ImageDraw
    img = Image.new('RGBA', (32, 32), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    draw.rounded_rectangle((0, 0, 31, 31), radius=6, fill=(30, 64, 175, 255))
    draw.text((5, 9), 'd2l', fill=(255, 255, 255, 255))
    img.save(path, sizes=[(32, 32)])


def outputs(args):
    env = notebook_env('full')
    env['D2LMINI_PROFILE'] = 'full'
    return run([sys.executable, 'book/outputs.py', *args], env)


def serve(args):
    port = args[0] if args else '8000'
    site = BUILD / 'site'
    if not site.exists():
        print('no site yet: run `make book` first')
        return 1
    print(f'serving {site} at http://localhost:{port}/en/ (Ctrl-C to stop)')
    return run([sys.executable, '-m', 'http.server', port, '--bind', '127.0.0.1',
                '--directory', site], os.environ)


def run_notebook(args):
    if not args or not args[0]:
        print('usage: make run NB=notebooks/en/<chapter>/<section>.md ARGS="-p name value"')
        return 2
    source = (ROOT / args[0]).resolve()
    if not source.is_file():
        print(f'no such notebook: {args[0]}')
        return 2
    rel = source.relative_to(ROOT / 'notebooks').with_suffix('')
    target = BUILD / 'run' / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    env = notebook_env('full')  # a reader's run: the full training unless told otherwise
    print(f'profile: {env["D2LMINI_PROFILE"]} (set D2LMINI_PROFILE=quick for a shortened run)',
          flush=True)
    status = run([BIN / 'jupytext', '--to', 'ipynb', '--output', f'{target}.ipynb', source], env)
    if status:
        return status
    return run([BIN / 'papermill', f'{target}.ipynb', f'{target}.out.ipynb',
                '--cwd', source.parent, '--kernel', 'python3', *args[1:]], env)


COMMANDS = {'test': test, 'book': book, 'outputs': outputs, 'serve': serve,
            'run': run_notebook}

if __name__ == '__main__':
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        print(__doc__)
        sys.exit(2)
    sys.exit(COMMANDS[sys.argv[1]](sys.argv[2:]))
