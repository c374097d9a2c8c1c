"""The store: every allocation, file received and version of every return (schema,
migrations and every SQL query auditdocs runs; the other layers read through it).

``Store`` is imported when first used (SQLAlchemy takes 0.2 s to import): ``quick``
reads a SQLite store for ``status`` without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from auditdocs.store.store import Store, Submission

__all__ = ["Store", "Submission"]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from auditdocs.store import store

    return getattr(store, name)
