"""The referral journey in the pages, driven with the Django test client as a browser without JavaScript would."""

import datetime as dt
import html
import json
import re
import unicodedata
import uuid
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from opennrm.accounts.models import Organisation, OrganisationKind
from opennrm.audit.models import AuditEvent
from opennrm.conftest import PASSWORD
from opennrm.referrals.models import DutyToNotify, Referral, ReferralDraft
from opennrm.referrals.services import draft_save, draft_start
from opennrm.tests.names import NOT_NAMES, REAL_NAMES

LONDON = ZoneInfo("Europe/London")
# Synthetic names in three scripts; the Vietnamese one mixes precomposed and combining marks on purpose.
VIETNAMESE = "Nguye\u0302\u0303n Thị Ánh"
ARABIC = "فاطمة الزهراء"
GEEZ = "ሰላም ተስፋዬ"


# --- Reading pages -----------------------------------------------------------------------------------


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def title_of(response) -> str:
    return html.unescape(re.search(r"<title[^>]*>(.*?)</title>", response.content.decode(), re.S)[1]).strip()


def summary_errors(response) -> list[tuple[str, str]]:
    """(href, message) of each link in the GOV.UK error summary."""
    page = response.content.decode()
    found = re.search(r'govuk-error-summary__list">(.*?)</ul>', page, re.S)
    assert found, "no error summary on the page"
    return [
        (html.unescape(href), " ".join(html.unescape(text).split()))
        for href, text in re.findall(r'<a href="([^"]*)"[^>]*>(.*?)</a>', found[1], re.S)
    ]


def input_value(response, name: str) -> str:
    page = response.content.decode()
    tag = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', page)
    assert tag, f"no input {name}"
    value = re.search(r'value="([^"]*)"', tag[0])
    return html.unescape(value[1]) if value else ""


def textarea_value(response, name: str) -> str:
    found = re.search(rf'<textarea[^>]*name="{re.escape(name)}"[^>]*>(.*?)</textarea>', response.content.decode(), re.S)
    assert found, f"no textarea {name}"
    return html.unescape(found[1])


def draft_of(response_or_url) -> ReferralDraft:
    url = response_or_url if isinstance(response_or_url, str) else response_or_url["Location"]
    return ReferralDraft.objects.get(uuid=re.search(r"/referrals/drafts/([0-9a-f-]{36})", url)[1])


def page_url(draft, slug, *args) -> str:
    if slug == "situation":
        return reverse("web:draft-situation", args=[draft.uuid, *args])
    if slug in ("situations", "check", "delete", "resume"):
        return reverse({"resume": "web:draft-resume"}.get(slug, f"web:draft-{slug}"), args=[draft.uuid])
    return reverse("web:draft-page", args=[draft.uuid, slug])


def moves_to(response, expected: str) -> str:
    assert response.status_code == 302, (
        response.status_code,
        text_of(response)[:3000] if response.status_code == 200 else "",
    )
    assert response["Location"] == expected, response["Location"]
    return response["Location"]


def london_parts(when: dt.datetime) -> dict:
    local = when.astimezone(LONDON)
    return {"day": str(local.day), "month": str(local.month), "year": str(local.year), "time": f"{local:%H:%M}"}


# --- Setting up drafts quickly -----------------------------------------------------------------------


def without_nulls(value):
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


def make_draft(user, referral: dict, pages_saved=None, typed=None) -> ReferralDraft:
    """A draft as the pages would have left it, written through the same services."""
    draft = draft_start(actor=user)
    age = referral.get("potential_victim", {}).get("age_group")
    default_saved = [
        "reference",
        "nation",
        "age",
        "local-authority" if age in ("child", "unknown") else "consent",
        "situations",
        "indicators",
        "police",
        "details",
    ]
    answers = {
        "referral": without_nulls(referral),
        "pages_saved": default_saved if pages_saved is None else pages_saved,
        "typed": typed or {},
    }
    return draft_save(actor=user, draft=draft, answers=answers)


@pytest.fixture
def first_responder(make_user):
    return make_user("first_responder", username="fr.police")


@pytest.fixture
def client(web_client, first_responder):
    return web_client(first_responder)


@pytest.fixture
def child_body(child_referral_body):
    """The contract's example child, contacted yesterday so it is never in the future."""
    child_referral_body["local_authority_contact"]["contacted_at"] = (timezone.now() - dt.timedelta(days=1)).isoformat()
    return child_referral_body


@pytest.fixture
def adult_body(adult_referral_body):
    adult_referral_body["consent"]["recorded_at"] = (timezone.now() - dt.timedelta(hours=1)).isoformat()
    return adult_referral_body


@pytest.fixture
def croydon_guardians(db):
    return Organisation.objects.create(
        name="Croydon child trafficking guardians",
        kind=OrganisationKind.GUARDIAN_SERVICE,
        covered_local_authorities=["E09000019", "E09000008"],
        email="ictg@example.invalid",
    )


# --- Whole journeys ---------------------------------------------------------------------------------


