"""The check the tests run over every HTML page auditdocs writes (issue 17: WCAG 2.2 AA).

- axe-core (npm ``axe-core``, pinned in ``tests/axe`` and installed there by ``.ci/run``)
  in headless Chromium: no violation of the WCAG 2.0, 2.1 and 2.2 A and AA rules nor of
  axe's best practices, at desktop width (1280 px), at 320 px (1280 px at 400% zoom) and
  printed (print media emulated, so the print stylesheet's colours are checked).
- At 320 px the page itself never scrolls sideways (WCAG 1.4.10 reflow, which axe does not
  test): only a table or a chart scrolls, in a region of its own, and a chart is never shown
  below ``MIN_CHART_SCALE`` of its size, so its text stays readable.

Chromium is driven by its DevTools protocol over a pipe (``--remote-debugging-pipe``: JSON
messages ending in a NUL byte, read from descriptor 3, written to descriptor 4), with
Python's standard library only.  It is the lightest way that runs the system's Chromium
without the internet: Playwright downloads browsers of its own, puppeteer-core brings a
tree of npm packages and a WebSocket client would be one more dependency (Node 20 has no
WebSocket built in).  axe-core has no dependencies: its script is evaluated in the page.
"""

from __future__ import annotations

import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import lxml.html
import pytest

AXE = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
#: Every WCAG A and AA rule axe has, and its best practices (headings, landmarks, skip link).
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
#: How each page is looked at: (name, width in CSS px, media).
#: Printed: the width of A4 less the print stylesheet's margins (210 - 2 × 15 mm); a wide
#: table (class "wide") is printed on a landscape page (297 - 2 × 15 mm).
VIEWS = [("1280 px", 1280, "screen"), ("320 px", 320, "screen"), ("printed", 680, "print")]
LANDSCAPE = 1009
#: A chart's text is 9 pt at 110 dpi (about 14 px): at 64% it is still about 9 px.
MIN_CHART_SCALE = 0.64
TIMEOUT = 60.0

_RUN_AXE = """
axe.run(document, {runOnly: {type: "tag", values: %s}, resultTypes: ["violations"]}).then(r =>
  r.violations.map(v => ({id: v.id, help: v.help, nodes: v.nodes.map(n => n.target.join(" ") +
    ": " + (n.failureSummary || "").replace(/\\s+/g, " "))})))
"""
#: What axe does not look at: how wide the page is laid out, each chart's scale, what
#: scrolls or clips its content, and (printed) each text's contrast on white paper, as
#: browsers print no background colour unless asked to.
_LAYOUT = """(() => {
  const lum = rgb => rgb.map(v => v / 255).map(v => v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4)
    .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  const name = e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.className ? "." + e.className : "");
  const shown = e => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== "hidden";
  const all = [...document.querySelectorAll("body *")].filter(shown);
  const ink = [];
  for (const e of all) {
    const text = [...e.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent).join("").trim();
    if (!text) continue;
    let [r, g, b, a = 1] = getComputedStyle(e).color.match(/[\\d.]+/g).map(Number);
    for (let up = e; up; up = up.parentElement) a *= Number(getComputedStyle(up).opacity);
    const ratio = 1.05 / (lum([r, g, b].map(v => v * a + 255 * (1 - a))) + 0.05);
    if (ratio < 4.5) ink.push([name(e), text.slice(0, 40), ratio]);
  }
  const right = es => Math.max(0, ...es.map(e => Math.ceil(e.getBoundingClientRect().right)));
  return {
    page: document.documentElement.scrollWidth, viewport: window.innerWidth,
    portrait: right(all.filter(e => !e.closest(".wide"))),
    landscape: Math.max(0, ...[...document.querySelectorAll(".wide table")].map(e => Math.ceil(e.scrollWidth))),
    charts: [...document.querySelectorAll("figure img")].map(i =>
      [i.alt.slice(0, 60), i.getBoundingClientRect().width / i.naturalWidth]),
    scrolls: all.filter(e => getComputedStyle(e).overflowX !== "visible" && e.scrollWidth > e.clientWidth + 1)
      .map(e => [name(e), e.getAttribute("tabindex"), e.getAttribute("aria-labelledby")]),
    ink,
  };
})()"""


