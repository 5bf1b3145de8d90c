"""The book's diagrams: one Python function per figure, drawn with :mod:`svg`.

A figure is registered with ``@figure('name')`` in one of the ``chNN_*.py``
modules of this folder and used in a page with the ``d2l-figure`` directive::

    ```{d2l-figure} conv-correlation
    :name: fig-conv-correlation
    Caption in the page's language.
    ```

The function receives ``t(english, chinese)``, which returns the label for the
language being built, and returns a :class:`svg.Fig`. See book/AUTHORING.md.

    python book/figures/__init__.py OUTDIR   # write every figure, both languages, as SVG files
"""
import importlib
import pathlib
import sys

if __name__ == '__main__':  # run as a script: use the package, not this copy of it
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
    import figures
    sys.exit(figures.main(sys.argv[1:]))

from .svg import Fig, measure  # noqa: E402,F401

FIGURES = {}
LANGUAGES = ('en', 'zh')


def figure(name):
    """Register the decorated drawing function under ``name``."""
    def register(func):
        if name in FIGURES:
            raise ValueError(f'figure {name!r} is defined twice '
                             f'({FIGURES[name].__module__} and {func.__module__})')
        FIGURES[name] = func
        return func
    return register


def _load_all():
    for path in sorted(pathlib.Path(__file__).parent.glob('ch*.py')):
        importlib.import_module(f'{__package__}.{path.stem}')


def translator(lang):
    if lang not in LANGUAGES:
        raise ValueError(f'unknown language {lang!r}; use one of {LANGUAGES}')
    index = LANGUAGES.index(lang)

    def t(*labels):
        if len(labels) != len(LANGUAGES):
            raise TypeError(f't() takes one label per language {LANGUAGES}, got {labels!r}')
        return labels[index]
    return t


def render(name, lang, title=None, standalone=False):
    """The SVG markup of figure ``name`` in language ``lang``."""
    if name not in FIGURES:
        raise KeyError(f'no figure named {name!r}; defined: {", ".join(sorted(FIGURES))}. '
                       'Add it to a book/figures/chNN_*.py module with @figure(...)')
    fig = FIGURES[name](translator(lang))
    if not isinstance(fig, Fig):
        raise TypeError(f'figure {name!r} must return a Fig, not {type(fig).__name__}')
    return fig.svg(title or name, standalone=standalone)


def main(args):
    out = pathlib.Path(args[0] if args else '_build/figures')
    for lang in LANGUAGES:
        (out / lang).mkdir(parents=True, exist_ok=True)
        for name in sorted(FIGURES):
            (out / lang / f'{name}.svg').write_text(render(name, lang, standalone=True),
                                                   encoding='utf-8')
    print(f'{len(FIGURES)} figures x {len(LANGUAGES)} languages written to {out}')
    return 0


_load_all()
