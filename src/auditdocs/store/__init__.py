"""The store: every allocation, file received and version of every return (schema,
migrations and every SQL query auditdocs runs; the other layers read through it)."""

from auditdocs.store.store import Store, Submission

__all__ = ["Store", "Submission"]
