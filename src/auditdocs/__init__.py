"""auditdocs: case file audits for children's social care QA teams, in Word.

Library first, CLI second: every command is a thin shell over a function here.
"""

from auditdocs.errors import AuditDocsError

__version__ = "0.1.0"

__all__ = ["AuditDocsError", "__version__"]
