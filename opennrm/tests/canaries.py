"""Referrals whose every sensitive field holds a unique canary string, for the generated access tests.

Each canary names its record and its compartment, so a test that finds one in a response can say
which compartment of which record leaked to whom. The records:

- referral A: a child in Croydon, referred by the Metropolitan Police Service (the organisation of
  the first responder role user made by `make_user`), so that LA, guardian and SCA scopes include it;
- referral B: the same kind of case, referred by an NGO (another organisation);
- a draft with canaries owned by a colleague of the first responder role user, and one owned by that
  user (a draft is seen by its owner only);
- Duty to Notify reports by each organisation;
- a possible match between A and B, confirmed by the data-quality officer, so that both are linked to one
  person (ADR 0014: the review pages show each referral's identity, policy.LINKAGE_IDENTITY_FIELDS);
- on referral A, a safeguarding record whose every free-text field is a canary (ADR 0009): a care
  record (placement address), two transfers (away and back), an age assessment, a guardian's note,
  a found missing episode with its return interview, and an open one.
"""

import datetime as dt
import json
import urllib.parse
import uuid
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.utils import timezone

from opennrm.accounts.models import Organisation, OrganisationKind, User
from opennrm.cases.services import referral_create
from opennrm.decisions.models import Decision
from opennrm.decisions.services import decision_record
from opennrm.linkage.models import Band, MatchCandidate, Person
from opennrm.linkage.services import candidate_confirm
from opennrm.policy import Compartment, Role, View, access_to, linkage_scope, referral_scope
from opennrm.referrals.models import DutyToNotify, Referral, ReferralDraft
from opennrm.referrals.selectors import duty_to_notify_reports_for
from opennrm.referrals.services import draft_save, draft_start, duty_to_notify_create
from opennrm.referrals.validation import validate_duty_to_notify, validate_referral
from opennrm.safeguarding import services as safeguarding
from opennrm.safeguarding.guardians import seed_guardian_coverage
from opennrm.safeguarding.models import MissingEpisode
from opennrm.workdays.models import ClosureDay
from opennrm.workdays.services import closure_day_save

# The canaries of the fields duplicate detection shows (policy.LINKAGE_IDENTITY_FIELDS).
IDENTITY_CANARY_FIELDS = {
    "given_names",
    "family_name",
    "alias_1",
    "alias_2",
    "names_in_original_script",
    "home_office_reference",
    "reference",
}
# The canaries of the fields a police force looking for a missing child sees (policy.MISSING_PERSON_FIELDS).
MISSING_PERSON_CANARY_FIELDS = {
    "given_names",
    "family_name",
    "alias_1",
    "alias_2",
    "names_in_original_script",
    "exploitation.uk_towns",
    "current_address",
    "phone",
}
DRAFT = "draft"  # a colleague's draft: nobody in the role loop may see it
OWN_DRAFT = "owndraft"  # the first responder role user's own draft: theirs alone
DUTY_TO_NOTIFY = "duty_to_notify"
CROYDON = "E09000008"


@dataclass(frozen=True)
class Canary:
    value: str
    record: str  # "A", "B", "draft", "owndraft", "dtn-A", "dtn-B"
    compartment: str  # a policy.Compartment value, "draft", "owndraft" or "duty_to_notify"
    field: str

    def __str__(self) -> str:
        return f"{self.record}.{self.field} ({self.compartment} compartment)"


def token(record: str, name: str) -> str:
    return f"Canary-{record}-{name}-7Q"


