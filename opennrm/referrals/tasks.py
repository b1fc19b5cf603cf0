"""Background work for referrals, run by the worker (`opennrm serve` starts it)."""

from django.conf import settings
from django.core.mail import send_mail
from django.tasks import task


@task()
def send_referral_acknowledgement(*, referral_id: int) -> None:
    """Email the first responder the reference and Reasonable Grounds deadline. No case content."""
    from .models import Referral

    referral = Referral.objects.select_related("created_by", "organisation").get(pk=referral_id)
    to = [a for a in {referral.created_by.email, referral.organisation.email} if a]
    if not to:
        return
    send_mail(
        subject=f"NRM referral received: {referral.reference}",
        message=(
            f"Your National Referral Mechanism referral has been received.\n\n"
            f"Reference: {referral.reference}\n"
            f"Your reference: {referral.first_responder_reference or '(none given)'}\n"
            f"Competent authority: {referral.get_competent_authority_display()}\n"
            f"Reasonable Grounds decision due by: {referral.reasonable_grounds_due:%A %-d %B %Y}\n\n"
            f"Sign in to OpenNRM to see the referral and its progress.\n"
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=sorted(to),
    )
