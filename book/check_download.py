"""A downloaded notebook runs where d2lmini is not installed (as on Colab).

    python book/check_download.py [_build/site]

Creates a fresh virtual environment with what a notebook platform provides
(torch, numpy, matplotlib, pandas and a Jupyter kernel, pinned by
requirements.txt) but not d2lmini, and executes one page's downloaded .ipynb
there (quick profile). Its first cell must install d2lmini from the wheel
published with the site; the check fails unless the notebook runs to the end and
d2lmini ends up installed from that wheel. Takes a minute or two; CI runs it
after `make book`.
"""
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
PAGE = 'chapter_linear-regression/linear-regression-scratch'
PLATFORM = ['ipykernel', 'torch', 'numpy', 'matplotlib', 'pandas']


def main(args):
    site = pathlib.Path(args[0] if args else ROOT / '_build' / 'site').resolve()
    notebook = site / 'en' / '_notebooks' / f'{PAGE}.ipynb'
    wheels = list(site.glob('d2lmini-*.whl'))
    if not notebook.exists() or not wheels:
        print(f'no downloaded notebook or wheel in {site}: run `make book` first')
        return 2
    first = next(c for c in json.loads(notebook.read_text())['cells'] if c['cell_type'] == 'code')
    if wheels[0].name not in ''.join(first['source']):
        print(f'the first code cell of {notebook.name} does not install {wheels[0]}:\n'
              + ''.join(first['source']))
        return 1
    venv = ROOT / '_build' / 'download-venv'
    python = venv / 'bin' / 'python'
    if python.exists():  # keep the platform packages, start again without d2lmini
        subprocess.run([python, '-m', 'pip', 'uninstall', '-q', '-y', 'd2lmini'], check=True)
    else:
        subprocess.run([sys.executable, '-m', 'venv', venv], check=True)
    print(f'fresh environment {venv}: installing {", ".join(PLATFORM)} (no d2lmini)', flush=True)
    subprocess.run([python, '-m', 'pip', 'install', '-q', '--disable-pip-version-check',
                    '-c', ROOT / 'requirements.txt', *PLATFORM], check=True)
    outside = tempfile.gettempdir()  # not the repository root, where d2lmini/ is importable
    clean = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    if subprocess.run([python, '-c', 'import d2lmini'], capture_output=True,
                      cwd=outside, env=clean).returncode == 0:
        print('d2lmini is already importable in the fresh environment: the check would prove '
              'nothing')
        return 1
    with tempfile.TemporaryDirectory() as jupyter_path:
        spec = pathlib.Path(jupyter_path) / 'kernels' / 'fresh'
        spec.mkdir(parents=True)
        (spec / 'kernel.json').write_text(json.dumps({
            'argv': [str(python), '-m', 'ipykernel_launcher', '-f', '{connection_file}'],
            'display_name': 'fresh environment', 'language': 'python'}))
        env = dict(os.environ, JUPYTER_PATH=jupyter_path, D2LMINI_PROFILE='quick',
                   D2LMINI_BOARD='static')
        env.pop('PYTHONPATH', None)
        code = ('import nbformat, sys\nfrom nbclient import NotebookClient\n'
                f'nb = nbformat.read({str(notebook)!r}, as_version=4)\n'
                'for c in nb.cells:\n    c.outputs = [] if c.cell_type == "code" else None\n'
                '    c.pop("outputs") if c.cell_type != "code" else None\n'
                'NotebookClient(nb, kernel_name="fresh", timeout=600).execute()\n'
                'print("executed", sum(c.cell_type == "code" for c in nb.cells), "code cells")\n')
        with tempfile.TemporaryDirectory() as cwd:
            result = subprocess.run([sys.executable, '-c', code], env=env, cwd=cwd)
    if result.returncode:
        print(f'{notebook.name} failed in the fresh environment')
        return 1
    where = subprocess.run([python, '-c', 'import d2lmini; print(d2lmini.__file__)'],
                           capture_output=True, text=True, cwd=outside, env=clean)
    if where.returncode or str(venv) not in where.stdout:
        print(f'd2lmini was not installed into the fresh environment: {where.stdout}{where.stderr}')
        return 1
    print(f'download check: {PAGE}.ipynb ran in a fresh environment and installed '
          f'{wheels[0].name} ({where.stdout.strip()})')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
