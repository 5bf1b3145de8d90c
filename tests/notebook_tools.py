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


_CJK = ('\u2e80-\u9fff', '\uf900-\ufaff', '\uff00-\uffef', '\u3000-\u303f')


def _is_cjk(ch):
    return any(lo <= ch <= hi for lo, hi in (r.split('-') for r in _CJK))


def prose_lines(text):
    """(index, line) of the lines of a MyST page that are prose: not front matter,
    code or directive fences, display math or tables."""
    lines = text.split('\n')
    out, fence, in_math, start = [], None, False, 0
    if lines and lines[0] == '---':
        start = lines.index('---', 1) + 1
    for i in range(start, len(lines)):
        line = lines[i]
        stripped = line.strip()
        if fence is not None:
            if stripped == fence:
                fence = None
            continue
        if stripped.startswith('```') or stripped.startswith(':::'):
            marker = stripped[:3]
            # directives whose body is prose (admonitions) stay prose
            if marker == ':::' or stripped.startswith('```{d2l-figure}'):
                continue
            fence = stripped[:len(stripped) - len(stripped.lstrip(marker[0]))]
            continue
        if in_math:
            in_math = '$$' not in stripped
            continue
        if stripped.startswith('$$'):
            in_math = '$$' not in stripped[2:]
            continue
        if stripped.startswith('|'):
            continue
        out.append((i, line))
    return out


def cjk_line_breaks(text):
    """Line numbers (1-based) where a prose line ends and the next begins with a CJK character."""
    prose = prose_lines(text)
    found = []
    for (i, line), (j, nxt) in zip(prose, prose[1:]):
        a, b = line.rstrip(), nxt.strip()
        if j == i + 1 and a and b and _is_cjk(a[-1]) and _is_cjk(b[0]):
            found.append(i + 1)
    return found
