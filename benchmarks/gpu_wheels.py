"""Download the wheels that benchmarks/gpu.sh installs on a GPU machine without internet.

    python benchmarks/gpu_wheels.py                 # Python 3.12, x86-64 Linux, into .whl/
    python benchmarks/gpu_wheels.py --python 3.11 --dest /tmp/whl311   # for a local dry run

The GPU machine has Python with torch, torchvision, numpy, pandas, matplotlib and
pytest, but no Jupyter stack. Storing runs (book/outputs.py) needs nbclient,
ipykernel, jupytext and nbformat; d2l 1.0.3's torch module imports IPython,
matplotlib_inline and requests. This fetches those at the versions of the book's
environment (requirements.txt where it pins them) with their dependencies, plus
d2l 1.0.3 itself without its dependencies (it pins numpy 1.23 and pandas 2.0,
which must not replace the machine's). Packages the machine already has are
left out, and one version of each package is kept.
"""
import argparse
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
WANTED = ['nbclient==0.11.0', 'ipykernel==7.4.0', 'jupytext==1.19.6', 'nbformat==5.11.1',
          'ipython==9.18.1', 'matplotlib-inline==0.2.2', 'requests==2.34.2']
NO_DEPS = ['d2l==1.0.3']
# Already on the GPU machine (and their own dependencies): never shadow them.
BASE = {'torch', 'torchvision', 'numpy', 'pandas', 'matplotlib', 'pytest', 'pillow', 'pluggy',
        'iniconfig', 'contourpy', 'cycler', 'fonttools', 'kiwisolver', 'pyparsing',
        'python_dateutil', 'six', 'packaging', 'typing_extensions', 'tzdata', 'pytz',
        'filelock', 'sympy', 'mpmath', 'networkx', 'jinja2', 'markupsafe', 'fsspec', 'setuptools'}
PLATFORMS = ['manylinux_2_28_x86_64', 'manylinux_2_27_x86_64', 'manylinux_2_17_x86_64',
             'manylinux2014_x86_64', 'manylinux1_x86_64']


def project(wheel):
    """The normalized project name of a wheel file."""
    return re.sub(r'[-_.]+', '_', wheel.name.split('-')[0]).lower()


def download(specs, dest, python, deps):
    cmd = [sys.executable, '-m', 'pip', 'download', '--only-binary=:all:', '--python-version',
           python, '--implementation', 'cp', '-d', str(dest), '--disable-pip-version-check']
    for p in PLATFORMS:
        cmd += ['--platform', p]
    if not deps:
        cmd.append('--no-deps')
    subprocess.run(cmd + specs, check=True)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--python', default='3.12')
    parser.add_argument('--dest', default=str(ROOT / '.whl'))
    args = parser.parse_args(argv)
    dest = pathlib.Path(args.dest)
    dest.mkdir(parents=True, exist_ok=True)
    download(WANTED, dest, args.python, deps=True)
    download(NO_DEPS, dest, args.python, deps=False)
    seen = {}
    for wheel in sorted(dest.glob('*.whl')):
        name = project(wheel)
        if name in BASE:
            wheel.unlink()
            continue
        if name in seen:
            raise SystemExit(f'two versions of {name}: {seen[name].name} and {wheel.name}; '
                             'delete one (the GPU machine refuses to install both)')
        seen[name] = wheel
    size = sum(w.stat().st_size for w in seen.values())
    print(f'{len(seen)} wheels, {size / 2**20:.1f} MiB in {dest}: '
          + ', '.join(sorted(seen)))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