def test_child_journey_end_to_end(client, first_responder, croydon_guardians):
    titles = []

    def get(url):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        titles.append(title_of(response))
        return response

    start = get(reverse("web:referral-start"))
    assert 'method="post"' in start.content.decode() and "csrfmiddlewaretoken" in start.content.decode()
    response = client.post(reverse("web:referral-start"))
    draft = draft_of(response)
    moves_to(response, page_url(draft, "reference"))

    get(page_url(draft, "reference"))
    moves_to(
        client.post(page_url(draft, "reference"), {"first_responder_reference": "  CRO-2026-0042 "}),
        page_url(draft, "nation"),
    )
    get(page_url(draft, "nation"))
    moves_to(client.post(page_url(draft, "nation"), {"nation": "ENG"}), page_url(draft, "age"))
    get(page_url(draft, "age"))
    moves_to(client.post(page_url(draft, "age"), {"age_group": "unknown"}), page_url(draft, "local-authority"))

    la_page = get(page_url(draft, "local-authority"))
    assert "You must contact the relevant local authority to safeguard the child before continuing" in text_of(la_page)
    assert 'name="consent"' not in la_page.content.decode()
    contacted = timezone.now() - dt.timedelta(hours=3)
    when = london_parts(contacted)
    response = client.post(
        page_url(draft, "local-authority"),
        {
            "local_authority": "E09000008",
            "contact_name": "Duty social worker",
            "contacted_at-day": when["day"],
            "contacted_at-month": when["month"],
            "contacted_at-year": when["year"],
            "contacted_time": when["time"],
        },
    )
    # Croydon has a guardian service: the journey stops to say so, with no script needed.
    moves_to(response, page_url(draft, "guardian"))
    guardian = get(page_url(draft, "guardian"))
    assert "Croydon child trafficking guardians" in text_of(guardian) and "ictg@example.invalid" in text_of(guardian)
    assert page_url(draft, "situation", 1) in guardian.content.decode()
    assert "Croydon child trafficking guardians" in text_of(client.get(page_url(draft, "local-authority")))

    get(page_url(draft, "situation", 1))
    moves_to(
        client.post(
            page_url(draft, "situation", 1),
            {
                "types": ["criminal"],
                "criminal_subtypes": ["cannabis_cultivation"],
                "location": "uk_and_overseas",
                "uk_towns": "Croydon\r\n\r\n",
                "countries": "Vietnam\r\nfra",
                "started_on-day": "1",
                "started_on-month": "6",
                "started_on-year": "2025",
                "ongoing": "yes",
                "ended_on-day": "2",
                "ended_on-month": "2",
                "ended_on-year": "2026",
                "account": "Kept in a house and made to tend plants.\r\nNot allowed out.",
            },
        ),
        page_url(draft, "situations"),
    )
    situations = get(page_url(draft, "situations"))
    assert "Cannabis cultivation" in text_of(situations)
    moves_to(client.post(page_url(draft, "situations"), {"add_another": "no"}), page_url(draft, "indicators"))
    get(page_url(draft, "indicators"))
    moves_to(
        client.post(
            page_url(draft, "indicators"),
            {"indicators": "Found locked inside a cannabis farm\r\n\r\n  No passport  \r\n"},
        ),
        page_url(draft, "police"),
    )
    get(page_url(draft, "police"))
    moves_to(
        client.post(
            page_url(draft, "police"), {"police_force": "Metropolitan Police Service", "crime_reference": "6029384/26"}
        ),
        page_url(draft, "details"),
    )
    details = get(page_url(draft, "details"))
    assert re.search(r'<input[^>]*name="names_in_original_script"[^>]*dir="auto"', details.content.decode())
    moves_to(
        client.post(
            page_url(draft, "details"),
            {
                "given_names": "Thi Anh",
                "family_name": "Nguyen",
                "aliases": "Anh Nguyen\r\nAnnie",
                "names_in_original_script": VIETNAMESE,
                "date_of_birth-day": "1",
                "date_of_birth-month": "3",
                "date_of_birth-year": "2010",
                "date_of_birth_precision": "day",
                "age_disputed": "no",
                "sex": "female",
                "nationality_1": "VNM",
                "nationality_2": "",
                "languages": "Vietnamese, en",
                "interpreter_needed": "yes",
                "home_office_reference": "",
                "current_address": "Flat 1, 1 Example Road\r\nCroydon",
                "phone": "020 7946 0000",
            },
        ),
        page_url(draft, "check"),
    )

    check = get(page_url(draft, "check"))
    page = text_of(check)
    for shown in (
        "CRO-2026-0042",
        "England",
        "Not sure (treated as a child)",
        "Croydon",
        "Duty social worker",
        "Thi Anh",
        "Annie",
        "Vietnam, France",
        "Found locked inside a cannabis farm",
        "6029384/26",
        "Vietnamese, English",
        "1 March 2010",
    ):
        assert shown in page, shown
    assert f'<span class="opennrm-original-script" dir="auto">{VIETNAMESE}</span>' in page
    assert "Consents to being referred" not in page
    assert f"{page_url(draft, 'details')}?change=1" in check.content.decode()
    home = text_of(client.get(reverse("web:home")))
    assert "Thi Anh Nguyen (may be a child)" in home and page_url(draft, "resume") in home

    response = client.post(page_url(draft, "check"))
    referral = Referral.objects.get()
    moves_to(response, reverse("web:referral-sent", args=[referral.uuid]))
    pv = referral.potential_victim
    assert (
        referral.first_responder_reference == "CRO-2026-0042"
        and referral.nation == "ENG"
        and referral.age_group == "unknown"
    )
    # Every mark kept, composed (NFC) as every name is when sent (issue 22).
    assert pv["names_in_original_script"] == unicodedata.normalize("NFC", VIETNAMESE) != VIETNAMESE
    assert (
        pv["aliases"] == ["Anh Nguyen", "Annie"]
        and pv["date_of_birth"] == "2010-03-01"
        and pv["languages"] == ["vi", "en"]
    )
    assert (
        pv["nationalities"] == ["VNM"]
        and pv["sex"] == "female"
        and pv["interpreter_needed"] is True
        and pv["age_disputed"] is False
    )
    assert "home_office_reference" not in pv and referral.home_office_reference == ""
    assert referral.consent is None
    assert (
        referral.local_authority_contact["local_authority"] == "E09000008" and referral.local_authority == "E09000008"
    )
    assert referral.local_authority_contact["name"] == "Duty social worker"
    assert dt.datetime.fromisoformat(referral.local_authority_contact["contacted_at"]) == contacted.replace(
        second=0, microsecond=0
    )
    assert referral.exploitation == [
        {
            "types": ["criminal"],
            "criminal_subtypes": ["cannabis_cultivation"],
            "location": "uk_and_overseas",
            "uk_towns": ["Croydon"],
            "countries": ["VNM", "FRA"],
            "started_on": "2025-06-01",
            "ongoing": True,
            "account": "Kept in a house and made to tend plants.\nNot allowed out.",
        }
    ]  # the end date typed under "no" is ignored because the answer was "yes"
    assert referral.indicators == ["Found locked inside a cannabis farm", "No passport"]
    assert referral.police == {"force": "Metropolitan Police Service", "crime_reference": "6029384/26"}
    assert referral.current_address == "Flat 1, 1 Example Road\nCroydon" and referral.phone == "020 7946 0000"

    sent = get(reverse("web:referral-sent", args=[referral.uuid]))
    assert (
        f"<strong>{referral.reference}</strong>" in sent.content.decode()
        and "govuk-panel__title" in sent.content.decode()
    )
    due = referral.reasonable_grounds_due
    assert f"{due.day} {due:%B %Y}" in text_of(sent)
    assert "Croydon child trafficking guardians" in text_of(sent)
    assert AuditEvent.objects.filter(
        action="referral.read", object_id=str(referral.uuid), details__purpose="confirmation"
    ).exists()

    # Every page has its own title.
    assert len(titles) == len(set(titles)), titles

    # Once sent, the draft cannot be changed: every page leads to the confirmation, and nothing is saved.
    draft.refresh_from_db()
    assert draft.submitted_referral == referral
    for url in (page_url(draft, "resume"), page_url(draft, "details"), page_url(draft, "check")):
        moves_to(client.get(url), reverse("web:referral-sent", args=[referral.uuid]))
    moves_to(
        client.post(page_url(draft, "details"), {"given_names": "Changed"}),
        reverse("web:referral-sent", args=[referral.uuid]),
    )
    draft.refresh_from_db()
    assert draft.answers["referral"]["potential_victim"]["given_names"] == "Thi Anh"
    assert (
        "Thi Anh Nguyen"
        not in text_of(client.get(reverse("web:home")))
        .split("Your unfinished referrals")[1]
        .split("Recent referrals")[0]
    )


