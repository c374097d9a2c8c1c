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
