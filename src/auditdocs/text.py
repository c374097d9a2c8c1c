"""Text as people type it: names compared loosely, and values shown on one line."""

from __future__ import annotations

import re

#: Bidirectional controls (embeddings, overrides, isolates, marks): in a quote they can
#: reverse what a reader sees (U+202E turned an attribution round).  Outputs drop them.
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def without_bidi(text: str) -> str:
    """Text as shown in our outputs: bidirectional control characters removed."""
    return _BIDI.sub("", text)


def norm(text: str) -> str:
    """Names, teams and placeholders compare ignoring case and spacing ('Team  North' is 'team north')."""
    return " ".join(text.split()).casefold()


def same(a: str, b: str) -> bool:
    return norm(a) == norm(b)


def one_line(value: object, limit: int = 200) -> str:
    """A value for a one-line message: its whitespace collapsed, at most ``limit`` characters."""
    return " ".join(str(value).split())[:limit]


def first_line(value: object, limit: int = 300) -> str:
    """The first line of an error's message (later lines of a database error can hold the
    SQL and its values), or the error's type when it has no message."""
    return (str(value).strip().splitlines() or [type(value).__name__])[0][:limit]