def test_adult_journey_with_consent(client):
    draft = draft_of(client.post(reverse("web:referral-start")))
    client.post(page_url(draft, "reference"), {"first_responder_reference": ""})
    client.post(page_url(draft, "nation"), {"nation": "WLS"})
    moves_to(client.post(page_url(draft, "age"), {"age_group": "adult"}), page_url(draft, "consent"))
    assert client.get(page_url(draft, "local-authority")).status_code == 302  # not on an adult's path
    assert title_of(client.get(page_url(draft, "consent"))).startswith("Does the potential victim consent")
    moves_to(client.post(page_url(draft, "consent"), {"consent": "yes"}), page_url(draft, "situation", 1))
    client.post(
        page_url(draft, "situation", 1),
        {
            "types": ["labour", "domestic_servitude"],
            "location": "uk",
            "uk_towns": "Cardiff",
            "ongoing": "no",
            "ended_on-month": "10",
            "ended_on-year": "2026",
        },
    )
    client.post(page_url(draft, "situations"), {"add_another": "no"})
    client.post(page_url(draft, "indicators"), {"indicators": ""})
    client.post(page_url(draft, "police"), {"police_force": "", "crime_reference": ""})
    moves_to(
        client.post(
            page_url(draft, "details"),
            {
                "given_names": "",
                "family_name": "",
                "aliases": "Mo",
                "sex": "male",
                "names_in_original_script": f"  {ARABIC}",
                "nationality_1": "ALB",
                "nationality_2": "ALB",
                "date_of_birth-year": "1990",
                "date_of_birth_precision": "year",
            },
        ),
        page_url(draft, "check"),
    )
    check = text_of(client.get(page_url(draft, "check")))
    assert "Consents to being referred" in check and "Local authority contacted" not in check

    client.post(page_url(draft, "check"))
    referral = Referral.objects.get()
    assert referral.age_group == "adult" and referral.nation == "WLS" and referral.local_authority_contact is None
    assert (
        referral.consent["given"] is True
        and dt.datetime.fromisoformat(referral.consent["recorded_at"]) <= timezone.now()
    )
    assert referral.first_responder_reference == "" and referral.police is None and referral.indicators == []
    pv = referral.potential_victim
    assert pv["aliases"] == ["Mo"] and "given_names" not in pv and pv["nationalities"] == ["ALB"]
    assert pv["names_in_original_script"] == f"  {ARABIC}"
    assert pv["date_of_birth"] == "1990-01-01" and pv["date_of_birth_precision"] == "year"
    assert referral.exploitation == [
        {
            "types": ["labour", "domestic_servitude"],
            "location": "uk",
            "uk_towns": ["Cardiff"],
            "ongoing": False,
            "ended_on": "2026-10-01",
        }
    ]


