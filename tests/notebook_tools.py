"""Reading the book's notebooks and table of contents, for the tests and the build."""
import pathlib

import jupytext
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / 'notebooks'
LANGUAGES = ('en', 'zh')


def notebook_paths(lang):
    """Relative paths of every page of one language tree."""
    tree = NOTEBOOKS / lang
    return sorted(p.relative_to(tree).as_posix() for p in tree.rglob('*.md'))


def code_cells(path):
    """The code cells of a MyST notebook as (source, tags) pairs."""
    nb = jupytext.read(path)
    return [(cell.source, list(cell.metadata.get('tags', [])))
            for cell in nb.cells if cell.cell_type == 'code']


def raw_code_blocks(path):
    """The literal ```{code-cell} blocks of a file, byte for byte."""
    blocks, current = [], None
    for line in pathlib.Path(path).read_text(encoding='utf-8').splitlines(keepends=True):
        if current is None and line.startswith('```{code-cell}'):
            current = [line]
        elif current is not None:
            current.append(line)
            if line.rstrip('\n') == '```':
                blocks.append(''.join(current))
                current = None
    return blocks


def toc_files():
    """Every file named in _toc.yml (without extension)."""
    toc = yaml.safe_load((ROOT / '_toc.yml').read_text(encoding='utf-8'))
    found = [toc['root']]

    def walk(entries):
        for entry in entries or []:
            if 'file' in entry:
                found.append(entry['file'])
            walk(entry.get('sections'))
            walk(entry.get('chapters'))
    for part in toc.get('parts', []):
        walk(part.get('chapters'))
    walk(toc.get('chapters'))
    return found
