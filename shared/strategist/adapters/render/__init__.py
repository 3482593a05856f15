"""Report rendering: hand-written SVG charts, the HTML document (Jinja2, autoescaped) and its PDF (WeasyPrint).

WeasyPrint is imported only by ``pdf`` (it needs pango at run time); ``svg`` and ``html`` are pure Python."""