def referral_body(record: str, *, contacted_at: dt.datetime) -> tuple[dict, list[Canary]]:
    """A valid child referral (contract section 2) whose every free-text field is a canary."""
    ref, safe = Compartment.REFERRAL.value, Compartment.SAFEGUARDING.value
    digit = str(ord(record[0]) % 10)  # one per record ("A", "B", "draft", "owndraft"), so each phone is unique
    values = {
        # (compartment, field): value
        (ref, "given_names"): token(record, "given"),
        (ref, "family_name"): token(record, "family"),
        (ref, "alias_1"): token(record, "aliasone"),
        (ref, "alias_2"): token(record, "aliastwo"),
        (ref, "names_in_original_script"): f"Канарейка-{record}-ЖЩ",
        (ref, "home_office_reference"): f"HOCANARY-{record}-4711",
        (ref, "first_responder_reference"): token(record, "frref"),
        (ref, "local_authority_contact.name"): token(record, "lacontact"),
        (ref, "exploitation.account"): token(record, "account"),
        (ref, "exploitation.uk_towns"): token(record, "town"),
        (ref, "indicators"): token(record, "indicator"),
        (ref, "police.force"): token(record, "force"),
        (ref, "police.crime_reference"): token(record, "crimeref"),
        (safe, "current_address"): token(record, "address"),
        # Phone numbers may hold digits, spaces, +, - and brackets only.
        (safe, "phone"): f"+44 (0) 7700 9{digit}{digit} 47{digit}1",
    }
    v = {name: value for (_, name), value in values.items()}
    body = {
        "nation": "ENG",
        "first_responder_reference": v["first_responder_reference"],
        "potential_victim": {
            "given_names": v["given_names"],
            "family_name": v["family_name"],
            "aliases": [v["alias_1"], v["alias_2"]],
            "names_in_original_script": v["names_in_original_script"],
            "date_of_birth": "2012-03-01",
            "date_of_birth_precision": "day",
            "age_group": "child",
            "age_disputed": False,
            "sex": "female",
            "nationalities": ["VNM"],
            "languages": ["vi"],
            "interpreter_needed": True,
            "home_office_reference": v["home_office_reference"],
            "current_address": v["current_address"],
            "phone": v["phone"],
        },
        "local_authority_contact": {
            "local_authority": CROYDON,
            "name": v["local_authority_contact.name"],
            "contacted_at": contacted_at.isoformat(),
        },
        "consent": None,
        "exploitation": [
            {
                "types": ["criminal"],
                "criminal_subtypes": ["cannabis_cultivation"],
                "location": "uk_and_overseas",
                "uk_towns": [v["exploitation.uk_towns"]],
                "countries": ["VNM", "FRA"],
                "started_on": "2025-06-01",
                "ongoing": True,
                "account": v["exploitation.account"],
            }
        ],
        "indicators": [v["indicators"]],
        "police": {"force": v["police.force"], "crime_reference": v["police.crime_reference"]},
    }
    return body, [Canary(value, record, compartment, name) for (compartment, name), value in values.items()]


def duty_to_notify_body(record: str) -> tuple[dict, list[Canary]]:
    values = {
        "first_responder_reference": token(record, "frref"),
        "exploitation.account": token(record, "account"),
        "indicators": token(record, "indicator"),
        "police.crime_reference": token(record, "crimeref"),
    }
    body = {
        "nation": "ENG",
        "first_responder_reference": values["first_responder_reference"],
        "age_group": "adult",
        "sex": "male",
        "nationalities": ["ALB"],
        "exploitation": [{"types": ["labour"], "location": "uk", "account": values["exploitation.account"]}],
        "indicators": [values["indicators"]],
        "police": {"force": "Metropolitan Police Service", "crime_reference": values["police.crime_reference"]},
    }
    return body, [Canary(value, record, DUTY_TO_NOTIFY, name) for name, value in values.items()]