def needs_axe() -> None:
    """Skip (or fail, where CI sets AUDITDOCS_REQUIRE_VALIDATOR=1) without Chromium or axe-core."""
    missing = [
        what
        for what, ok in (("chromium", CHROMIUM is not None), ("axe-core (npm ci --prefix tests/axe)", AXE.is_file()))
        if not ok
    ]
    if os.name != "posix":
        missing.append("a POSIX system (Chromium's DevTools pipe is driven by descriptor numbers)")
    if missing:
        message = "the page check needs " + " and ".join(missing)
        if os.environ.get("AUDITDOCS_REQUIRE_VALIDATOR") == "1":
            pytest.fail(message + " but AUDITDOCS_REQUIRE_VALIDATOR=1")
        pytest.skip(message)


class Chromium:
    """A headless Chromium driven over its DevTools pipe: one page at a time."""

    def __init__(self, profile: Path) -> None:
        commands, self._commands = os.pipe()  # we write, Chromium reads its descriptor 3
        self._replies, replies = os.pipe()  # Chromium writes its descriptor 4, we read

        def descriptors() -> None:  # in the child: moved out of the way first, as 3 or 4 may be taken
            a, b = fcntl.fcntl(commands, fcntl.F_DUPFD, 10), fcntl.fcntl(replies, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)
            os.dup2(b, 4)

        assert CHROMIUM is not None
        self._proc = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--hide-scrollbars", "--remote-debugging-pipe", f"--user-data-dir={profile}", "about:blank"],
            pass_fds=(3, 4), preexec_fn=descriptors,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        os.close(commands)
        os.close(replies)
        self._buffer = b""
        self._events: list[dict[str, Any]] = []
        self._id = 0

    def close(self) -> None:
        os.close(self._commands)
        os.close(self._replies)
        self._proc.terminate()
        try:
            self._proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._replies], [], [], left)[0]:
                raise TimeoutError("Chromium did not answer")
            chunk = os.read(self._replies, 1 << 20)
            if not chunk:
                raise RuntimeError(f"Chromium closed its DevTools pipe (exit code {self._proc.poll()})")
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        return json.loads(message)

    def send(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        self._id += 1
        message: dict[str, Any] = {"id": self._id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        data = memoryview(json.dumps(message).encode() + b"\0")
        while data:
            data = data[os.write(self._commands, data) :]
        deadline = time.monotonic() + TIMEOUT
        while True:
            reply = self._message(deadline)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self._events.append(reply)

    def wait_for(self, method: str, session: str) -> None:
        deadline = time.monotonic() + TIMEOUT
        while True:
            for n, event in enumerate(self._events):
                if event.get("method") == method and event.get("sessionId") == session:
                    del self._events[: n + 1]
                    return
            self._events.append(self._message(deadline))

    def evaluate(self, session: str, expression: str) -> Any:
        result = self.send("Runtime.evaluate", session, expression=expression, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"the page's script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def open(self, url: str, width: int, media: str) -> tuple[str, str]:
        """A new tab of ``width`` CSS pixels showing ``url`` for ``media``, loaded: its target
        and session ids."""
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        session = self.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.send("Page.enable", session)
        self.send("Emulation.setDeviceMetricsOverride", session, width=width, height=900, deviceScaleFactor=1,
                  mobile=False)  # fmt: skip
        self.send("Emulation.setEmulatedMedia", session, media=media)
        self.send("Page.navigate", session, url=url)
        self.wait_for("Page.loadEventFired", session)
        return target, session


def page_problems(paths: list[Path]) -> dict[str, list[str]]:
    """Each page's problems in each view (axe violations, sideways scrolling at 320 px,
    charts shown too small), as lines; one Chromium for them all."""
    needs_axe()
    script = AXE.read_text(encoding="utf-8") + _RUN_AXE % json.dumps(TAGS)
    out: dict[str, list[str]] = {}
    with (
        tempfile.TemporaryDirectory(prefix="axe-", ignore_cleanup_errors=True) as profile,
        Chromium(Path(profile)) as chromium,
    ):
        for path in paths:
            lines = out.setdefault(str(path), [])
            for view, width, media in VIEWS:
                target, session = chromium.open(path.resolve().as_uri(), width, media)
                for v in chromium.evaluate(session, script):
                    lines.append(
                        f"{view}: {v['id']} ({v['help']}), {len(v['nodes'])} nodes: " + "; ".join(v["nodes"][:3])
                    )
                lines.extend(
                    f"{view}: {problem}" for problem in _layout_problems(chromium.evaluate(session, _LAYOUT), media)
                )
                chromium.send("Target.closeTarget", targetId=target)
    return out


def _layout_problems(layout: dict[str, Any], media: str) -> list[str]:
    out = []
    if media == "print":
        if layout["portrait"] > layout["viewport"]:
            out.append(f"the page is wider than the paper ({layout['portrait']} px in {layout['viewport']} px)")
        if layout["landscape"] > LANDSCAPE:
            out.append(f"a wide table is wider than a landscape page ({layout['landscape']} px in {LANDSCAPE} px)")
    elif layout["page"] > layout["viewport"]:
        out.append(f"the page scrolls sideways ({layout['page']} px in {layout['viewport']} px)")
    out.extend(
        f"chart '{alt}' shown at {scale:.0%} of its size" for alt, scale in layout["charts"] if scale < MIN_CHART_SCALE
    )
    if media == "print":
        out.extend(f"{element} is clipped when printed" for element, _tabindex, _label in layout["scrolls"])
        out.extend(
            f"{element} '{text}' prints at {ratio:.1f}:1 on white paper" for element, text, ratio in layout["ink"]
        )
    return out


def structure_problems(page: str) -> list[str]:
    """What a page's HTML lacks, read without a browser: one h1 and heading levels that
    never skip, each report after the first an h2 with its headings below it, a skip link
    to ``<main id="content">``, a named nav, row and column headers, each table and chart
    in a named region that takes the keyboard focus, and a print stylesheet."""
    root = lxml.html.document_fromstring(page)
    out = []
    headings = [(int(h.tag[1]), h.text_content()) for h in root.iter("h1", "h2", "h3", "h4", "h5", "h6")]
    if [level for level, _ in headings].count(1) != 1:
        out.append(f"{[level for level, _ in headings].count(1)} h1 headings, not one")
    previous = 0
    for level, text in headings:
        if level > previous + 1:
            out.append(f"h{level} '{text}' follows an h{previous}")
        previous = level
    for section in root.xpath("//section[contains(@class, 'doc')]")[1:]:
        levels = [(int(h.tag[1]), h.text_content()) for h in section.iter("h1", "h2", "h3", "h4", "h5", "h6")]
        if levels and levels[0][0] != 2:
            out.append(f"the report '{levels[0][1]}' after the first is not an h2")
        out.extend(f"h{level} '{text}' is not below its report's title" for level, text in levels[1:] if level <= 2)
    links = root.xpath("//body//a[@href]")
    if not links or links[0].get("href") != "#content" or len(root.xpath("//main[@id='content']")) != 1:
        out.append("no skip link first to a <main id='content'>")
    out.extend("a nav without aria-label" for nav in root.iter("nav") if not nav.get("aria-label"))
    for n, table in enumerate(root.iter("table"), 1):
        where = f"table {n} ('{table.findtext('caption') or ''}')"
        out.extend(f"{where}: {problem}" for problem in _region_problems(root, table.getparent()))
        if not (table.findtext("caption") or "").strip():
            out.append(f"{where}: no caption")
        if table.xpath("thead/tr/*[not(self::th) or not(@scope='col')]"):
            out.append(f"{where}: a header cell that is not a th with scope col")
        if table.xpath("tbody/tr[not(*[1][self::th][@scope='row'])]"):
            out.append(f"{where}: a row whose first cell is not a th with scope row")
    for n, image in enumerate(root.xpath("//figure//img"), 1):
        out.extend(
            f"chart {n} ('{image.get('alt')}'): {problem}" for problem in _region_problems(root, image.getparent())
        )
    if not any("@media print" in (style.text or "") for style in root.iter("style")):
        out.append("no print stylesheet")
    return out


def _region_problems(root: Any, region: Any) -> list[str]:
    """A scrolling region's: the role, the keyboard focus and a name."""
    if region.get("role") != "region" or region.get("tabindex") != "0" or "scroll" not in region.get("class", ""):
        return ["not in a scrolling region that takes the keyboard focus"]
    labels = region.get("aria-labelledby", "").split()
    name = region.get("aria-label") or " ".join(
        "".join(element.text_content() for element in root.xpath("//*[@id=$id]", id=label)) for label in labels
    )
    return [] if name.strip() else ["its region has no name"]


def check_pages(paths: list[Path]) -> None:
    """Fail with every problem of every page: its structure, then (in Chromium) axe,
    reflow, chart sizes and print."""
    assert paths, "no page to check"
    found = [f"{p.name}: {line}" for p in paths for line in structure_problems(p.read_text(encoding="utf-8"))]
    assert not found, f"{len(found)} problems in the pages' structure:\n" + "\n".join(found)
    problems = page_problems(paths)
    found = [f"{Path(p).name}: {line}" for p, lines in problems.items() for line in lines]
    assert not found, f"{len(found)} accessibility problems:\n" + "\n".join(found)


def pages(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.html") if p.is_file())
