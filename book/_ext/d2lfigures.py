"""The ``d2l-figure`` directive: a diagram from book/figures, drawn for the page's language.

    ```{d2l-figure} conv-correlation
    :name: fig-conv-correlation
    Caption text (one paragraph, in the page's language).
    ```

The SVG is inlined into the HTML page, so its colours follow the theme's light
and dark modes (book/_static/d2l.css) and its text uses the page's fonts. The
figure is numbered and can be referenced with ``{numref}`fig-conv-correlation```.
"""
import pathlib
import sys

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util.docutils import SphinxDirective

BOOK = pathlib.Path(__file__).resolve().parents[1]
if str(BOOK) not in sys.path:
    sys.path.insert(0, str(BOOK))
import figures  # noqa: E402


class D2lFigure(SphinxDirective):
    required_arguments = 1
    has_content = True
    option_spec = {'name': directives.unchanged, 'width': directives.unchanged}

    def run(self):
        name = self.arguments[0]
        lang = self.config.d2l_language
        if not self.content:
            raise self.error(f'd2l-figure {name}: a caption is required')
        caption_text = ' '.join(line.strip() for line in self.content)
        try:
            markup = figures.render(name, lang, title=caption_text)
        except (KeyError, TypeError, ValueError) as e:
            raise self.error(f'd2l-figure {name}: {e}')
        figure = nodes.figure(classes=['d2l-figure'])
        style = f' style="max-width:{self.options["width"]}"' if 'width' in self.options else ''
        figure += nodes.raw('', f'<div class="d2l-figure-svg"{style}>{markup}</div>',
                            format='html')
        parsed = nodes.Element()
        self.state.nested_parse(self.content, self.content_offset, parsed)
        paragraph = parsed[0] if parsed.children else None
        if len(parsed.children) != 1 or not isinstance(paragraph, nodes.paragraph):
            raise self.error(f'd2l-figure {name}: the caption must be one paragraph')
        caption = nodes.caption(paragraph.rawsource, '', *paragraph.children)
        caption.source, caption.line = self.get_source_info()
        figure += caption
        self.add_name(figure)
        return [figure]


def setup(app):
    app.add_directive('d2l-figure', D2lFigure)
    return {'parallel_read_safe': True, 'parallel_write_safe': True}
