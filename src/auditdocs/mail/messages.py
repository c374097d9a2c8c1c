"""Outgoing mail: .eml drafts by default, SMTP when configured.

Every message is also kept as an .eml file under ``output/<month>/...`` (owner-only),
so what was sent, or is waiting to be sent, can always be seen.  Credentials come from
the environment variables named in the config, never from the YAML.
"""

from __future__ import annotations

import contextlib
import os
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from pathlib import Path

from auditdocs.config.models import MailSettings
from auditdocs.dates import now
from auditdocs.errors import MailError
from auditdocs.files import write_private

DOCX = ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document")


def new_message(settings: MailSettings, to_name: str, to_address: str, subject: str, body: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = formataddr((settings.from_name, settings.from_address))
    msg["To"] = formataddr((to_name, to_address)) if to_address else to_name
    if settings.reply_to:
        msg["Reply-To"] = settings.reply_to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(now())
    msg["Message-ID"] = make_msgid(domain=settings.from_address.rpartition("@")[2] or None)
    msg.set_content(body)
    return msg


def attach_docx(msg: EmailMessage, path: Path) -> None:
    msg.add_attachment(path.read_bytes(), maintype=DOCX[0], subtype=DOCX[1], filename=path.name)


@dataclass
class Delivery:
    """What happened to one message."""

    to: str
    subject: str
    path: Path  # the .eml kept
    sent: bool
    error: str | None = None


@dataclass(frozen=True)
class Planned:
    """A message a dry run would send (nothing written, nothing sent)."""

    to: str
    subject: str
    attachments: int = 0

    def __str__(self) -> str:
        return f"would send to {self.to}: {self.subject}" + (
            f" ({self.attachments} attachments)" if self.attachments else ""
        )


@dataclass(frozen=True)
class Skipped:
    """A message not sent, and why (already sent; a document missing)."""

    to: str
    reason: str

    def __str__(self) -> str:
        return f"{self.to}: {self.reason}"


#: What sending one message came to.
Sent = Delivery | Planned | Skipped


@dataclass
class Postbox:
    """Sends through SMTP when a host is configured, otherwise writes drafts."""

    settings: MailSettings
    deliveries: list[Delivery] = field(default_factory=list)
    _smtp: smtplib.SMTP | None = None

    @property
    def sends(self) -> bool:
        return self.settings.smtp.host is not None

    def _connect(self) -> smtplib.SMTP:
        cfg = self.settings.smtp
        if cfg.host is None:
            raise MailError("no SMTP host is set (email.smtp.host in config/organisation.yaml)")
        context = ssl.create_default_context(cafile=cfg.ca_file)
        try:
            if cfg.security == "ssl":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout_seconds, context=context)
            else:
                smtp = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout_seconds)
                if cfg.security == "starttls":
                    smtp.starttls(context=context)
            user, password = os.environ.get(cfg.username_env), os.environ.get(cfg.password_env)
            if user:
                if not password:
                    raise MailError(f"{cfg.username_env} is set but {cfg.password_env} is not; set both or neither")
                smtp.login(user, password)
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(
                f"SMTP {cfg.host}:{cfg.port}: {type(exc).__name__}: {exc}; messages were kept as drafts"
            ) from None
        return smtp

    def post(self, msg: EmailMessage, keep: Path) -> Delivery:
        """Send ``msg`` (or draft it) and keep a copy at ``keep``."""
        delivery = Delivery(str(msg["To"]), str(msg["Subject"]), keep, sent=False)
        if not self.sends:
            msg["X-Unsent"] = "1"  # Outlook and Thunderbird open it as a draft to send
        else:
            try:
                if self._smtp is None:
                    self._smtp = self._connect()
                self._smtp.send_message(msg)
                delivery.sent = True
            except MailError as exc:
                delivery.error = str(exc)
            except (OSError, smtplib.SMTPException) as exc:
                delivery.error = f"{type(exc).__name__}: {exc}"
                self.close()
            if delivery.error:
                msg["X-Unsent"] = "1"  # kept as a draft: it opens ready to send by hand
        write_private(keep, bytes(msg))
        self.deliveries.append(delivery)
        return delivery

    def close(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self._smtp.quit()
            self._smtp = None


def post_one(settings: MailSettings, msg: EmailMessage, keep: Path) -> Delivery:
    """Send (or draft) one message on a connection of its own, as something happens (an
    immediate concern found at ingest).  ``functools.partial(post_one, settings)`` is what
    ``auditdocs.returns.ingest.ingest`` takes as ``post``; it crosses to ingest's worker
    processes, as an open connection could not."""
    postbox = Postbox(settings)
    try:
        return postbox.post(msg, keep)
    finally:
        postbox.close()
