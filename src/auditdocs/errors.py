"""One error family: every failure a user can cause is an AuditDocsError.

The CLI prints ``str(error)`` on one line and exits with ``error.exit_code``:
1 for bad data (a file, a field, a value), 2 for bad usage (a missing option,
a folder that is not a workspace).
"""

from __future__ import annotations


class AuditDocsError(Exception):
    """Base class: a problem the user can fix; the message says what and where."""

    exit_code = 1


class UsageError(AuditDocsError):
    """The command was called wrongly (exit code 2)."""

    exit_code = 2


class ConfigError(AuditDocsError):
    """The YAML config is invalid: the message names the file and key path."""


class DataError(AuditDocsError):
    """An input data file (case list, allocation) is unreadable or inconsistent."""


class TemplateError(AuditDocsError):
    """A Word template in templates/ cannot be used."""


class RejectedFile(AuditDocsError):
    """A returned file is not an audit form we issued, or cannot be read safely."""


class StoreError(AuditDocsError):
    """The store cannot be opened or written."""


class StoreConflict(StoreError):
    """Another process wrote the same key at the same time; the work can be redone."""


class StoreDisconnected(StoreError):
    """The server dropped the connection (a restart, an idle timeout); the work can be redone."""


class MailError(AuditDocsError):
    """Mail could not be sent (the message is kept as a draft)."""


class InternalError(AuditDocsError):
    """Something auditdocs itself got wrong (not the input): the message says what, so
    that it can be reported; the file or command in hand stops, nothing is half-written."""
