"""The HTML page works for screen-reader, keyboard, zoomed and printed reading (issue 17,
WCAG 2.2 AA): one h1 and headings that nest (the quarter's bulletin an h2 with h3
sections), a skip link to ``<main>``, row headers, each table and chart in a named region
that scrolls sideways and takes the keyboard focus, and a print stylesheet.

The structure is read in plain Python; the page as a browser lays it out (axe-core, the
page never scrolling sideways at 320 px, charts at a readable size, black on white when
printed) in headless Chromium (``tests/axe_check.py``), over the page the issue found
wanting too, to show the check finds what was wrong.  The reports' own pages are checked
where they are written (``test_reports.py``, ``test_reports_cycle.py``, ``test_outputs.py``).
"""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import lxml.html
from PIL import Image

from auditdocs.reports.content import Chart, Document, Heading, Para, Table
from auditdocs.reports.html import CSS, render_html
from tests.axe_check import page_problems, structure_problems


def _png(width: int = 880, height: int = 440) -> bytes:
    """A chart's size (charts.py: 8 x 4 in at 110 dpi)."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), "#2b6cb0").save(out, "PNG")
    return out.getvalue()


def _quarterly() -> Document:
    doc = Document("quarterly", "Quarterly Audit Report: 2026Q4", "Audits allocated October to December 2026",
                   "October to December 2026", "Northbrook Borough Council", "Children's Social Care")  # fmt: skip
    doc.add(
        Heading("Highlights"),
        Para("30 audits allocated and 26 returned (87%).", "bullet"),
        Heading("Trends"),
        Heading("Good or better by domain", 2),
        Chart("Good or better by domain", _png(), "Line chart of the share of audits Good or better, by domain"),
        Table(
            ["Domain", "Oct 2026", "Nov 2026"],
            [["Assessments", "100%", "0%"], ["Plans", "0%", "50%"]],
            caption="Good or better by domain",
        ),
        Heading("Overdue audits"),
        Table(
            ["Audit", *[f"Column {n}" for n in range(11)]],
            [["2026-11-008", *["Requires Improvement"] * 11]],
            caption="Overdue audits",
        ),
        Table(["Audit", "Case"], [["2026-11-009", "NB-26119"]], caption="Overdue audits"),
        Para("https://example.invalid/" + "a-very-long-unbroken-reference" * 8, "quote"),
    )
    return doc


def _bulletin() -> Document:
    doc = Document("bulletin", "Learning from audits: 2026Q4", "A learning bulletin",
                   "October to December 2026", "Northbrook Borough Council", "Children's Social Care")  # fmt: skip
    doc.add(
        Para("From October to December 2026, 26 case file audits were returned."),
        Heading("Where practice is strongest"),
        Para("Reviews: 25 of 25 audits Good or better (100%).", "bullet"),
        Heading("Themes", 2),
        Table(["Theme", "Audits"], [["direction with dates", "25"]]),
        Heading("What to do next"),
    )
    return doc


def _tree(page: str) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(page)


def _headings(page: str) -> list[tuple[str, str]]:
    return [(h.tag, h.text_content()) for h in _tree(page).iter("h1", "h2", "h3", "h4", "h5", "h6")]


def test_a_report_alone_and_with_its_bulletin_pass_the_structure_check() -> None:
    assert structure_problems(render_html(_quarterly())) == []
    assert structure_problems(render_html(_quarterly(), _bulletin())) == []
    assert structure_problems(render_html(_bulletin())) == []


def test_the_bulletin_after_the_report_is_an_h2_with_h3_sections() -> None:
    assert _headings(render_html(_quarterly(), _bulletin())) == [
        ("h1", "Quarterly Audit Report: 2026Q4"),
        ("h2", "Highlights"),
        ("h2", "Trends"),
        ("h3", "Good or better by domain"),
        ("h2", "Overdue audits"),
        ("h2", "Learning from audits: 2026Q4"),
        ("h3", "Where practice is strongest"),
        ("h4", "Themes"),
        ("h3", "What to do next"),
    ]
    alone = _headings(render_html(_bulletin()))
    assert alone[:3] == [
        ("h1", "Learning from audits: 2026Q4"),
        ("h2", "Where practice is strongest"),
        ("h3", "Themes"),
    ]


def test_a_heading_never_skips_a_level() -> None:
    """A report whose first heading is a subsection: it is one level below the title."""
    doc = _bulletin()
    doc.blocks.insert(0, Heading("Themes first", 2))
    assert _headings(render_html(doc))[1] == ("h2", "Themes first")
    assert _headings(render_html(_quarterly(), doc))[6] == ("h3", "Themes first")


def test_every_row_has_a_row_header_and_every_column_a_column_header() -> None:
    table = _tree(render_html(_quarterly())).xpath("//table[caption='Good or better by domain']")[0]
    assert [(c.tag, c.get("scope")) for c in table.xpath("thead/tr/*")] == [("th", "col")] * 3
    for row, name in zip(table.xpath("tbody/tr"), ["Assessments", "Plans"], strict=True):
        assert [(c.tag, c.get("scope")) for c in row] == [("th", "row"), ("td", None), ("td", None)]
        assert row[0].text_content() == name


def test_tables_and_charts_scroll_in_named_regions_that_take_the_focus() -> None:
    root = _tree(render_html(_quarterly(), _bulletin()))
    regions = root.xpath("//*[@role='region']")
    assert regions and all(r.get("tabindex") == "0" and "scroll" in r.get("class") for r in regions)
    assert all(r.getparent().tag == "figure" for r in regions if r.find("img") is not None)

    def name(region: lxml.html.HtmlElement) -> str:
        if region.get("aria-labelledby"):
            return root.get_element_by_id(region.get("aria-labelledby")).text_content()
        return region.get("aria-label")

    names = [name(r) for r in regions]
    # a chart and the table beside it share a title; two tables a caption; the bulletin's
    # table has none (named by its section); every region's name is its own
    assert names == ["Chart: Good or better by domain", "Good or better by domain", "Overdue audits",
                     "Overdue audits (2)", "Themes"]  # fmt: skip
    table = regions[1]
    assert table.find("table/caption").get("id") == table.get("aria-labelledby")


def test_a_skip_link_leads_to_main_and_the_nav_is_named() -> None:
    root = _tree(render_html(_quarterly(), _bulletin()))
    body = root.find("body")
    assert body[0].tag == "a" and body[0].get("href") == "#content" and body[0].text == "Skip to content"
    assert [m.get("id") for m in root.iter("main")] == ["content"]
    assert [n.get("aria-label") for n in root.iter("nav")] == ["Reports on this page"]
    assert root.find(".//header").getparent() is body  # the banner landmark, not inside main
    assert root.get("lang") == "en-GB"


def test_the_print_stylesheet_prints_black_on_white_without_clipping() -> None:
    narrow = CSS[CSS.index("@media (max-width:600px)") :]
    assert "header{padding:12px}" in narrow and "main{padding:8px 12px 32px}" in narrow
    printed = CSS[CSS.index("@media print") :]
    assert "header{background:none;color:#000" in printed  # the title and the marking, 21:1 on paper
    assert ".scroll{overflow:visible}" in printed  # the tables' regions do not clip them
    assert "figure img{min-width:0;max-width:100%}" in printed
    assert re.search(r"figure,tr,blockquote,li\{break-inside:avoid}", printed)
    assert "break-after:avoid" in printed and ".skip,nav{display:none}" in printed


#: The page as it was before issue 17, in short: no skip link, the tables and charts in
#: the page's flow, first cells as td, the bulletin's sections beside its title, white on
#: dark blue in the header and no print stylesheet.
OLD_PAGE = (
    """<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8"><title>Quarterly Audit Report</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>
