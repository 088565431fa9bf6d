"""Text from files shown as it was written (Qt-free).

Qt takes a string that looks like HTML for HTML where a widget's format is AutoText (labels, message
boxes, tooltips), and pyqtgraph's titles and legends always do; HTML names pictures (``<img src>``)
that Qt then reads from disk, whatever file the name points to. Labels and message boxes showing
such text are set to ``Qt.TextFormat.PlainText``; the places that only take HTML get it escaped here.
"""

from __future__ import annotations

import html


def as_html(text: str) -> str:
    """``text`` as HTML that shows it verbatim (for pyqtgraph's titles and legend entries)."""
    return html.escape(text, quote=False)


def tooltip(text: str) -> str:
    """A tooltip that shows ``text`` verbatim. Text without ``<`` or ``&`` is plain to Qt already and is
    left as it is; other text is escaped, and marked as HTML (escaped text that Qt takes for plain text
    shows ``&amp;``), its line breaks kept."""
    if "<" not in text and "&" not in text:
        return text
    return f'<p style="white-space:pre-wrap">{as_html(text)}</p>'
