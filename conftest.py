"""Lets ``pytest --nbval-lax notebooks/`` run the book's MyST-markdown notebooks.

nbval only collects ``.ipynb`` files; here ``.md`` notebooks (those with a
jupytext header) are read through jupytext and handed to nbval unchanged. The
kernels inherit this process's environment, so the profile and board settings
below reach every notebook.
"""
import os

import jupytext
import nbformat
import nbval.plugin

os.environ.setdefault('D2LMINI_BOARD', 'static')
if 'D2LMINI_PROFILE' not in os.environ:
    from d2lmini.profiles import suite_profile
    os.environ['D2LMINI_PROFILE'] = suite_profile()


class _NbformatWithMyst:
    """nbformat, except that ``read`` also understands MyST-markdown notebooks."""
    def __getattr__(self, name):
        return getattr(nbformat, name)

    def read(self, path, as_version=4):
        if str(path).endswith('.md'):
            return jupytext.read(path)
        return nbformat.read(path, as_version=as_version)


nbval.plugin.nbformat = _NbformatWithMyst()


def _is_myst_notebook(path):
    with open(path, encoding='utf-8') as f:
        head = f.read(400)
    return head.startswith('---') and 'jupytext:' in head


def pytest_collect_file(file_path, parent):
    opt = parent.config.option
    if ((opt.nbval or opt.nbval_lax) and file_path.suffix == '.md'
            and 'notebooks' in file_path.parts and _is_myst_notebook(file_path)):
        return nbval.plugin.IPyNbFile.from_parent(parent, path=file_path)
