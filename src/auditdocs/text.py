"""Text as people type it: names compared loosely, and values shown on one line."""

from __future__ import annotations


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