body{font-family:Arial,sans-serif;margin:0}header{background:#1f3a5f;color:#fff;padding:18px 32px}
main{padding:8px 32px 40px}figure{display:inline-block;padding:8px}figure img{max-width:100%;display:block}
th,td{border:1px solid #a0aec0;padding:4px 8px}</style></head><body>
<header><h1>Quarterly Audit Report</h1><p>OFFICIAL – SENSITIVE</p></header><nav><a href="#bulletin">Bulletin</a></nav>
<main><section class="doc"><h2>Trends</h2><figure><img src="data:image/png;base64,PNG" alt="Good or better by domain">
<figcaption>Good or better by domain</figcaption></figure><table><caption>Overdue audits</caption>
<thead><tr>HEAD</tr></thead><tbody><tr>ROW</tr></tbody></table></section><section class="doc" id="bulletin">
<h2>Learning from audits</h2><h2>Where practice is strongest</h2><p>Reviews.</p></section></main></body></html>
""".replace("PNG", base64.b64encode(_png()).decode())
    .replace("HEAD", "".join(f'<th scope="col">Management {n}</th>' for n in range(12)))
    .replace("ROW", "<td>Requires Improvement</td>" * 12)
)


def test_the_structure_check_finds_what_the_old_page_lacked() -> None:
    assert structure_problems(OLD_PAGE) == [
        "h2 'Where practice is strongest' is not below its report's title",
        "no skip link first to a <main id='content'>",
        "a nav without aria-label",
        "table 1 ('Overdue audits'): not in a scrolling region that takes the keyboard focus",
        "table 1 ('Overdue audits'): a row whose first cell is not a th with scope row",
        "chart 1 ('Good or better by domain'): not in a scrolling region that takes the keyboard focus",
        "no print stylesheet",
    ]


def test_in_chromium_the_old_page_fails_and_the_new_one_passes(tmp_path: Path) -> None:
    old, new = tmp_path / "old.html", tmp_path / "new.html"
    old.write_text(OLD_PAGE, encoding="utf-8")
    new.write_text(render_html(_quarterly(), _bulletin()), encoding="utf-8")
    problems = page_problems([old, new])
    assert problems[str(new)] == []
    found = "\n".join(problems[str(old)])
    assert re.search(r"^320 px: the page scrolls sideways \(\d+ px in 320 px\)$", found, re.M), found
    assert re.search(r"^320 px: chart 'Good or better by domain' shown at [12]\d% of its size$", found, re.M), found
    assert re.search(r"^printed: the page is wider than the paper", found, re.M), found
    assert "printed: h1 'Quarterly Audit Report' prints at 1.0:1 on white paper" in found
    assert "printed: p 'OFFICIAL – SENSITIVE' prints at 1.0:1 on white paper" in found
