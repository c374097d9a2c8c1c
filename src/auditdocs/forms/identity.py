"""A document's identity and its integrity code.

Every document we issue carries who it is for (audit id, tool type, document kind)
and what shaped it (config, template and field-manifest versions), signed with an
HMAC under the workspace's secret key.  A returned file is matched by this, never by
its name; an edited identity or a form from another workspace fails the check.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields

from auditdocs.errors import RejectedFile


@dataclass(frozen=True)
class Identity:
    audit_id: str
    tool: str
    document: str  # "audit" or "plan"
    config_version: str
    template_version: str
    manifest: str  # hash of the form's field manifest

    def _message(self) -> bytes:
        return "\x1f".join(asdict(self).values()).encode("utf-8")

    def code(self, key: bytes) -> str:
        return hmac.new(key, self._message(), hashlib.sha256).hexdigest()[:32]

    def properties(self, key: bytes) -> dict[str, str]:
        """The custom document properties written into the document (``auditdocs.*``)."""
        return {**asdict(self), "integrity": self.code(key)}

    @classmethod
    def from_properties(cls, props: Mapping[str, str]) -> tuple[Identity, str]:
        """Read an identity and its stated integrity code; reject a document without one."""
        names = [f.name for f in fields(cls)]
        missing = [n for n in [*names, "integrity"] if not props.get(n)]
        if "audit_id" in missing:
            raise RejectedFile("not an audit form issued by auditdocs (no audit identity inside)")
        if missing:
            raise RejectedFile(
                f"the form's identity is incomplete (missing {', '.join(missing)}); it may have been edited"
            )
        return cls(**{n: props[n] for n in names}), props["integrity"]

    def verify(self, key: bytes, code: str) -> None:
        if not hmac.compare_digest(self.code(key), code):
            raise RejectedFile(
                f"audit {self.audit_id}: integrity check failed: the form's identity was edited, "
                "or it was issued by another workspace"
            )


def manifest_hash(entries: Iterable[tuple[str, ...]]) -> str:
    """Hash of the (field id, kind, placeholder[, choices]) list, in document order.

    A drop-down's choices are signed too (a Word user can edit a list's items, and make it
    show one grade and store another).  An entry without choices hashes as entries did
    before choices were signed, so forms issued earlier still verify."""
    digest = hashlib.sha256()
    for entry in entries:
        digest.update("\x1f".join(e for n, e in enumerate(entry) if n < 3 or e).encode("utf-8") + b"\x1e")
    return digest.hexdigest()[:16]
