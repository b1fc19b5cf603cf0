"""Emailing a "set your password" link, by the worker (`opennrm serve` starts it), through the outbox (core/outbox.py):
sent once, retried with backoff while the mail server is down, each attempt audited against the user."""

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.tasks import task
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from opennrm.audit.services import audit_email_attempt
from opennrm.core.outbox import Message, attempt_send

from .models import PasswordResetEmail


def password_reset_url(user) -> str:
    """The link to set the user's password. Its token (Django's) is made now and stored nowhere; it stops working
    once the password is set, or after settings.PASSWORD_RESET_TIMEOUT."""
    path = reverse(
        "web:password-reset",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return settings.OPENNRM_BASE_URL + path


@task()
def send_password_reset_email(*, email_id: int) -> str:
    with transaction.atomic():
        email = PasswordResetEmail.objects.select_for_update(of=("self",)).select_related("user").get(pk=email_id)
        if email.sent_at is not None:
            return "already sent"
        user = email.user
        hours = settings.PASSWORD_RESET_TIMEOUT // 3600
        message = Message(
            to=[user.email] if user.email else [],
            subject="Set your OpenNRM password",
            body=(
                f"Use this link to set the password for your OpenNRM account ({user.username}):\n\n{password_reset_url(user)}\n\n"
                f"The link works once, for {hours} hours. If you did not expect this email, tell your administrator: "
                f"nobody at OpenNRM will ever ask you for your password.\n"
            ),
        )
        sent = attempt_send(email, message, now=timezone.now())
        audit_email_attempt(
            email,
            sent=sent,
            audit_action="user.password_reset_email",
            object_type="user",
            object_id=user.pk,
            details={"username": user.username, "email": email.pk},
        )
        if not sent:
            run_after = email.next_attempt_at
            transaction.on_commit(
                lambda: send_password_reset_email.using(run_after=run_after).enqueue(email_id=email_id)
            )
            return "failed, retry scheduled"
        return "sent"
