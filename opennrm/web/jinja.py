"""The Jinja2 environment for the pages: GOV.UK Frontend macros plus a few Django helpers."""

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.messages import get_messages
from django.templatetags.static import static
from django.urls import reverse
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, PrefixLoader

from opennrm.policy import Capability, has_capability
from opennrm.referrals.codes import NATIONS, countries, languages, local_authority_name
from opennrm.safeguarding.selectors import missing_now_available, safeguarding_queue_available

LONDON = ZoneInfo("Europe/London")
TEMPLATES = Path(__file__).parent / "templates"


def url(name: str, *args, **kwargs) -> str:
    return reverse(name, args=args or None, kwargs=kwargs or None)


def london_date(value) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value) if len(value) == 10 else dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        value = value.astimezone(LONDON).date()
    return f"{value.day} {value:%B %Y}"


def london_datetime(value) -> str:
    if not value:
        return ""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    local = value.astimezone(LONDON)
    return f"{local.day} {local:%B %Y} at {local:%-I:%M%p}".replace("AM", "am").replace("PM", "pm")


def session_timeouts() -> dict:
    """The idle sign-out and its warning, in seconds, for the timeout warning's script (read at each render)."""
    return {
        "sign_out": settings.IDLE_SIGN_OUT_SECONDS,
        "warning": min(settings.IDLE_WARNING_SECONDS, settings.IDLE_SIGN_OUT_SECONDS),
    }


def service_desk_contact() -> str:
    """Whom a user asks about the service itself (settings.SERVICE_DESK_CONTACT), read at each render."""
    return settings.SERVICE_DESK_CONTACT


def environment(**options) -> Environment:
    options.pop("loader", None)
    env = Environment(
        loader=ChoiceLoader(
            [
                FileSystemLoader(TEMPLATES),
                PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
            ]
        ),
        **options,
    )
    env.globals.update(
        url=url,
        static=static,
        get_messages=get_messages,
        session_timeouts=session_timeouts,
        service_desk_contact=service_desk_contact,
        has_capability=has_capability,
        Capability=Capability,
        NATIONS=NATIONS,
        country_name=lambda code: countries().get(code, code),
        language_name=lambda code: languages().get(code, code),
        local_authority_name=local_authority_name,
        missing_now_available=missing_now_available,
        safeguarding_queue_available=safeguarding_queue_available,
    )
    env.filters.update(london_date=london_date, london_datetime=london_datetime)
    # Also as filters, for `codes|map("country_name")`: Jinja's map takes a filter's name, not a function.
    env.filters.update(country_name=env.globals["country_name"], language_name=env.globals["language_name"])
    return env