def test_adult_without_consent_sends_a_duty_to_notify_without_identifying_data(client, first_responder, adult_body):
    adult_body["potential_victim"].update(names_in_original_script=GEEZ, home_office_reference="HO/123456")
    draft = make_draft(first_responder, adult_body)
    # The adult says no: the answer leads to the explanation, which offers the Duty to Notify.
    moves_to(
        client.post(page_url(draft, "consent") + "?change=1", {"consent": "no"}),
        page_url(draft, "not-referred") + "?change=1",
    )
    explained = client.get(page_url(draft, "not-referred") + "?change=1")
    assert "An adult who does not consent is not referred" in text_of(explained)
    assert f'href="{page_url(draft, "check")}"' in explained.content.decode()

    details = client.get(page_url(draft, "details"))
    assert title_of(details).startswith("About the person") and 'name="given_names"' not in details.content.decode()
    check = client.get(page_url(draft, "check"))
    page = text_of(check)
    assert "Send Duty to Notify" in page and "Duty to Notify" in title_of(check)
    for identifying in ("Thi Anh", "Nguyen", "Annie", GEEZ, "Example Road", "020 7946 0000", "HO/123456", "2010"):
        assert identifying not in page.split("<main")[1], identifying

    response = client.post(page_url(draft, "check"))
    report = DutyToNotify.objects.get()
    moves_to(response, reverse("web:duty-to-notify-sent", args=[report.uuid]))
    assert report.nation == "ENG" and report.sex == "female" and report.nationalities == ["VNM"]
    assert report.first_responder_reference == "CRO-2026-0042" and report.indicators == [
        "Found locked inside a cannabis farm"
    ]
    assert report.exploitation[0]["types"] == ["criminal"] and report.police["crime_reference"] == "6029384/26"
    stored = json.dumps({f.name: str(getattr(report, f.name)) for f in DutyToNotify._meta.fields}, ensure_ascii=False)
    for identifying in (
        "Thi Anh",
        "Nguyen",
        "Annie",
        GEEZ,
        "Example Road",
        "020 7946 0000",
        "HO/123456",
        "2010-03-01",
        "1990-05-04",
    ):
        assert identifying not in stored, identifying
    # The draft held identifying answers: it is gone, and no referral was made.
    assert not ReferralDraft.objects.filter(pk=draft.pk).exists() and not Referral.objects.exists()

    sent = client.get(reverse("web:duty-to-notify-sent", args=[report.uuid]))
    assert f"<strong>{report.reference}</strong>" in sent.content.decode() and title_of(sent).startswith(
        f"Duty to Notify {report.reference}"
    )
    # Sending twice (a double click, or the back button) sends one report and shows the same confirmation.
    moves_to(client.post(page_url(draft, "check")), reverse("web:duty-to-notify-sent", args=[report.uuid]))
    assert DutyToNotify.objects.count() == 1


def test_a_child_cannot_be_sent_as_duty_to_notify(client, first_responder, adult_body):
    adult_body["consent"] = {"given": False, "recorded_at": adult_body["consent"]["recorded_at"]}
    draft = make_draft(first_responder, adult_body)
    # Changing the answer to "not sure" makes them a child: the consent answer goes, the local authority is asked.
    moves_to(
        client.post(page_url(draft, "age") + "?change=1", {"age_group": "unknown"}), page_url(draft, "local-authority")
    )
    draft.refresh_from_db()
    assert "consent" not in draft.answers["referral"] and "consent" not in draft.answers["pages_saved"]
    assert client.get(page_url(draft, "not-referred")).status_code == 404
    check = client.post(page_url(draft, "check"))
    assert (
        page_url(draft, "local-authority") + "?change=1#local_authority",
        "Give the local authority you contacted: you must contact the local authority to safeguard a child before referring",
    ) in summary_errors(check)
    assert not DutyToNotify.objects.exists() and not Referral.objects.exists()