@dataclass
class CanaryWorld:
    users: dict[str, User]  # one user of each role; the first responder is in referral A's organisation
    colleague: User  # another first responder of referral A's organisation, who wrote A and owns the draft
    other_organisation_responder: User  # the NGO first responder who wrote B
    referral_a: Referral
    referral_b: Referral
    draft: ReferralDraft
    own_draft: ReferralDraft
    reports: list[DutyToNotify]
    closure: ClosureDay
    canaries: list[Canary] = field(default_factory=list)
    decision: Decision | None = None
    episodes: list[MissingEpisode] = field(default_factory=list)
    match: MatchCandidate | None = None
    person: Person | None = None

    @property
    def referrals(self) -> dict[str, Referral]:
        return {"A": self.referral_a, "B": self.referral_b}

    def status_canaries(self, record: str) -> list[Canary]:
        return [c for c in self.canaries if c.record == record and c.compartment == Compartment.STATUS]

    def home_office_reference(self, record: str) -> str:
        return self.referrals[record].home_office_reference

    def in_scope(self, user, record: str) -> bool:
        scope = referral_scope(user)
        return scope is not None and Referral.objects.filter(scope & Q(pk=self.referrals[record].pk)).exists()

    def in_linkage_scope(self, user, record: str) -> bool:
        scope = linkage_scope(user)
        return scope is not None and Referral.objects.filter(scope & Q(pk=self.referrals[record].pk)).exists()

    def allowed(self, user, *, status_lookup_of: set[str] = frozenset()) -> set[Canary]:
        """The canaries `user` may be shown, by the policy: the compartments it sees of the referrals in its scope.

        `status_lookup_of`: records whose Home Office reference the request looked up through the NRM
        status lookup, the immigration officer's one opening (status compartment only).
        """
        allowed: set[Canary] = set()
        for record in self.referrals:
            if self.in_scope(user, record):
                # What the user sees of this record: the role's compartments, or an event grant's view (ADR 0028).
                access = access_to(user, self.referrals[record])
                seen = access.compartments
                allowed |= {c for c in self.canaries if c.record == record and c.compartment in seen}
                if access.view == View.MISSING_PERSON:
                    allowed |= {
                        c for c in self.canaries if c.record == record and c.field in MISSING_PERSON_CANARY_FIELDS
                    }
            if self.in_linkage_scope(user, record):
                # Duplicate detection shows a referral's identity, and nothing more (policy.LINKAGE_IDENTITY_FIELDS).
                allowed |= {c for c in self.canaries if c.record == record and c.field in IDENTITY_CANARY_FIELDS}
        if user.role == Role.IMMIGRATION_OFFICER:
            for record in status_lookup_of:
                allowed |= set(self.status_canaries(record))
        visible_reports = set(duty_to_notify_reports_for(actor=user).values_list("reference", flat=True))
        allowed |= {
            c
            for c in self.canaries
            if c.compartment == DUTY_TO_NOTIFY and self._report(c.record).reference in visible_reports
        }
        # Drafts are their owner's alone.
        if user.pk == self.own_draft.owner_id:
            allowed |= {c for c in self.canaries if c.compartment == OWN_DRAFT}
        return allowed

    def _report(self, record: str) -> DutyToNotify:
        return next(r for r in self.reports if r.first_responder_reference == token(record, "frref"))


def encodings(value: str) -> set[str]:
    """The forms a value takes in a page, a JSON body or a URL."""
    return {value, json.dumps(value)[1:-1], urllib.parse.quote(value), urllib.parse.quote_plus(value)}


def appears(value: str, text: str) -> bool:
    return any(form in text for form in encodings(value))


def response_text(response) -> str:
    """Everything a client receives: the headers (a Location, say) and the body, with a PDF's text extracted
    (its streams are compressed: a canary in a letter would not show in the raw bytes)."""
    body = b"".join(response.streaming_content) if getattr(response, "streaming", False) else response.content
    headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
    text = body.decode(response.charset or "utf-8", errors="replace")
    if response.get("Content-Type", "").startswith("application/pdf") and body.startswith(b"%PDF-"):
        text += "\n\n" + pdf_text(body)
    return headers + "\n\n" + text


def pdf_text(body: bytes) -> str:
    import io

    from pypdf import PdfReader

    # Lines joined with spaces as well as kept: a canary wrapped at the end of a line is still found.
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)
    return text + "\n" + " ".join(text.split())


