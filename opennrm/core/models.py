"""Shared model plumbing (abstract only: core has no tables of its own)."""

from django.db import models


class OutgoingEmail(models.Model):
    """An email the service owes someone, kept until the mail server takes it (core/outbox.py sends it)."""

    created_at = models.DateTimeField(auto_now_add=True)
    attempts = models.PositiveIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    sent_to = models.JSONField(default=list)

    class Meta:
        abstract = True
