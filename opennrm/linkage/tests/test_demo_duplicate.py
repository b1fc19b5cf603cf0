"""The demo's child referred twice under different spellings is offered to sca.one and dq.one, and to no one else."""

from opennrm.accounts.models import User
from opennrm.demo.loading import demo_load
from opennrm.linkage.selectors import review_queue


def test_the_demo_offers_its_repeat_child_as_a_possible_match(db):
    result = demo_load(password="demo-password-for-tests")
    first, again = result.repeat_child_references
    for username in ("sca.one", "dq.one"):
        items, _ = review_queue(actor=User.objects.get(username=username))
        pairs = {(c.referral.reference, c.earlier.reference) for c in items}
        assert (again, first) in pairs, username
    for username in ("fr.ngo", "fr.localauthority", "ieca.one", "immigration.one", "la.croydon"):
        assert review_queue(actor=User.objects.get(username=username)) == ([], 0)