def plant_canaries(make_user) -> CanaryWorld:
    """One user of each role, and the canary records described at the top of this module."""
    users = {}
    for role in Role:
        user = make_user(role, username=f"role.{role.value}")
        if role == Role.ADMIN:
            user.is_staff = True  # Django's admin site needs it; the role decides what it may do there
            user.save(update_fields=["is_staff"])
        users[role.value] = user
    police = users[Role.FIRST_RESPONDER].organisation
    colleague = make_user(Role.FIRST_RESPONDER, username="colleague.first_responder", organisation=police)
    ngo, _ = Organisation.objects.get_or_create(
        name="Synthetic Anti-Trafficking Charity", defaults={"kind": OrganisationKind.NGO}
    )
    ngo_responder = make_user(Role.FIRST_RESPONDER, username="ngo.first_responder", organisation=ngo)

    now = timezone.now()
    canaries: list[Canary] = []
    made = {}
    seed_guardian_coverage()  # a transactional test before this one may have emptied the seeded coverage
    for record, author in (("A", colleague), ("B", ngo_responder)):
        body, planted = referral_body(record, contacted_at=now - dt.timedelta(hours=1))
        data, errors = validate_referral(body, now=now)
        assert not errors, errors
        made[record] = referral_create(actor=author, data=data)
        canaries += planted
        canaries.append(Canary(made[record].reference, record, Compartment.STATUS.value, "reference"))

    # An issued decision on A, so that letters and decision pages are walked with a real record;
    # its reasons restate the account and belong to the referral compartment.
    reasons = token("A", "decisionreasons")
    decision = decision_record(
        actor=users[Role.SCA_DECISION_MAKER],
        referral=made["A"],
        stage="reasonable_grounds",
        outcome="positive",
        reasons=reasons,
    )
    canaries.append(Canary(reasons, "A", Compartment.REFERRAL.value, "decision.reasons"))
    made["A"].refresh_from_db()

    episodes, planted = plant_safeguarding(users, made["A"], now=now)
    canaries += planted

    drafts = {}
    for record, owner in ((DRAFT, colleague), (OWN_DRAFT, users[Role.FIRST_RESPONDER])):
        body, planted = referral_body(record, contacted_at=now - dt.timedelta(hours=1))
        # The journey's draft format (web/journey.py): the contract-shaped body so far, and its bookkeeping.
        answers = {"referral": body, "typed": {}, "pages_saved": [], "summary_name": token(record, "summary")}
        drafts[record] = draft_save(actor=owner, draft=draft_start(actor=owner), answers=answers)
        canaries += [Canary(c.value, record, record, c.field) for c in planted]
        canaries.append(Canary(token(record, "summary"), record, record, "summary_name"))

    reports = []
    for record, author in (("dtn-A", colleague), ("dtn-B", ngo_responder)):
        body, planted = duty_to_notify_body(record)
        data, errors = validate_duty_to_notify(body, now=now)
        assert not errors, errors
        reports.append(duty_to_notify_create(actor=author, data=data))
        canaries += planted

    closure = closure_day_save(
        actor=users[Role.ADMIN],
        closure=ClosureDay(date=dt.date(2027, 1, 5), nation="", description="Synthetic closure day"),
    )

    # B offered as A's duplicate (as the worker's check would), and confirmed: A and B on one person.
    match = MatchCandidate.objects.create(
        referral=made["B"],
        earlier=made["A"],
        score=9.5,
        band=Band.POSSIBLE,
        found_at=now,
        evidence=[{"field": "Names", "label": "names differ", "weight": -3.0}],
    )
    person = candidate_confirm(
        actor=users[Role.DATA_QUALITY_OFFICER], candidate=match, reason="Synthetic: the same child"
    )

    values = [c.value for c in canaries]
    assert len(set(values)) == len(values), "canaries must be unique"
    assert not [(a, b) for a in values for b in values if a != b and a in b], "no canary may contain another"
    return CanaryWorld(
        users,
        colleague,
        ngo_responder,
        made["A"],
        made["B"],
        drafts[DRAFT],
        drafts[OWN_DRAFT],
        reports,
        closure,
        canaries,
        decision,
        episodes,
        match,
        person,
    )


