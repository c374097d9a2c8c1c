"""The report as one self-contained HTML page: inline CSS, charts as base64 PNG, no
script, nothing fetched (a Content-Security-Policy forbids it too).  Every text is
HTML-escaped, so evidence holding ``<script>`` shows as text and never runs.

The page meets WCAG 2.2 AA (issue 17; axe-core checks it in CI, ``tests/axe_check.py``):
one h1, heading levels that never skip (a report after the first, the quarter's bulletin,
is an h2 with its sections one level down), a skip link to ``<main>``, row headers, each
table and chart in a region of its own that scrolls sideways and takes the keyboard
focus, so at 320 px (400% zoom) only it scrolls, never the page, and a chart is never
shrunk below about 9 px text; printed, it is black on white and nothing is clipped.
"""

from __future__ import annotations

import base64
from html import escape

from auditdocs.reports.content import Chart, Document, Heading, Para, Table

#: A chart is 880 px wide with 9 pt text at 110 dpi (about 14 px); it is never shown
#: narrower than this (text about 9 px): on a narrow screen it scrolls in its region.
CHART_MIN_WIDTH = 576
#: A table of this many columns or more is printed on a landscape page of its own.
WIDE_COLUMNS = 10
CSS = """
body{font-family:Arial,Helvetica,sans-serif;margin:0;color:#1a202c;background:#f7fafc;overflow-wrap:break-word}
.skip{position:absolute;left:8px;top:-60px;z-index:1;padding:8px 12px;background:#fff;color:#1f3a5f;
border:2px solid #1f3a5f;font-weight:bold}
.skip:focus{top:8px}
a:focus-visible,.scroll:focus-visible{outline:3px solid #1f3a5f;outline-offset:2px}
header{background:#1f3a5f;color:#fff;padding:18px 32px}
header h1{margin:0;font-size:24px}header p{margin:4px 0 0;color:#e2e8f0}header .marking{color:#fff;font-weight:bold}
nav{padding:8px 32px;background:#e2e8f0;font-size:13px}
nav a{display:inline-block;padding:6px 0;margin-right:14px;color:#1f3a5f}
main{display:block;padding:8px 32px 40px;max-width:1180px}
section.doc{margin-bottom:40px}
h2{color:#1f3a5f;border-bottom:2px solid #cbd5e0;padding-bottom:4px;margin-top:28px}
h3,h4{color:#2c5282}
.scroll{overflow-x:auto;max-width:100%}
figure{margin:12px 0;background:#fff;border:1px solid #e2e8f0;padding:8px;max-width:FIGURE_WIDTHpx;
box-sizing:border-box}
figure img{display:block;width:100%;min-width:CHART_MIN_WIDTHpx;height:auto}
figcaption{font-size:12px;color:#4a5568;margin-top:4px}
.table{margin:8px 0 16px}
table{border-collapse:collapse;background:#fff;font-size:13px}
caption{text-align:left;font-size:12px;color:#2c5282;padding:4px 0}
th{background:#dce6f1;text-align:left}tbody th{background:#f1f5f9}
th,td{border:1px solid #a0aec0;padding:4px 8px;vertical-align:top}
blockquote{margin:6px 0 6px 12px;padding:4px 12px;border-left:4px solid #90cdf4;font-style:italic;background:#fff}
.note{font-size:12px;color:#4a5568;font-style:italic}
ul{margin:6px 0}
@media (max-width:600px){header{padding:12px}nav{padding:6px 12px}main{padding:8px 12px 32px}
header h1{font-size:21px}blockquote{margin-left:0}}
@media print{
@page{size:A4;margin:15mm}@page wide{size:A4 landscape}.wide{page:wide}
body{background:#fff;color:#000;font-size:10pt}
.skip,nav{display:none}
header{background:none;color:#000;padding:0 0 6px;border-bottom:2px solid #000}
header p,header .marking,h2,h3,h4,caption,figcaption,.note{color:#000}
main{padding:0;max-width:none}
h2,h3,h4{break-after:avoid}
.scroll{overflow:visible}
figure{border:0;padding:0;max-width:100%}
figure img{min-width:0;max-width:100%}
table{width:100%;font-size:8pt}th,td{padding:2px 4px;border-color:#000}
th,tbody th{background:none}
figure,tr,blockquote,li{break-inside:avoid}
}
""".replace("FIGURE_WIDTH", str(880 + 2 * 8 + 2)).replace("CHART_MIN_WIDTH", str(CHART_MIN_WIDTH))
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def _region(label: str, names: set[str], caption: str = "") -> str:
    """The attributes of a region that scrolls sideways and takes the keyboard focus, named
    by its ``caption`` (an id) or else ``label``; a name already on the page gets a number."""
    name, k = label, 1
    while name in names:
        k += 1
        name = f"{label} ({k})"
    names.add(name)
    named = f'aria-labelledby="{caption}"' if caption and name == label else f'aria-label="{escape(name)}"'
    return f'role="region" tabindex="0" {named}'


