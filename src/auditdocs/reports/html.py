"""The report as one self-contained HTML page: inline CSS, charts as base64 PNG, no
script, nothing fetched (a Content-Security-Policy forbids it too).  Every text is
HTML-escaped, so evidence holding ``<script>`` shows as text and never runs."""

from __future__ import annotations

import base64
from html import escape

from auditdocs.reports.content import Chart, Document, Heading, Para, Table

CSS = """
body{font-family:Arial,Helvetica,sans-serif;margin:0;color:#1a202c;background:#f7fafc}
header{background:#1f3a5f;color:#fff;padding:18px 32px}
header h1{margin:0;font-size:24px}header p{margin:4px 0 0;opacity:.85}
nav{padding:8px 32px;background:#e2e8f0;font-size:13px}nav a{margin-right:14px;color:#1f3a5f}
main{padding:8px 32px 40px;max-width:1180px}
section.doc{margin-bottom:40px}
h2{color:#1f3a5f;border-bottom:2px solid #cbd5e0;padding-bottom:4px;margin-top:28px}
h3{color:#2c5282}
figure{margin:12px 0;background:#fff;border:1px solid #e2e8f0;padding:8px;display:inline-block}
figure img{max-width:100%;height:auto;display:block}figcaption{font-size:12px;color:#4a5568}
table{border-collapse:collapse;background:#fff;margin:8px 0 16px;font-size:13px}
caption{text-align:left;font-size:12px;color:#2c5282;padding:4px 0}
th{background:#dce6f1;text-align:left}th,td{border:1px solid #a0aec0;padding:4px 8px;vertical-align:top}
blockquote{margin:6px 0 6px 12px;padding:4px 12px;border-left:4px solid #90cdf4;font-style:italic;background:#fff}
.note{font-size:12px;color:#4a5568;font-style:italic}
ul{margin:6px 0}
"""
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def _blocks(doc: Document) -> list[str]:
    out: list[str] = []
    bullets: list[str] = []

    def flush() -> None:
        if bullets:
            out.append("<ul>" + "".join(f"<li>{b}</li>" for b in bullets) + "</ul>")
            bullets.clear()

    for block in doc.blocks:
        if isinstance(block, Para) and block.style == "bullet":
            bullets.append(escape(block.text))
            continue
        flush()
        if isinstance(block, Heading):
            tag = "h2" if block.level == 1 else "h3"
            out.append(f"<{tag}>{escape(block.text)}</{tag}>")
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
                f'<figure><img src="data:image/png;base64,{data}" alt="{escape(block.alt)}">'
                f"<figcaption>{escape(block.title)}</figcaption></figure>"
            )
        elif isinstance(block, Table):
            if not block.rows:
                out.append(f'<p class="note">{escape(block.empty)}</p>')
                continue
            head = "".join(f'<th scope="col">{escape(h)}</th>' for h in block.header)
            body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in block.rows)
            out.append(
                f"<table><caption>{escape(block.caption)}</caption><thead><tr>{head}</tr></thead>"
                f"<tbody>{body}</tbody></table>"
            )
    flush()
    return out


def render_html(*docs: Document) -> str:
    """One page holding one or more reports (the quarterly report and its bulletin)."""
    first = docs[0]
    nav = "".join(f'<a href="#{d.kind}">{escape(d.title)}</a>' for d in docs) if len(docs) > 1 else ""
    sections = "".join(
        f'<section class="doc" id="{escape(d.kind)}">'
        + ("" if d is first else f"<h2>{escape(d.title)}</h2><p>{escape(d.subtitle)}</p>")
        + "".join(_blocks(d))
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
        f"<header><h1>{escape(first.title)}</h1>"
        f"<p>{escape(first.organisation)} · {escape(first.service)} · {escape(first.subtitle)}</p>"
        f"<p>OFFICIAL – SENSITIVE</p></header>"
        + (f"<nav>{nav}</nav>" if nav else "")
        + f"<main>{sections}</main></body></html>\n"
    )
