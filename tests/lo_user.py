#!/usr/bin/python3
"""Fill forms in LibreOffice Writer as a user would, through UNO, and save them.

Run with the SYSTEM python (the one with Debian's python3-uno), not the project's:

    /usr/bin/python3 tests/lo_user.py JOBS.json      # or: ... < JOBS.json
    /usr/bin/python3 tests/lo_user.py --list FORM.docx   # print the fields LibreOffice sees

One headless soffice (own profile dir, own pipe) is started for all jobs and
terminated at the end.  Standard library + uno only.  Prints one JSON line per job.

Job file: a JSON list of jobs, or {"jobs": [...]}.  A job:

    {"name": "audit-1",                       # optional, echoed back
     "input": "/path/form.docx",
     "actions": [ACTION, ...],
     "outputs": ["/tmp/out.docx", "/tmp/out.odt", "/tmp/out.doc",
                 {"path": "/tmp/x.bin", "filter": "MS Word 2007 XML"}],
     "list": true}                             # optional: include the field inventory

Filters by extension: .docx "MS Word 2007 XML", .odt "writer8", .doc "MS Word 97".

How a field is named ("field" of an action).  LibreOffice 7.4 drops w:tag and
w:alias on import, and turns the fields of an auditdocs form into two kinds of object:
  * content controls (SwXContentControl): checkboxes, drop-downs, date pickers, and
    the locked plain case-detail controls; they keep the data binding xpath;
  * input fields (text field "Input"): every plain-text (w:text) control and every
    block-level rich-text control (evidence, summary...): the field's content is the
    text shown (the placeholder at first).
Both are numbered in document order (body, tables cell by cell, row-major), as the
document was when opened (an overtyped field keeps its number).  A field:
    {"control": N}            the N-th content control (0-based)
    {"input": N}              the N-th input field (0-based)
    {"kind": K, "nth": N}     the N-th of a kind: checkbox | list | date | plain | input
    {"binding": N}            the content control bound to /ad:form[1]/ad:values[1]/ad:v[N]
                              (N = 1-based position in the form's manifest)
    {"shows": TEXT, "nth": N} the N-th control or input field showing TEXT when opened
                              (a placeholder, e.g. "Action"; input fields of block-level
                              controls end with "\r", ignored: compared stripped)
Run with --list (or "list": true) to see the inventory with these numbers.

Actions (each as a person does it in Writer 7.4):
    {"field": F, "do": "tick"}            click a checkbox that is unticked
    {"field": F, "do": "untick"}          click a checkbox that is ticked
    {"field": F, "do": "choose", "item": "Good"}   pick from the drop-down (display text or value)
    {"field": F, "do": "pick_date", "date": "2026-12-18"}   pick a day in the date popup
    {"field": F, "do": "type", "text": "18/12/2026"}        click in, type (replaces the placeholder
                                                             or the whole content)
    {"field": F, "do": "type", "lines": ["a", "b"], "break": "line" | "para"}
        Typed with the keyboard after clicking into the field and selecting what it shows;
        between lines Shift+Enter (.uno:InsertLinebreak) or Enter (.uno:InsertPara).
        Input fields are edited in place in 7.4; inside one, either key adds "\n" to
        the field's content (a field holds no paragraphs).
    {"field": F, "do": "dialog", "lines": [...]}
        Input field only: the Edit Fields dialog (double-click / Ctrl+Shift+F9), which
        stores the lines joined with "\n".
    {"field": F, "do": "overtype", "lines": [...], "break": ...}
        Select the input field (or control) and type over it: the field itself is replaced
        by typed text (what happens when someone selects the grey field and types).

How it is done: the view cursor is put on the control's content (as a click on a
placeholder selects it), text goes in through the dispatcher (.uno:InsertText,
.uno:InsertLinebreak, .uno:InsertPara).  Checkbox, drop-down and date picker do what
SwWrtShell::GotoContentControl does when the control is clicked / an item or day is
picked: set Checked / ShowingPlaceHolder / CurrentDate on the control and replace its
content with the new state glyph, item display text or the date formatted with the
control's own DateFormat and DateLanguage (LibreOffice's number formatter).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

import uno
from com.sun.star.beans import PropertyValue
from com.sun.star.lang import Locale

FILTERS = {".docx": "MS Word 2007 XML", ".odt": "writer8", ".doc": "MS Word 97"}


def prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


# --- soffice ---------------------------------------------------------------------------


class Office:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="lo_user_")
        self.pipe = f"lo_user_{os.getpid()}"
        self.proc = None
        self.desktop = None
        self.ctx = None

    def start(self, timeout=90):
        t0 = time.time()
        profile = uno.systemPathToFileUrl(os.path.join(self.dir, "profile"))
        self.proc = subprocess.Popen(
            [
                shutil.which("soffice") or "soffice",
                "--headless",
                "--invisible",
                "--nologo",
                "--norestore",
                "--nodefault",
                "--nolockcheck",
                "-env:UserInstallation=" + profile,
                f"--accept=pipe,name={self.pipe};urp;StarOffice.ComponentContext",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
        url = f"uno:pipe,name={self.pipe};urp;StarOffice.ComponentContext"
        while True:
            try:
                self.ctx = resolver.resolve(url)
                break
            except Exception:
                if self.proc.poll() is not None or time.time() - t0 > timeout:
                    raise RuntimeError(f"soffice did not start (exit {self.proc.poll()})")
                time.sleep(0.25)
        smgr = self.ctx.ServiceManager
        self.desktop = smgr.createInstanceWithContext("com.sun.star.frame.Desktop", self.ctx)
        self.dispatcher = smgr.createInstanceWithContext("com.sun.star.frame.DispatchHelper", self.ctx)
        return time.time() - t0

    def stop(self):
        try:
            if self.desktop is not None:
                self.desktop.terminate()
        except Exception:
            pass  # the bridge goes down as soffice exits
        if self.proc is not None:
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


# --- the document's fields -------------------------------------------------------------


def _kind(cc):
    if cc.Checkbox:
        return "checkbox"
    if cc.Date:
        return "date"
    if len(cc.ListItems):
        return "list"
    return "plain"


def inventory(doc):
    """Content controls and input fields in document order."""
    out = []

    def walk(text, where):
        en = text.createEnumeration()
        while en.hasMoreElements():
            par = en.nextElement()
            if par.supportsService("com.sun.star.text.TextTable"):
                for cell in par.getCellNames():
                    walk(par.getCellByName(cell), f"{par.getName()}:{cell}")
                continue
            if not par.supportsService("com.sun.star.text.Paragraph"):
                continue
            pe = par.createEnumeration()
            while pe.hasMoreElements():
                por = pe.nextElement()
                kind = por.TextPortionType
                if kind == "ContentControl":
                    cc = por.ContentControl
                    out.append(
                        {
                            "type": "control",
                            "kind": _kind(cc),
                            "obj": cc,
                            "where": where,
                            "shows": cc.getAnchor().getString(),
                            "binding": cc.DataBindingXpath,
                            "placeholder": bool(cc.ShowingPlaceHolder),
                        }
                    )
                elif kind == "TextField":
                    f = por.TextField
                    if f.supportsService("com.sun.star.text.TextField.Input"):
                        out.append({"type": "input", "kind": "input", "obj": f, "where": where, "shows": f.Content})

    walk(doc.Text, "body")
    n = {"control": 0, "input": 0}
    for e in out:
        e["n"] = n[e["type"]]
        n[e["type"]] += 1
    return out


def public(e):
    return {k: v for k, v in e.items() if k != "obj"}


def resolve(items, ref):
    def only(cands, nth=0):
        if len(cands) <= nth:
            raise LookupError(f"no field {json.dumps(ref)}")
        return cands[nth]

    if "control" in ref:
        return only([e for e in items if e["type"] == "control"], ref["control"])
    if "input" in ref:
        return only([e for e in items if e["type"] == "input"], ref["input"])
    if "binding" in ref:
        suffix = f"/ad:v[{int(ref['binding'])}]"
        return only([e for e in items if e.get("binding", "").endswith(suffix)])
    if "kind" in ref:
        return only([e for e in items if e["kind"] == ref["kind"]], ref.get("nth", 0))
    if "shows" in ref:
        want = ref["shows"].strip()
        return only([e for e in items if e["shows"].strip() == want], ref.get("nth", 0))
    raise LookupError(f"cannot read field reference {json.dumps(ref)}")


# --- user actions --------------------------------------------------------------------------


class Writer:
    def __init__(self, office, doc):
        self.office, self.doc = office, doc
        self.controller = doc.getCurrentController()
        self.frame = self.controller.getFrame()
        self.vc = self.controller.getViewCursor()

    def uno(self, command, **args):
        self.office.dispatcher.executeDispatch(
            self.frame, ".uno:" + command, "", 0, tuple(prop(k, v) for k, v in args.items())
        )

    def select(self, rng):
        """The view cursor over a range (a click on a placeholder selects it all)."""
        self.vc.gotoRange(rng.getStart(), False)
        self.vc.gotoRange(rng.getEnd(), True)

    def type_lines(self, lines, brk):
        for i, line in enumerate(lines):
            if i:
                self.uno("InsertPara" if brk == "para" else "InsertLinebreak")
            if line:
                self.uno("InsertText", Text=line)

    def format_date(self, cc, iso):
        """The date as the control shows a picked date: its DateFormat in its language,
        through LibreOffice's number formatter (as SwContentControl::GetDateString)."""
        y, m, d = (int(x) for x in iso[:10].split("-"))
        lang = cc.DateLanguage or "en-US"
        parts = lang.split("-")
        loc = Locale(parts[0], parts[1] if len(parts) > 1 else "", "")
        formats = self.doc.getNumberFormats()
        fmt = cc.DateFormat or "YYYY-MM-DD"
        key = formats.queryKey(fmt, loc, False)
        if key == -1:
            key = formats.addNew(fmt, loc)
        smgr = self.office.ctx.ServiceManager
        formatter = smgr.createInstanceWithContext("com.sun.star.util.NumberFormatter", self.office.ctx)
        formatter.attachNumberFormatsSupplier(self.doc)
        import datetime

        serial = (datetime.date(y, m, d) - datetime.date(1899, 12, 30)).days
        return formatter.convertNumberToString(key, float(serial))

    def act(self, items, action):
        e = resolve(items, action["field"])
        do = action["do"]
        obj = e["obj"]
        lines = action.get("lines")
        if lines is None and "text" in action:
            lines = [action["text"]]
        if e["type"] == "control":
            content = obj.getAnchor()
            if do in ("tick", "untick", "toggle"):
                if e["kind"] != "checkbox":
                    raise ValueError("not a checkbox: {}".format(e["kind"]))
                want = {"tick": True, "untick": False}.get(do, not obj.Checked)
                if bool(obj.Checked) == want:
                    raise ValueError("checkbox already %s" % ("ticked" if want else "unticked"))
                self.select(content)
                obj.Checked = want
                self.uno("InsertText", Text=obj.CheckedState if want else obj.UncheckedState)
            elif do == "choose":
                if e["kind"] != "list":
                    raise ValueError("not a drop-down: {}".format(e["kind"]))
                items_ = [{p.Name: p.Value for p in it} for it in obj.ListItems]
                match = [i for i in items_ if action["item"] in (i.get("DisplayText"), i.get("Value"))]
                if not match:
                    raise ValueError(
                        "no item {!r} in {}".format(action["item"], [i.get("DisplayText") for i in items_])
                    )
                self.select(content)
                obj.ShowingPlaceHolder = False
                self.uno("InsertText", Text=match[0].get("DisplayText") or match[0].get("Value"))
            elif do == "pick_date":
                if e["kind"] != "date":
                    raise ValueError("not a date control: {}".format(e["kind"]))
                shown = self.format_date(obj, action["date"])
                self.select(content)
                obj.ShowingPlaceHolder = False
                obj.CurrentDate = action["date"][:10] + "T00:00:00Z"
                self.uno("InsertText", Text=shown)
            elif do in ("type", "overtype"):
                self.select(content)
                self.type_lines(lines, action.get("break", "line"))
            else:
                raise ValueError(f"unknown action {do!r}")
        else:  # input field: its text is edited in place (RES_TXTATR_INPUTFIELD)
            if do == "type":
                # Click into the grey field, select its text (the cursor stays inside the
                # field), type.  Enter inside an input field adds a line to the field.
                a = obj.getAnchor()
                self.vc.gotoRange(a.getStart(), False)
                self.vc.goRight(1, False)  # past the field's start mark: inside it
                self.vc.gotoRange(a.getEnd(), True)
                self.vc.goLeft(1, True)  # up to its end mark
                self.type_lines(lines, action.get("break", "line"))
            elif do == "dialog":
                obj.Content = "\n".join(lines)  # what the Edit Fields / Input Field dialog stores
                obj.update()
            elif do == "overtype":
                self.select(obj.getAnchor())
                self.type_lines(lines, action.get("break", "line"))
            else:
                raise ValueError(f"{do!r} does not apply to an input field")
        after = resolve_after(self.doc, e)
        return {"target": public(e), "after": after}