def test_several_exploitation_situations_added_changed_and_removed(client, first_responder, child_body):
    draft = make_draft(first_responder, child_body, pages_saved=["reference", "nation", "age", "local-authority"])
    moves_to(client.post(page_url(draft, "situations"), {"add_another": "yes"}), page_url(draft, "situation", 2))
    # Without the script the criminal subtypes are on show: ticked without "criminal", they are ignored.
    moves_to(
        client.post(
            page_url(draft, "situation", 2), {"types": ["sexual"], "criminal_subtypes": ["theft"], "countries": "ALB"}
        ),
        page_url(draft, "situations"),
    )
    moves_to(client.post(page_url(draft, "situations"), {"add_another": "yes"}), page_url(draft, "situation", 3))
    client.post(page_url(draft, "situation", 3), {"types": ["organ_removal"]})
    assert client.get(page_url(draft, "situation", 5)).status_code == 404

    listed = text_of(client.get(page_url(draft, "situations")))
    assert "You have added 3 situations" in listed and "Organ removal" in listed
    remove = client.get(reverse("web:draft-situation-remove", args=[draft.uuid, 2]))
    assert title_of(remove).startswith("Remove exploitation situation 2")
    moves_to(client.post(reverse("web:draft-situation-remove", args=[draft.uuid, 2])), page_url(draft, "situations"))
    moves_to(
        client.post(
            page_url(draft, "situation", 1) + "?change=1",
            {"types": ["criminal", "labour"], "criminal_subtypes": ["county_lines"]},
        ),
        page_url(draft, "situations") + "?change=1",
    )
    moves_to(
        client.post(page_url(draft, "situations") + "?change=1", {"add_another": "no"}), page_url(draft, "indicators")
    )

    client.post(page_url(draft, "check"))
    assert [e["types"] for e in Referral.objects.get().exploitation] == [["criminal", "labour"], ["organ_removal"]]
    assert Referral.objects.get().exploitation[0]["criminal_subtypes"] == ["county_lines"]


def test_no_guardian_prompt_where_there_is_no_guardian_service(client, first_responder, croydon_guardians):
    draft = make_draft(
        first_responder,
        {"nation": "WLS", "potential_victim": {"age_group": "child"}},
        pages_saved=["reference", "nation", "age"],
    )
    when = london_parts(timezone.now() - dt.timedelta(minutes=30))
    response = client.post(
        page_url(draft, "local-authority"),
        {
            "local_authority": "W06000015",
            "contacted_at-day": when["day"],
            "contacted_at-month": when["month"],
            "contacted_at-year": when["year"],
            "contacted_time": when["time"],
        },
    )
    moves_to(response, page_url(draft, "situation", 1))
    assert client.get(page_url(draft, "guardian")).status_code == 404


# --- Problems on each page -----------------------------------------------------------------------------


CHILD_PATH = ["reference", "nation", "age", "local-authority"]