def _blocks(doc: Document, top: int, ids: str, names: set[str]) -> list[str]:
    """The document's blocks; its title is an h``top``, its headings of level 1 one below."""
    out: list[str] = []
    bullets: list[str] = []
    level = top
    title = doc.title

    def flush() -> None:
        if bullets:
            out.append("<ul>" + "".join(f"<li>{b}</li>" for b in bullets) + "</ul>")
            bullets.clear()

    for n, block in enumerate(doc.blocks):
        if isinstance(block, Para) and block.style == "bullet":
            bullets.append(escape(block.text))
            continue
        flush()
        if isinstance(block, Heading):
            level = min(top + block.level, level + 1, 6)  # never a level skipped
            title = block.text
            out.append(f"<h{level}>{escape(block.text)}</h{level}>")
        elif isinstance(block, Para):
            if block.style == "quote":
                out.append(f"<blockquote>{escape(block.text)}</blockquote>")
            elif block.style == "note":
                out.append(f'<p class="note">{escape(block.text)}</p>')
            else:
                out.append(f"<p>{escape(block.text)}</p>")
        elif isinstance(block, Chart):
            data = base64.b64encode(block.png).decode("ascii")
            out.append(
                f'<figure><div class="scroll" {_region(f"Chart: {block.title}", names)}>'
                f'<img src="data:image/png;base64,{data}" alt="{escape(block.alt)}"></div>'
                f"<figcaption>{escape(block.title)}</figcaption></figure>"
            )
        elif isinstance(block, Table):
            if not block.rows:
                out.append(f'<p class="note">{escape(block.empty)}</p>')
                continue
            head = "".join(f'<th scope="col">{escape(h)}</th>' for h in block.header)
            body = "".join(
                f'<tr><th scope="row">{escape(row[0])}</th>'
                + "".join(f"<td>{escape(c)}</td>" for c in row[1:])
                + "</tr>"
                for row in block.rows
            )
            caption = block.caption or title
            out.append(
                f'<div class="table scroll{" wide" if len(block.header) >= WIDE_COLUMNS else ""}" '
                f"{_region(caption, names, f'{ids}-{n}')}>"
                f'<table><caption id="{ids}-{n}">{escape(caption)}</caption>'
                f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
            )
    flush()
    return out


def render_html(*docs: Document) -> str:
    """One page holding one or more reports (the quarterly report and its bulletin): the
    first report's title is the page's h1, each later report an h2 of its own."""
    first = docs[0]
    nav = "".join(f'<a href="#{escape(d.kind)}">{escape(d.title)}</a>' for d in docs) if len(docs) > 1 else ""
    names: set[str] = set()
    sections = "".join(
        f'<section class="doc" id="{escape(d.kind)}">'
        + ("" if d is first else f"<h2>{escape(d.title)}</h2><p>{escape(d.subtitle)}</p>")
        + "".join(_blocks(d, 1 if d is first else 2, escape(d.kind), names))
        + "</section>"
        for d in docs
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en-GB"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{escape(first.title)}</title><style>{CSS}</style></head><body>"
        '<a class="skip" href="#content">Skip to content</a>'
        f"<header><h1>{escape(first.title)}</h1>"
        f"<p>{escape(first.organisation)} · {escape(first.service)} · {escape(first.subtitle)}</p>"
        f'<p class="marking">OFFICIAL – SENSITIVE</p></header>'
        + (f'<nav aria-label="Reports on this page">{nav}</nav>' if nav else "")
        + f'<main id="content">{sections}</main></body></html>\n'
    )
