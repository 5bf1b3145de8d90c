"""Join hard-wrapped lines of Chinese prose (a line break inside a Chinese paragraph
renders as a stray space on the site).

    python book/zhwrap.py            # list the zh pages that have wrapped paragraphs
    python book/zhwrap.py --fix      # rewrite them, one line per paragraph / list item
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / 'tests'))
from notebook_tools import NOTEBOOKS, _is_cjk, prose_lines  # noqa: E402

_BLOCK_START = re.compile(r'\s*([-*+]\s|\d+[.)]\s|#|:[\w-]+:|<|\{|\$\$|>)')


def _joiner(a, b):
    """What goes between two joined lines: nothing next to Chinese text, else a space."""
    last, first = a.rstrip('*_`)]'), b.lstrip('*_`[(')
    if last and first and _is_cjk(last[-1]) and (_is_cjk(first[0]) or last[-1] in _CJK_PUNCT):
        return ''
    return ' '


_CJK_PUNCT = '。，；：！？、）」』”’》】'


def join_paragraphs(text):
    """``text`` with each Chinese paragraph and list item on one line."""
    lines = text.split('\n')
    prose = dict(prose_lines(text))
    out = []
    for i, line in enumerate(lines):
        prev = out[-1] if out else ''
        if (i in prose and i - 1 in prose and line.strip() and prev.strip()
                and not _BLOCK_START.match(line) and not prev.rstrip().endswith('  ')
                and any(_is_cjk(c) for c in prev + line)):
            a, b = prev.rstrip(), line.strip()
            out[-1] = a + _joiner(a, b) + b
        else:
            out.append(line)
    return '\n'.join(out)


def main(args):
    fix = '--fix' in args
    changed = []
    for path in sorted((NOTEBOOKS / 'zh').rglob('*.md')):
        text = path.read_text(encoding='utf-8')
        joined = join_paragraphs(text)
        if joined != text:
            changed.append(path.relative_to(ROOT))
            if fix:
                path.write_text(joined, encoding='utf-8')
    verb = 'rewrote' if fix else 'would rewrite'
    print(f'{verb} {len(changed)} page(s)' + ''.join(f'\n  {p}' for p in changed))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
