"""The demo's teams and assigned cases (issue 3 item 6): who holds what, and a second run changes nothing."""

import pytest

from opennrm.accounts.models import Team, User
from opennrm.audit.models import AuditEvent
from opennrm.decisions.selectors import QueueView, work_queue_page
from opennrm.decisions.tests.conftest import seeded_rules  # noqa: F401 - fixture: the IECA rule, even after a transactional test
from opennrm.demo.loading import demo_load

pytestmark = pytest.mark.django_db


def test_demo_teams_manager_and_assignments_and_a_second_run_changes_nothing(seeded_rules):
    demo_load(password="demo-password-for-tests")
    team = Team.objects.get(name="SCA casework team 1")
    manager = User.objects.get(username="sca.manager")
    assert (team.manager, manager.role, manager.team) == (manager, "sca_decision_maker", team)
    assert set(team.members.values_list("username", flat=True)) == {"sca.one", "sca.two", "sca.manager"}
    assert Team.objects.filter(organisation__competent_authority="IECA").exists()
    assert Team.objects.filter(organisation__competent_authority="LOCAL_PANEL").exists()

    sca_one = User.objects.get(username="sca.one")
    mine = work_queue_page(actor=sca_one, view=QueueView.MINE)
    assert mine.total > 0 and all(i.referral.assigned_to == sca_one for i in mine.items)
    team_cases = work_queue_page(actor=manager, view=QueueView.TEAM, limit=100)
    assert any(i.referral.assigned_to is None for i in team_cases.items), (
        "some cases wait in the team's queue for a person"
    )
    assert work_queue_page(actor=manager, view=QueueView.UNASSIGNED).total > 0
    assert work_queue_page(actor=User.objects.get(username="ieca.one"), view=QueueView.MINE).total > 0
    assigned = AuditEvent.objects.filter(action="referral.assign").count()

    again = demo_load(password="demo-password-for-tests")
    assert (again.teams_created, again.cases_assigned, again.users_created) == (0, 0, 0)
    assert AuditEvent.objects.filter(action="referral.assign").count() == assigned