def plant_safeguarding(
    users: dict[str, User], referral: Referral, *, now: dt.datetime
) -> tuple[list[MissingEpisode], list[Canary]]:
    """A safeguarding record on `referral` (a child in Croydon) with a canary in every free-text field."""
    safe = Compartment.SAFEGUARDING.value
    values = {
        name: token("A", name)
        for name in (
            "placement",
            "transferaway",
            "transferback",
            "agenotes",
            "guardiannote",
            "lastseenfound",
            "interview",
            "lastseenopen",
        )
    }
    la, guardian = users[Role.LA_SOCIAL_WORKER], users[Role.GUARDIAN]
    safeguarding.care_record_save(
        actor=la,
        referral=referral,
        care_status="looked_after",
        placement_type="foster_care",
        placement_address=values["placement"],
        social_worker=la.username,
        now=now,
    )
    safeguarding.local_authority_transfer(
        actor=la,
        referral=referral,
        to_local_authority="E08000025",
        moved_on=now.date(),
        reason=values["transferaway"],
        now=now,
    )
    birmingham = User.objects.create_user(
        username="canary.birmingham",
        organisation=Organisation.objects.create(
            name="Birmingham children's services", kind=OrganisationKind.LOCAL_AUTHORITY, local_authority="E08000025"
        ),
        role=Role.LA_SOCIAL_WORKER,
    )
    safeguarding.local_authority_transfer(
        actor=birmingham,
        referral=referral,
        to_local_authority=CROYDON,
        moved_on=now.date(),
        reason=values["transferback"],
        now=now,
    )
    safeguarding.age_assessment_record(
        actor=la,
        referral=referral,
        outcome="child",
        assessed_on=now.date() - dt.timedelta(days=1),
        assessor="local_authority",
        notes=values["agenotes"],
        now=now,
    )
    safeguarding.guardian_allocate(
        actor=guardian, referral=referral, guardian=guardian.username, support_model="direct", now=now
    )
    safeguarding.case_note_add(actor=guardian, referral=referral, text=values["guardiannote"], now=now)
    found = safeguarding.missing_episode_report(
        actor=la,
        referral=referral,
        missing_since=now - dt.timedelta(days=2),
        last_seen=values["lastseenfound"],
        risk="medium",
        now=now - dt.timedelta(days=2),
    )
    safeguarding.missing_episode_found(
        actor=la, referral=referral, episode=found, found_at=now - dt.timedelta(days=1), now=now
    )
    safeguarding.return_interview_record(
        actor=la,
        referral=referral,
        episode=found,
        completed_at=now - dt.timedelta(hours=2),
        summary=values["interview"],
        now=now,
    )
    still_missing = safeguarding.missing_episode_report(
        actor=guardian,
        referral=referral,
        missing_since=now - dt.timedelta(hours=3),
        last_seen=values["lastseenopen"],
        risk="low",
        now=now,
    )
    return [found, still_missing], [Canary(value, "A", safe, f"safeguarding.{name}") for name, value in values.items()]


def random_uuid() -> str:
    return str(uuid.uuid4())


def value_pool(world: CanaryWorld) -> list[str]:
    """Ids a path parameter may take: the canary records', drafts', reports', a random one, and object ids."""
    first_responder = world.users[Role.FIRST_RESPONDER]
    uuids = [
        world.referral_a.uuid,
        world.referral_b.uuid,
        world.draft.uuid,
        world.own_draft.uuid,
        *(r.uuid for r in world.reports),
        *([world.decision.uuid] if world.decision else []),
        *(e.uuid for e in world.episodes),
        *([world.match.uuid] if world.match else []),
        *([world.person.uuid] if world.person else []),
        random_uuid(),
    ]
    ints = [
        0,
        1,
        2,  # list positions, such as a situation's number
        world.referral_a.pk,
        world.referral_b.pk,
        first_responder.pk,
        world.colleague.pk,
        first_responder.organisation_id,
        world.closure.pk,
        ContentType.objects.get_for_model(Referral).pk,
        999999,
    ]
    return list(dict.fromkeys(str(v) for v in [*uuids, *ints]))


# Apps whose models hold case records: a role with no power over cases must leave every row of them as it was.
CASE_APPS = ("referrals", "decisions", "safeguarding", "linkage")


def case_state() -> dict[str, str]:
    """A digest of every row of every case model, to tell whether a request changed anything at all."""
    import hashlib

    from django.apps import apps

    state = {}
    for label in CASE_APPS:
        if not apps.is_installed(f"opennrm.{label}"):
            continue
        for model in apps.get_app_config(label).get_models():
            rows = list(model._base_manager.order_by("pk").values_list())
            state[model._meta.label] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return state