@pytest.mark.parametrize(
    ("slug", "number", "form", "expected", "kept"),
    [
        (
            "reference",
            None,
            {"first_responder_reference": "R" * 101},
            [("#first_responder_reference", "Your reference must be 100 characters or fewer")],
            {"first_responder_reference": "R" * 101},
        ),
        ("nation", None, {}, [("#nation", "Select where you are making this report")], {}),
        ("nation", None, {"nation": "ATL"}, [("#nation", "Select where you are making this report")], {}),
        (
            "age",
            None,
            {},
            [("#age_group", "Select yes if the potential victim is under 18, no if they are not, or not sure")],
            {},
        ),
        (
            "local-authority",
            None,
            {
                "local_authority": "",
                "contact_name": "Duty social worker",
                "contacted_at-day": "31",
                "contacted_at-month": "2",
                "contacted_at-year": "2026",
                "contacted_time": "25:00",
            },
            [
                ("#local_authority", "Select the local authority you contacted"),
                ("#contacted_at-day", "The date you contacted the local authority must be a real date"),
                (
                    "#contacted_time",
                    "The time you contacted the local authority must be a real time, such as 10:15 or 2:30pm",
                ),
            ],
            {"contact_name": "Duty social worker", "contacted_at-day": "31"},
        ),
        (
            "local-authority",
            None,
            {
                "local_authority": "E09000008",
                "contacted_at-day": "1",
                "contacted_at-month": "1",
                "contacted_at-year": "2099",
                "contacted_time": "9am",
            },
            [("#contacted_at-day", "The date and time you contacted the local authority must not be in the future")],
            {"contacted_at-year": "2099"},
        ),
        (
            "situation",
            1,
            {
                "account": "Made to work without pay.",
                "countries": "Narnia\r\nALB",
                "started_on-month": "13",
                "started_on-year": "2025",
            },
            [
                ("#types", "Select at least one type of exploitation"),
                (
                    "#countries",
                    "Countries: we do not recognise “Narnia”. Enter the country's name, such as Vietnam, or its 3-letter code, such as VNM",
                ),
                ("#started_on-day", "The date the exploitation started must be a real date"),
            ],
            {"account": "Made to work without pay.", "countries": "Narnia\r\nALB", "started_on-month": "13"},
        ),
        (
            "situation",
            1,
            {
                "types": ["labour"],
                "location": "uk",
                "countries": "France",
                "started_on-day": "1",
                "started_on-month": "6",
                "started_on-year": "2025",
                "ongoing": "no",
                "ended_on-day": "1",
                "ended_on-month": "1",
                "ended_on-year": "2025",
            },
            [
                ("#countries", "The location is the UK only: remove the overseas countries, or choose UK and overseas"),
                (
                    "#ended_on-day",
                    "The date the exploitation ended must be on or after the date the exploitation started",
                ),
            ],
            {"countries": "France"},
        ),
        (
            "indicators",
            None,
            {"indicators": "x" * 20_001},
            [("#indicators", "Each indicator must be 20000 characters or fewer")],
            {"indicators": "x" * 20_001},
        ),
        (
            "police",
            None,
            {"police_force": "P" * 201, "crime_reference": "C" * 101},
            [
                ("#police_force", "The police force must be 200 characters or fewer"),
                ("#crime_reference", "The crime reference must be 100 characters or fewer"),
            ],
            {"police_force": "P" * 201, "crime_reference": "C" * 101},
        ),
        (
            "details",
            None,
            {
                "names_in_original_script": "   ",
                "date_of_birth-day": "30",
                "date_of_birth-month": "2",
                "date_of_birth-year": "2010",
                "phone": "020 7946 0000 (WhatsApp only)",
                "languages": "Vietnamese, Klingonese",
                "home_office_reference": "HO 12",
            },
            [
                ("#given_names", "Enter a name, or at least one alias or nickname the person is known by"),
                ("#date_of_birth-day", "Date of birth must be a real date"),
                ("#sex", "Select the potential victim's sex, or not known"),
                (
                    "#languages",
                    "Languages: we do not recognise “Klingonese”. Enter each language's "
                    "English name, such as Vietnamese, or its ISO code, such as "
                    "vi",
                ),
                ("#home_office_reference", "Enter the Home Office reference as letters, digits, / and - only"),
            ],
            {
                "date_of_birth-day": "30",
                "phone": "020 7946 0000 (WhatsApp only)",
                "languages": "Vietnamese, Klingonese",
                "home_office_reference": "HO 12",
            },
        ),
        (
            "details",
            None,
            {
                "names_in_original_script": GEEZ,
                "sex": "male",
                "date_of_birth-day": "1",
                "date_of_birth-month": "1",
                "date_of_birth-year": "2999",
            },
            [("#date_of_birth-day", "The date of birth must be in the past")],
            {"names_in_original_script": GEEZ, "date_of_birth-year": "2999"},
        ),
    ],
)
def test_each_page_shows_its_problems_and_keeps_what_was_typed(
    client, first_responder, slug, number, form, expected, kept
):
    draft = make_draft(
        first_responder, {"nation": "ENG", "potential_victim": {"age_group": "child"}}, pages_saved=CHILD_PATH[:3]
    )
    url = page_url(draft, slug, number) if number else page_url(draft, slug)
    before = (Referral.objects.count(), DutyToNotify.objects.count())

    response = client.post(url, form)
    assert response.status_code == 200
    assert title_of(response).startswith("Error: ")
    assert summary_errors(response) == expected
    for anchor, message in expected:
        # Each summary link has its input on the page, and the message is shown beside it too.
        assert f'id="{anchor[1:]}"' in response.content.decode(), anchor
        assert text_of(response).count(message) == 2, message

    def shown(page, name):
        return (
            textarea_value(page, name)
            if re.search(rf'<textarea[^>]*name="{name}"', page.content.decode())
            else input_value(page, name)
        )

    for name, value in kept.items():
        assert shown(response, name).replace("\r\n", "\n") == value.replace("\r\n", "\n"), name
    assert (Referral.objects.count(), DutyToNotify.objects.count()) == before

    # Saved on the server, problems and all: a fresh visit (another session) shows the same input and problems.
    again = Client()
    again.force_login(first_responder)
    revisit = again.get(url)
    assert summary_errors(revisit) == expected
    for name, value in kept.items():
        assert shown(revisit, name).replace("\r\n", "\n") == value.replace("\r\n", "\n"), name


def test_draft_survives_signing_out_and_resumes_where_it_stopped(client, first_responder):
    draft = draft_of(client.post(reverse("web:referral-start")))
    client.post(page_url(draft, "reference"), {"first_responder_reference": "CRO-1"})
    client.post(page_url(draft, "nation"), {"nation": "ENG"})
    client.post(page_url(draft, "age"), {"age_group": "child"})
    client.post(
        page_url(draft, "local-authority"),
        {"local_authority": "E09000008", "contact_name": "Duty desk", "contacted_time": "noon"},
    )
    client.post(reverse("web:sign-out"))
    assert client.get(page_url(draft, "resume")).status_code == 302  # to sign in
    assert "/sign-in" in client.get(page_url(draft, "resume"))["Location"]

    browser = Client()
    assert (
        browser.post(reverse("web:sign-in"), {"username": first_responder.username, "password": PASSWORD}).status_code
        == 302
    )
    home = text_of(browser.get(reverse("web:home")))
    assert "Potential victim not yet named (child)" in home
    # Back at the first page with a problem, with what was typed and what is wrong.
    resumed = browser.get(page_url(draft, "resume"))
    moves_to(resumed, page_url(draft, "local-authority"))
    page = browser.get(resumed["Location"])
    assert input_value(page, "contact_name") == "Duty desk" and input_value(page, "contacted_time") == "noon"
    assert (
        "#contacted_time",
        "The time you contacted the local authority must be a real time, such as 10:15 or 2:30pm",
    ) in summary_errors(page)
    assert re.search(r'<option value="E09000008" selected>', page.content.decode())

    # With every page answered, resuming goes to check your answers.
    when = london_parts(timezone.now() - dt.timedelta(hours=1))
    browser.post(
        page_url(draft, "local-authority"),
        {
            "local_authority": "E09000008",
            "contacted_at-day": when["day"],
            "contacted_at-month": when["month"],
            "contacted_at-year": when["year"],
            "contacted_time": when["time"],
        },
    )
    moves_to(browser.get(page_url(draft, "resume")), page_url(draft, "situation", 1))


