"""The other half of ``convert.Converter``: run by a Python that has LibreOffice's UNO
bridge (LibreOffice's own Python on Windows and macOS, python3-uno's on Linux), which is
often not the Python auditdocs runs under; so this file imports nothing from auditdocs
and keeps to the Python that LibreOffice 7.x bundles (3.8).

    python uno_convert.py PIPE_NAME START_TIMEOUT_SECONDS [FOLDER]

Connects to the LibreOffice listening on the named pipe, says ``{"ready": true}`` on
stdout, then converts one file per line read on stdin (``{"in": path, "out": path, "kind": "doc"}``),
answering ``{"ok": true}`` or ``{"ok": false, "error": ...}`` on one line each.  When stdin
closes (auditdocs finished, or died), LibreOffice is asked to quit, and FOLDER (its profile
and temporary files) is removed once it has.  Documents are opened
without a window, read-only, with no macro run and no link updated.
"""

import contextlib
import json
import os
import shutil
import sys
import time

# Never import a module of this folder by accident (it is sys.path[0] when run as a script).
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]

import uno  # noqa: E402
from com.sun.star.beans import PropertyValue  # noqa: E402

NEVER_EXECUTE = 0  # com.sun.star.document.MacroExecMode.NEVER_EXECUTE
NO_UPDATE = 0  # com.sun.star.document.UpdateDocMode.NO_UPDATE
DOCX_FILTER = "MS Word 2007 XML"
FILTERS = {"doc": "MS Word 97", "odt": "writer8"}  # by the kind auditdocs found


def _prop(name, value):
    prop = PropertyValue()
    prop.Name, prop.Value = name, value
    return prop


def _connect(pipe, timeout):
    """LibreOffice's component context and desktop, once it listens on ``pipe``."""
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    url = "uno:pipe,name=" + pipe + ";urp;StarOffice.ComponentContext"
    deadline = time.monotonic() + timeout
    while True:
        try:
            ctx = resolver.resolve(url)
            return ctx, ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _options():
    return (
        _prop("ReadOnly", True),
        _prop("MacroExecutionMode", NEVER_EXECUTE),
        _prop("UpdateDocMode", NO_UPDATE),
    )


def _open(ctx, desktop, url, kind):
    """The document, loaded into a text document model with no window (so no layout: half
    the time of opening it in a hidden window, with the same .docx out, measured on 7.4);
    a file its kind's filter cannot read (a Word 6 or 95 .doc) is opened the usual way,
    its type detected."""
    doc = None
    try:
        doc = ctx.ServiceManager.createInstanceWithContext("com.sun.star.text.TextDocument", ctx)
        doc.load((*_options(), _prop("URL", url), _prop("FilterName", FILTERS[kind])))
        return doc
    except Exception:
        if doc is not None:
            with contextlib.suppress(Exception):
                doc.close(True)
        if not _alive(desktop):
            raise
    doc = desktop.loadComponentFromURL(url, "_blank", 0, (*_options(), _prop("Hidden", True)))
    if doc is None:
        raise ValueError("LibreOffice could not open the file")
    if not doc.supportsService("com.sun.star.text.TextDocument"):
        doc.close(True)
        raise ValueError("not a text document")
    return doc


def _convert(ctx, desktop, job):
    doc = _open(ctx, desktop, uno.systemPathToFileUrl(job["in"]), job["kind"])
    try:
        target = uno.systemPathToFileUrl(job["out"])
        doc.storeToURL(target, (_prop("FilterName", DOCX_FILTER), _prop("Overwrite", True)))
    finally:
        doc.close(True)


def _alive(desktop):
    try:
        desktop.getComponents()
    except Exception:
        return False
    return True


def _say(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def main(argv):
    ctx, desktop = _connect(argv[1], float(argv[2]))
    _say({"ready": True})
    for line in sys.stdin:
        job = json.loads(line)
        try:
            _convert(ctx, desktop, job)
        except Exception as exc:
            if not _alive(desktop):
                return 1  # LibreOffice died on this file: no answer says so
            # The exception's name only: a message could quote the document.
            _say({"ok": False, "error": type(exc).__name__})
        else:
            _say({"ok": True})
    with contextlib.suppress(Exception):  # LibreOffice going away closes the bridge: that is the aim
        desktop.terminate()
    if len(argv) > 3:
        _remove(argv[3])
    return 0


def _remove(folder, seconds=30.0):
    """Remove LibreOffice's folder once it has quit (it writes there as it quits; on Windows
    its files are locked until then).  auditdocs removes it itself when it closes the
    converter; this is for an owner that was killed (its stdin then closes)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(1.0)
        shutil.rmtree(folder, ignore_errors=True)
        if not os.path.exists(folder):
            time.sleep(1.0)  # anything written after? then once more
            shutil.rmtree(folder, ignore_errors=True)
            return


if __name__ == "__main__":
    sys.exit(main(sys.argv))
