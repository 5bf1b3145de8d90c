"""A small SVG drawing kit for the book's diagrams.

Every diagram of the book is a Python function that draws on a :class:`Fig`
(boxes, circles, arrows, text, number grids) with coordinates in pixels. Text
goes through ``t(english, chinese)`` so that one drawing serves both sites, each
with labels in its own language. Colours are CSS classes whose values come from
CSS variables, so the theme's light and dark modes both apply when the SVG is
inlined in a page; every variable has a light-mode fallback, so a standalone
SVG (the .ipynb downloads) looks right too.

Text markup: ``x_1``/``x_{ij}`` subscripts, ``W^{(1)}`` superscripts; a label
that starts with ``$`` is set in italic serif, like a variable in an equation
(``'$x_1'``). Nothing here needs more than the Python standard library.
"""
import html
import math
import re

# class -> (CSS property, variable, light fallback). Dark values live in book/_static/d2l.css.
PALETTE = {
    'ink': '#1f2328', 'muted': '#656d76', 'paper': '#ffffff',
    'fill0': '#f3f4f6', 'fill1': '#dbeafe', 'fill2': '#fef3c7',
    'fill3': '#dcfce7', 'fill4': '#fce7f3', 'fill5': '#ede9fe',
    'hl': '#fdba74', 'accent': '#2563eb', 'warn': '#dc2626',
}

STYLE = ''.join(
    [f'.d2lf-s-{k}{{stroke:var(--d2lf-{k},{v})}}' for k, v in PALETTE.items()]
    + [f'.d2lf-f-{k}{{fill:var(--d2lf-{k},{v})}}' for k, v in PALETTE.items()]
    + ['.d2lf text{font-family:inherit;dominant-baseline:central}',
       '.d2lf .d2lf-math{font-family:"Times New Roman",Times,serif;font-style:italic}'])

_CJK = re.compile(r'[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]')


def measure(label, size=13):
    """Approximate width in pixels of ``label`` set at ``size`` px (CJK glyphs are square)."""
    plain = re.sub(r'(?<!\\)[_^]\{([^}]*)\}|(?<!\\)[_^](\S)', lambda m: m.group(1) or m.group(2),
                   label).replace('\\_', '_').replace('\\^', '^')
    plain = plain.lstrip('$')
    width = 0.0
    for ch in plain:
        if _CJK.match(ch):
            width += 1.0
        elif ch in 'il.,:;|!\'()[]':
            width += 0.3
        elif ch.isupper() or ch in 'mwMW':
            width += 0.68
        else:
            width += 0.55
    return width * size


def _tspans(label, size):
    """SVG markup of a label with _sub and ^sup parts turned into shifted tspans
    (``\\_`` and ``\\^`` stand for a literal underscore or caret, as in code names)."""
    out, pos = [], 0
    for m in re.finditer(r'(?<!\\)([_^])(\{([^}]*)\}|(\S))', label):
        out.append(_literal(label[pos:m.start()]))
        part = m.group(3) if m.group(3) is not None else m.group(4)
        shift = 0.3 if m.group(1) == '_' else -0.4
        small = round(size * 0.72, 1)
        out.append(f'<tspan dy="{shift * size:.1f}" font-size="{small}">{html.escape(part)}</tspan>'
                   f'<tspan dy="{-shift * size:.1f}">\u200b</tspan>')
        pos = m.end()
    out.append(_literal(label[pos:]))
    return ''.join(out)


def _literal(text):
    return html.escape(text.replace('\\_', '_').replace('\\^', '^'))


