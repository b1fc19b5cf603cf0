"""Sending an OutgoingEmail (a decision notification, a deadline notice, a safeguarding alert, a "set your password"
link) once, however often it is tried.

Email is not a secure channel: it can be read in transit, forwarded, or land in a shared inbox. So
every message names the NRM reference and nothing of the person; the case is read after signing in.

The caller locks the row (`select_for_update`) in a transaction and calls `attempt_send`, which
records the attempt on the row: when the mail server takes the message, `sent_at` and `sent_to` in
that same transaction, so a second try finds it sent; when it does not, the error and the time of
the next attempt (backing off 1, 2, 4 … minutes up to MAX_BACKOFF), so nothing is lost while the
mail server is down. The caller audits each outcome in the same transaction (audit.services.audit_email_attempt:
against the record it is about, with how many addresses, not which): core is below the audit trail.
"""

import contextlib
import datetime as dt
import smtplib
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage, mailers

from .models import OutgoingEmail

FIRST_BACKOFF = dt.timedelta(minutes=1)
MAX_BACKOFF = dt.timedelta(hours=6)


@dataclass(frozen=True)
class Message:
    to: list[str]
    subject: str
    body: str


def backoff_after(attempts: int) -> dt.timedelta:
    """1, 2, 4, 8 ... minutes after the first, second, third ... failure, never more than MAX_BACKOFF."""
    return min(FIRST_BACKOFF * 2 ** min(attempts - 1, 20), MAX_BACKOFF)


def attempt_send(email: OutgoingEmail, message: Message, *, now: dt.datetime, connection=None) -> bool:
    """One attempt at sending `email` (locked by the caller), recorded on its row; True when sent, or when there was
    no address to send to. The caller audits the outcome (audit.services.audit_email_attempt)."""
    email.attempts += 1
    email.last_attempt_at = now
    try:
        if message.to:
            (connection or mailers.default).send_messages(
                [EmailMessage(message.subject, message.body, settings.DEFAULT_FROM_EMAIL, message.to)]
            )
    except (OSError, smtplib.SMTPException) as exc:
        email.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        email.next_attempt_at = now + backoff_after(email.attempts)
        email.save(update_fields=["attempts", "last_attempt_at", "last_error", "next_attempt_at"])
        return False
    email.sent_at, email.sent_to, email.next_attempt_at = now, message.to, None
    email.save(update_fields=["attempts", "last_attempt_at", "sent_at", "sent_to", "next_attempt_at"])
    return True


@contextlib.contextmanager
def mail_connection():
    """A connection to the mail server for many messages, closed at the end; open it with `open_quietly`
    when there is something to send."""
    connection = mailers.default
    try:
        yield connection
    finally:
        with contextlib.suppress(OSError, smtplib.SMTPException):
            connection.close()


def open_quietly(connection) -> None:
    """Open the connection, to keep it for the messages that follow. If the mail server cannot be
    reached, each send tries again by itself and its failure is recorded on its message."""
    with contextlib.suppress(OSError, smtplib.SMTPException):
        connection.open()