def test_resume_goes_to_check_your_answers_when_everything_is_answered(client, first_responder, child_body):
    draft = make_draft(first_responder, child_body)
    moves_to(client.get(page_url(draft, "resume")), page_url(draft, "check"))
    # A change from check your answers goes back to it.
    moves_to(
        client.post(page_url(draft, "police") + "?change=1", {"police_force": "Kent Police"}), page_url(draft, "check")
    )


def test_a_failed_send_keeps_the_draft_and_links_to_each_problem(client, first_responder, child_body):
    del child_body["potential_victim"]["sex"]
    child_body["exploitation"][0]["started_on"] = "2999-01-01"
    draft = make_draft(first_responder, child_body)
    answers_before = ReferralDraft.objects.get(pk=draft.pk).answers

    response = client.post(page_url(draft, "check"))
    assert response.status_code == 200 and title_of(response).startswith("Error: Check your answers")
    assert summary_errors(response) == [
        (
            page_url(draft, "situation", 1) + "?change=1#started_on-day",
            "Situation 1: The date the exploitation started must be today or in the past",
        ),
        (page_url(draft, "details") + "?change=1#sex", "Select the potential victim's sex, or not known"),
    ]
    assert not Referral.objects.exists()
    draft.refresh_from_db()
    assert draft.submitted_referral is None and draft.answers == answers_before
    # Fixing the problems on their pages, then sending again, works.
    client.post(page_url(draft, "details") + "?change=1", {"given_names": "Thi Anh", "sex": "female"})
    client.post(page_url(draft, "situation", 1) + "?change=1", {"types": ["criminal"]})
    moves_to(client.post(page_url(draft, "check")), reverse("web:referral-sent", args=[Referral.objects.get().uuid]))


def test_situations_page_will_not_go_on_while_a_situation_has_a_problem(client, first_responder, child_body):
    child_body["exploitation"].append({"types": ["labour"], "started_on": "2999-01-01"})
    draft = make_draft(first_responder, child_body, pages_saved=CHILD_PATH)
    response = client.post(page_url(draft, "situations"), {"add_another": "no"})
    assert summary_errors(response) == [
        (
            page_url(draft, "situation", 2) + "#started_on-day",
            "Situation 2: The date the exploitation started must be today or in the past",
        )
    ]
    assert summary_errors(client.post(page_url(draft, "situations"), {})) == [
        ("#add_another", "Select yes if you need to add another exploitation situation")
    ]


def test_sending_twice_makes_one_referral(client, first_responder, child_body):
    draft = make_draft(first_responder, child_body)
    first = client.post(page_url(draft, "check"))
    second = client.post(page_url(draft, "check"))
    referral = Referral.objects.get()
    assert first["Location"] == second["Location"] == reverse("web:referral-sent", args=[referral.uuid])
    assert AuditEvent.objects.filter(action="referral.create").count() == 1


def test_nobody_else_can_open_a_draft(make_user, web_client, first_responder, child_body):
    draft = make_draft(first_responder, child_body)
    colleague = web_client(make_user("first_responder"))  # same organisation, still not theirs
    for url in (
        page_url(draft, "resume"),
        page_url(draft, "details"),
        page_url(draft, "situation", 1),
        page_url(draft, "situations"),
        page_url(draft, "check"),
        page_url(draft, "delete"),
    ):
        assert colleague.get(url).status_code == 404, url
    for url in (
        page_url(draft, "details"),
        page_url(draft, "check"),
        page_url(draft, "delete"),
        reverse("web:draft-situation-remove", args=[draft.uuid, 1]),
    ):
        assert colleague.post(url, {"given_names": "Changed"}).status_code == 404, url
    assert colleague.get(page_url(ReferralDraft(uuid=uuid.uuid4()), "resume")).status_code == 404
    draft.refresh_from_db()
    assert draft.answers["referral"]["potential_victim"]["given_names"] == "Thi Anh" and not Referral.objects.exists()

    decision_maker = web_client(make_user("sca_decision_maker"))
    assert decision_maker.get(reverse("web:referral-start")).status_code == 403
    assert decision_maker.post(reverse("web:referral-start")).status_code == 403
    assert decision_maker.get(page_url(draft, "resume")).status_code == 403
    assert ReferralDraft.objects.count() == 1


def test_a_referral_confirmation_is_only_for_those_who_may_see_the_referral(
    make_user, web_client, client, first_responder, child_body
):
    draft = make_draft(first_responder, child_body)
    client.post(page_url(draft, "check"))
    url = reverse("web:referral-sent", args=[Referral.objects.get().uuid])
    ngo = make_user(
        "first_responder", organisation=Organisation.objects.create(name="An NGO", kind=OrganisationKind.NGO)
    )
    assert web_client(ngo).get(url).status_code == 404


