"""Eighty real Word, LibreOffice and fuzzer files that we did not write (shared/corpus/
docx-wild): each ends in a clear outcome, by the parser and by the ingest path, in
bounded time and memory, with no traceback.

None of them is an audit form we issued, so each is rejected; what matters is that the
reason fits what the file is (its ``features`` in MANIFEST.tsv): encrypted files say
so, .doc and OpenDocument files are named as such, damaged ones are called corrupt, a
DTD is refused, and ordinary Word files are "not an audit form issued by auditdocs".
"""

from __future__ import annotations

import csv
import logging
import os
import re
import resource
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import pytest

from auditdocs.forms.parse import parse_bytes
from auditdocs.returns.ingest import REJECTED, Ingester
from auditdocs.returns.sources import Incoming
from auditdocs.sample.month import init_workspace
from auditdocs.workspace import Workspace
from tests.conftest import needs_libreoffice


def _corpus() -> Path:
    """``../shared/corpus/docx-wild`` beside the checkout (or $AUDITDOCS_CORPUS, which CI
    sets when it runs a clone made elsewhere)."""
    if os.environ.get("AUDITDOCS_CORPUS"):
        return Path(os.environ["AUDITDOCS_CORPUS"])
    return Path(__file__).resolve().parents[2] / "shared/corpus/docx-wild"


CORPUS = _corpus()
pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"{CORPUS} is not here")

KEY = b"a workspace key of 32 bytes ...."
SECONDS = 5.0  # per file, parsed or ingested
CONVERSION_SECONDS = 60.0  # per file handed to LibreOffice (.doc, .odt)
MB = 1024 * 1024


def manifest() -> list[dict[str, str]]:
    if not CORPUS.is_dir():
        return []
    with (CORPUS / "MANIFEST.tsv").open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


ROWS = manifest()
NOT_OURS = r"not an audit form issued by auditdocs"


def expectations(features: set[str]) -> list[str]:
    """Patterns the rejection message must all match, from the file's features."""
    must = []
    if features & {"encrypted-ooxml", "encrypted-doc", "encrypted-odf"}:
        must.append(r"password|encrypted")
    if "legacy-doc" in features:
        must.append(r"\.doc\b")
    if must:
        return must
    if "odf" in features:
        return [r"OpenDocument|declares a DTD"]
    if "strict" in features:
        return [r"Strict OOXML"]
    if "main-part-not-wordprocessingml" in features:
        return [r"not a Word document"]
    if "broken" in features:
        return [r"corrupt"]
    if features & {"xxe-external-entity", "xml-undefined-entity"}:
        return [rf"declares a DTD|{NOT_OURS}"]  # refused, or read without the entity
    return [NOT_OURS]


def features_of(row: dict[str, str]) -> set[str]:
    return set(row["features"].split(","))


def test_the_manifest_lists_every_file():
    assert len(ROWS) == 80
    assert {r["file"] for r in ROWS} == {
        p.name for p in CORPUS.iterdir() if p.name not in ("MANIFEST.tsv", "README.md")
    }


@pytest.mark.parametrize("row", ROWS, ids=[r["file"] for r in ROWS])
def test_the_parser_gives_each_file_a_clear_outcome(row):
    data = (CORPUS / row["file"]).read_bytes()
    tracemalloc.start()
    started = time.perf_counter()
    try:
        result = parse_bytes(data, row["file"], KEY)
    finally:
        elapsed = time.perf_counter() - started
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert result.status == "rejected", result.fields  # none of these is an audit form of ours
    assert result.fields == {} and len(result.issues) == 1
    message = result.issues[0].message
    assert "internal error" not in message
    for pattern in expectations(features_of(row)):
        assert re.search(pattern, message), f"{row['features']}: {message!r} does not match {pattern!r}"
    assert elapsed < SECONDS
    assert peak < 200 * MB


def test_parsing_the_whole_corpus_stays_in_bounds():
    """All 80 files in one go: a few seconds at most, and no big jump in peak memory."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    started = time.perf_counter()
    statuses = [parse_bytes((CORPUS / r["file"]).read_bytes(), r["file"], KEY).status for r in ROWS]
    elapsed = time.perf_counter() - started
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before
    assert statuses == ["rejected"] * len(ROWS)
    assert elapsed < 10
    assert grown < 200 * MB


@pytest.fixture(scope="module")
def ingested(tmp_path_factory) -> dict[str, tuple[object, float]]:
    """Every corpus file through Ingester.one, as a returned file: outcome and seconds."""
    needs_libreoffice()
    ws: Workspace = init_workspace(tmp_path_factory.mktemp("corpus") / "qa")
    ingester = Ingester(ws)
    received = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    out = {}
    for row in ROWS:
        data = (CORPUS / row["file"]).read_bytes()
        started = time.perf_counter()
        outcome = ingester.one(Incoming(row["file"], data, str(CORPUS)), received)
        out[row["file"]] = (outcome, time.perf_counter() - started)
    return out


@pytest.mark.parametrize("row", ROWS, ids=[r["file"] for r in ROWS])
def test_ingest_gives_each_file_a_clear_outcome(ingested, row):
    outcome, elapsed = ingested[row["file"]]
    features = features_of(row)
    assert outcome.status == REJECTED
    assert outcome.reason and "could not be processed" not in outcome.reason  # no unexpected error
    if outcome.converted_from:
        # LibreOffice read it (.doc or .odt); what it made is a Word file, but not our form
        assert outcome.converted_from == ("doc" if "legacy-doc" in features else "odt")
        assert "odf" in features or "legacy-doc" in features
        assert re.search(rf"{NOT_OURS}|corrupt", outcome.reason), outcome.reason
        assert elapsed < CONVERSION_SECONDS
    else:
        for pattern in expectations(features):
            assert re.search(pattern, outcome.reason), f"{row['features']}: {outcome.reason!r} !~ {pattern!r}"
        assert elapsed < SECONDS
    assert outcome.sha256 is not None  # archived: nothing received is lost


def test_ingest_logs_no_errors_for_the_corpus(ingested, caplog, tmp_path):
    """Hostile files are ordinary rejections: nothing is logged as an unexpected error."""
    ws = init_workspace(tmp_path / "qa")
    with caplog.at_level(logging.WARNING):
        ingester = Ingester(ws)
        for row in ROWS:
            if features_of(row) & {"legacy-doc", "odf"}:
                continue  # converted above already; LibreOffice is slow
            ingester.one(Incoming(row["file"], (CORPUS / row["file"]).read_bytes(), "x"), datetime.now(UTC))
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