class Fig:
    """A drawing of ``width`` x ``height`` pixels."""
    def __init__(self, width, height):
        self.width, self.height = width, height
        self.items = []

    # -- primitives ---------------------------------------------------------
    def rect(self, x, y, w, h, fill='fill0', stroke='ink', rx=4, width=1.2, dashed=False,
             opacity=None):
        extra = ' stroke-dasharray="5 3"' if dashed else ''
        if opacity is not None:
            extra += f' fill-opacity="{opacity}"'
        self.items.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" rx="{rx}" '
            f'class="{self._cls(fill, stroke)}" stroke-width="{width}"{extra}/>')

    def circle(self, cx, cy, r, fill='fill0', stroke='ink', width=1.2, dashed=False):
        extra = ' stroke-dasharray="4 3"' if dashed else ''
        self.items.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{r}" '
                          f'class="{self._cls(fill, stroke)}" stroke-width="{width}"{extra}/>')

    def line(self, x1, y1, x2, y2, color='ink', width=1.2, arrow=False, dashed=False):
        """A straight line, with an arrow head at (x2, y2) if ``arrow``."""
        self.path(f'M{x1:.1f},{y1:.1f} L{x2:.1f},{y2:.1f}', color=color, width=width,
                  arrow=arrow, dashed=dashed)

    def arrow(self, x1, y1, x2, y2, color='ink', width=1.2, dashed=False, gap=0):
        """An arrow from (x1, y1) to (x2, y2), both ends pulled in by ``gap`` pixels."""
        if gap:
            d = math.hypot(x2 - x1, y2 - y1) or 1
            ux, uy = (x2 - x1) / d, (y2 - y1) / d
            x1, y1, x2, y2 = x1 + gap * ux, y1 + gap * uy, x2 - gap * ux, y2 - gap * uy
        self.line(x1, y1, x2, y2, color=color, width=width, arrow=True, dashed=dashed)

    def path(self, d, color='ink', width=1.2, arrow=False, dashed=False, fill=None):
        extra = ' stroke-dasharray="5 3"' if dashed else ''
        if arrow:
            self.items.append(('head', d, color, width))
        fill_cls = f' d2lf-f-{fill}' if fill else ''
        fill_attr = '' if fill else ' fill="none"'
        self.items.append(f'<path d="{d}" class="d2lf-s-{color}{fill_cls}"{fill_attr} '
                          f'stroke-width="{width}" stroke-linejoin="round"{extra}/>')

    def text(self, x, y, label, size=13, anchor='middle', color='ink', bold=False, math=None):
        """``label`` at (x, y); y is the vertical centre of the text."""
        if math is None:
            math = label.startswith('$')
        label = label.lstrip('$')
        cls = f'd2lf-f-{color}' + (' d2lf-math' if math else '')
        weight = ' font-weight="bold"' if bold else ''
        self.items.append(f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" '
                          f'text-anchor="{anchor}" class="{cls}"{weight}>'
                          f'{_tspans(label, size)}</text>')

    # -- composites ---------------------------------------------------------
    def box(self, x, y, w, h, label=None, fill='fill0', size=13, sub=None, **kwargs):
        """A rounded box with a centred label (and an optional smaller second line)."""
        self.rect(x, y, w, h, fill=fill, **kwargs)
        if label is not None:
            if sub is None:
                self.text(x + w / 2, y + h / 2, label, size=size)
            else:
                self.text(x + w / 2, y + h / 2 - size * 0.55, label, size=size)
                self.text(x + w / 2, y + h / 2 + size * 0.65, sub, size=size * 0.8,
                          color='muted')

    def node(self, cx, cy, label=None, r=16, fill='fill1', size=13, **kwargs):
        """A neuron: a circle with a label inside."""
        self.circle(cx, cy, r, fill=fill, **kwargs)
        if label is not None:
            self.text(cx, cy, label, size=size)

    def op(self, cx, cy, kind='add', r=10):
        """A circled elementwise operation: ``'add'`` (a plus), ``'mul'`` (a dot), or any
        other string written inside the circle (e.g. ``'1-'``)."""
        self.circle(cx, cy, r, fill='paper')
        if kind == 'add':
            self.line(cx - r + 4, cy, cx + r - 4, cy)
            self.line(cx, cy - r + 4, cx, cy + r - 4)
        elif kind == 'mul':
            self.circle(cx, cy, 2.2, fill='ink', stroke=None)
        else:
            self.text(cx, cy, kind, size=11)

    def connect(self, a, b, r=16, **kwargs):
        """An arrow between the rims of two nodes of radius ``r`` centred at ``a`` and ``b``."""
        self.arrow(*a, *b, gap=r + 1, **kwargs)

    def matrix(self, x, y, values, cell=26, fill='fill0', highlight=(), hl_fill='hl', size=12,
               fmt='{:g}'):
        """A grid of numbers with its top-left corner at (x, y); ``highlight`` lists (i, j)."""
        highlight = set(highlight)
        for i, row in enumerate(values):
            for j, v in enumerate(row):
                f = hl_fill if (i, j) in highlight else fill
                self.rect(x + j * cell, y + i * cell, cell, cell, fill=f, rx=0, width=1)
                if v is not None and v != '':
                    label = v if isinstance(v, str) else fmt.format(v)
                    self.text(x + (j + 0.5) * cell, y + (i + 0.5) * cell, label, size=size)
        return len(values[0]) * cell, len(values) * cell

    def brace_label(self, x1, x2, y, label, size=12, color='muted'):
        """A thin bracket from x1 to x2 at height y with a label under it."""
        self.path(f'M{x1:.1f},{y - 4:.1f} L{x1:.1f},{y:.1f} L{x2:.1f},{y:.1f} L{x2:.1f},{y - 4:.1f}',
                  color=color, width=1)
        self.text((x1 + x2) / 2, y + size * 0.9, label, size=size, color=color)

    # -- output -------------------------------------------------------------
    @staticmethod
    def _cls(fill, stroke):
        parts = []
        parts.append(f'd2lf-f-{fill}' if fill else '')
        parts.append(f'd2lf-s-{stroke}' if stroke else '')
        return ' '.join(p for p in parts if p) + ('' if fill else '" fill="none')

    def _head(self, d, color, width):
        nums = [float(v) for v in re.findall(r'-?\d+(?:\.\d+)?', d)]
        (x1, y1), (x2, y2) = nums[-4:-2], nums[-2:]
        angle = math.atan2(y2 - y1, x2 - x1)
        size = 5 + 2 * width
        pts = [(x2, y2)]
        for da in (2.7, -2.7):
            pts.append((x2 + size * math.cos(angle + da), y2 + size * math.sin(angle + da)))
        coords = ' '.join(f'{px:.1f},{py:.1f}' for px, py in pts)
        return f'<polygon points="{coords}" class="d2lf-f-{color}"/>'

    def svg(self, title, standalone=False):
        """The SVG markup. Inline (default) it inherits the page's font and colours."""
        body = [self._head(*item[1:]) if isinstance(item, tuple) else item for item in self.items]
        # arrow heads go last so that they sit on top of the boxes they point at
        heads = [b for b, item in zip(body, self.items) if isinstance(item, tuple)]
        rest = [b for b, item in zip(body, self.items) if not isinstance(item, tuple)]
        attrs = (f'viewBox="0 0 {self.width} {self.height}" width="{self.width}" '
                 f'height="{self.height}" class="d2lf" role="img"')
        if standalone:
            attrs = 'xmlns="http://www.w3.org/2000/svg" ' + attrs + \
                ' font-family="Helvetica,Arial,\'Noto Sans CJK SC\',\'Microsoft YaHei\',sans-serif"'
        background = (f'<rect width="{self.width}" height="{self.height}" '
                      'class="d2lf-f-paper"/>' if standalone else '')
        return (f'<svg {attrs}><title>{html.escape(title)}</title><style>{STYLE}</style>'
                f'{background}{"".join(rest)}{"".join(heads)}</svg>')
