from django.conf import settings
from django.db import models


class Stage(models.TextChoices):
    REASONABLE_GROUNDS = "reasonable_grounds", "Reasonable Grounds"
    CONCLUSIVE_GROUNDS = "conclusive_grounds", "Conclusive Grounds"


class Outcome(models.TextChoices):
    POSITIVE = "positive", "Positive"
    NEGATIVE = "negative", "Negative"


class Decision(models.Model):
    referral = models.ForeignKey("referrals.Referral", on_delete=models.PROTECT, related_name="decisions")
    stage = models.CharField(max_length=30, choices=Stage.choices)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    reasons = models.TextField()
    competent_authority = models.CharField(max_length=20)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField()

    class Meta:
        ordering = ["decided_at", "id"]