def test_deleting_a_draft_asks_first(client, first_responder, child_body):
    draft = make_draft(first_responder, child_body)
    confirm = client.get(page_url(draft, "delete"))
    assert confirm.status_code == 200 and "Are you sure you want to delete this draft referral?" in text_of(confirm)
    assert ReferralDraft.objects.filter(pk=draft.pk).exists()
    response = client.post(page_url(draft, "delete"))
    moves_to(response, reverse("web:home"))
    assert not ReferralDraft.objects.filter(pk=draft.pk).exists()
    assert "The draft referral has been deleted" in text_of(client.get(reverse("web:home")))
    assert client.get(page_url(draft, "resume")).status_code == 404


def test_pages_refuse_a_post_without_the_csrf_token(first_responder, child_body):
    draft = make_draft(first_responder, child_body)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(first_responder)
    assert browser.post(page_url(draft, "police"), {"police_force": "Kent Police"}).status_code == 403
    assert browser.post(reverse("web:referral-start")).status_code == 403
    draft.refresh_from_db()
    assert draft.answers["referral"]["police"]["force"] == "Metropolitan Police Service"


# --- What a name is (issue 22) ---------------------------------------------------------------------------

NAME_LABELS = {
    "given_names": "Given names",
    "family_name": "Family name",
    "aliases": "Each other name or nickname",
    "names_in_original_script": "Name in original script",
}


@pytest.mark.parametrize("name", REAL_NAMES.values(), ids=REAL_NAMES.keys())
def test_names_in_every_script_are_sent(client, first_responder, child_body, name):
    draft = make_draft(first_responder, child_body)
    moves_to(
        client.post(
            page_url(draft, "details"),
            {
                "given_names": name,
                "family_name": name,
                "aliases": name,
                "names_in_original_script": name,
                "sex": "female",
            },
        ),
        page_url(draft, "check"),
    )
    moves_to(client.post(page_url(draft, "check")), reverse("web:referral-sent", args=[Referral.objects.get().uuid]))
    pv = Referral.objects.get().potential_victim
    composed = unicodedata.normalize("NFC", name)
    assert [pv["given_names"], pv["family_name"], pv["aliases"], pv["names_in_original_script"]] == [
        composed,
        composed,
        [composed],
        composed,
    ]


@pytest.mark.parametrize("field", NAME_LABELS)
@pytest.mark.parametrize(
    ("name", "message"),
    [NOT_NAMES[case] for case in ("zero-width-space", "right-to-left-override", "digits", "combining-marks-only")],
    ids=["zero-width-space", "right-to-left-override", "digits", "combining-marks-only"],
)
def test_a_name_that_is_not_a_name_is_shown_on_its_page_and_not_sent(
    client, first_responder, child_body, field, name, message
):
    draft = make_draft(first_responder, child_body)
    response = client.post(page_url(draft, "details"), {"given_names": "Thi Anh", field: name, "sex": "female"})
    assert response.status_code == 200
    # The API's message, naming the field as GOV.UK error messages do.
    expected = (
        f"{NAME_LABELS[field]} m{message[1:]}"
        if message.startswith("Must")
        else f"{NAME_LABELS[field]}: r{message[1:]}"
    )
    [(anchor, shown)] = summary_errors(response)
    assert anchor == f"#{field}" and shown.startswith(expected)
    check = client.post(page_url(draft, "check"))
    assert check.status_code == 200 and not Referral.objects.exists()
    assert [(href.rsplit("#", 1)[1], text) for href, text in summary_errors(check)] == [(field, shown)]


def _invisible_in_every_name(code: str) -> list[tuple[str, str]]:
    return [
        (f"#{field}", f"{NAME_LABELS[field]}: remove the invisible character {code}")
        for field in ("given_names", "aliases", "names_in_original_script")
    ]


@pytest.mark.parametrize(
    ("blank", "expected"),
    [
        ("\u00a0", [("#given_names", "Enter a name, or at least one alias or nickname the person is known by")]),
        ("\u2003\u3000 ", [("#given_names", "Enter a name, or at least one alias or nickname the person is known by")]),
        ("\u200b", _invisible_in_every_name("U+200B")),
        ("\u202e", _invisible_in_every_name("U+202E")),
    ],
    ids=["no-break-space", "wide-spaces", "zero-width-space", "override"],
)
def test_a_blank_or_invisible_name_is_not_a_name_given(client, first_responder, child_body, blank, expected):
    """Spaces of any kind are trimmed, as from any answer, and so leave no name; an invisible character is not trimmed, but refused."""
    draft = make_draft(first_responder, child_body)
    response = client.post(
        page_url(draft, "details"),
        {
            "given_names": blank,
            "family_name": "",
            "aliases": f"{blank}\r\n{blank}",
            "names_in_original_script": blank,
            "sex": "female",
        },
    )
    assert response.status_code == 200
    assert [
        (anchor, text[: len(message)]) for (anchor, text), (_, message) in zip(summary_errors(response), expected)
    ] == expected
    assert len(summary_errors(response)) == len(expected)
    client.post(page_url(draft, "check"))
    assert not Referral.objects.exists()
