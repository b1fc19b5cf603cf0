from io import StringIO

from django.core.management import call_command
from django.db.models import Q

from opennrm.linkage.models import ArrivalCheck, MatchCandidate
from opennrm.policy import Role

from .support import TESFAYE_AGAIN, TESFAYE_FIRST, child_body, refer


def test_the_command_checks_the_referrals_never_checked_then_has_nothing_to_do(make_user):
    responder = make_user(Role.FIRST_RESPONDER, username="fr")
    first, again = refer(responder, child_body(**TESFAYE_FIRST)), refer(responder, child_body(**TESFAYE_AGAIN))
    ArrivalCheck.objects.all().delete()  # as if made before duplicate detection, or loaded around the services
    MatchCandidate.objects.all().delete()

    out, err = StringIO(), StringIO()
    call_command("check-duplicates", stdout=out, stderr=err)
    assert "Checked 2 referrals" in out.getvalue() and "2 referrals not yet checked" in err.getvalue()
    assert set(ArrivalCheck.objects.values_list("referral_id", flat=True)) == {first.pk, again.pk}
    assert MatchCandidate.objects.filter(Q(referral=again, earlier=first)).exists()

    out = StringIO()
    call_command("check-duplicates", stdout=out, stderr=StringIO())
    assert "Checked 0 referrals" in out.getvalue()