def resolve_after(doc, e):
    obj = e["obj"]
    try:
        if e["type"] == "control":
            out = {"shows": obj.getAnchor().getString(), "placeholder": bool(obj.ShowingPlaceHolder)}
            if e["kind"] == "checkbox":
                out["checked"] = bool(obj.Checked)
            if e["kind"] == "date":
                out["date"] = obj.CurrentDate
            return out
        return {"shows": obj.Content}
    except Exception as exc:  # an overtyped field is gone
        return {"gone": str(exc)}


# --- jobs ----------------------------------------------------------------------------------


def run_job(office, job):
    t0 = time.time()
    result = {"name": job.get("name"), "input": job.get("input"), "actions": [], "outputs": [], "failed": []}
    doc = None
    try:
        doc = office.desktop.loadComponentFromURL(
            uno.systemPathToFileUrl(os.path.abspath(job["input"])), "_blank", 0, (prop("Hidden", True),)
        )
        if doc is None:
            raise RuntimeError("LibreOffice could not open the file")
        result["load_s"] = round(time.time() - t0, 2)
        w = Writer(office, doc)
        # Fields are numbered as the document was opened: an action that removes a field
        # (overtype) does not renumber the ones after it.
        items = inventory(doc)
        result["inventory_s"] = round(time.time() - t0 - result["load_s"], 2)
        if job.get("list"):
            result["fields"] = [public(e) for e in items]
        for i, action in enumerate(job.get("actions", [])):
            rec = {"i": i, "action": action}
            try:
                rec.update(w.act(items, action))
                rec["ok"] = True
            except Exception as exc:
                rec["ok"] = False
                rec["error"] = f"{type(exc).__name__}: {exc}"
                result["failed"].append(f"action {i}: {rec['error']}")
            result["actions"].append(rec)
        for out in job.get("outputs", []):
            if isinstance(out, str):
                out = {"path": out}
            path = os.path.abspath(out["path"])
            flt = out.get("filter") or FILTERS.get(os.path.splitext(path)[1].lower())
            rec = {"path": path, "filter": flt}
            try:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                doc.storeToURL(uno.systemPathToFileUrl(path), (prop("FilterName", flt), prop("Overwrite", True)))
                rec["ok"] = os.path.exists(path)
            except Exception as exc:
                rec["ok"] = False
                rec["error"] = f"{type(exc).__name__}: {exc}"
                result["failed"].append("save {}: {}".format(path, rec["error"]))
            result["outputs"].append(rec)
    except Exception as exc:
        result["failed"].append(f"{type(exc).__name__}: {exc}")
        result["trace"] = traceback.format_exc()
    finally:
        if doc is not None:
            with contextlib.suppress(Exception):
                doc.close(True)
    result["seconds"] = round(time.time() - t0, 2)
    result["ok"] = not result["failed"]
    return result


def main(argv):
    if len(argv) >= 2 and argv[0] == "--list":
        jobs = [{"name": "list", "input": p, "list": True} for p in argv[1:]]
    elif argv and argv[0] != "-":
        with open(argv[0], encoding="utf-8") as fh:
            jobs = json.load(fh)
    else:
        jobs = json.load(sys.stdin)
    if isinstance(jobs, dict):
        jobs = jobs["jobs"]
    office = Office()
    try:
        started = office.start()
        print(json.dumps({"soffice_start_s": round(started, 2)}), flush=True)
        failed = 0
        for job in jobs:
            res = run_job(office, job)
            failed += not res["ok"]
            print(json.dumps(res, ensure_ascii=False), flush=True)
    finally:
        t = time.time()
        office.stop()
        print(json.dumps({"soffice_stop_s": round(time.time() - t, 2)}), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
