"""Signing in as a person does, through the pages, and codes from a real authenticator (pyotp)."""

import base64
import binascii
import datetime as dt
import html
import re

import pyotp
import time_machine
from django.test import Client

from opennrm.conftest import PASSWORD

TOTP_STEP = dt.timedelta(seconds=30)


def totp_for_key(hex_key: str) -> pyotp.TOTP:
    """What an authenticator app holding this key computes (RFC 6238, as pyotp implements it)."""
    return pyotp.TOTP(base64.b32encode(binascii.unhexlify(hex_key)).decode())


def totp_for_secret_text(shown: str) -> pyotp.TOTP:
    """The authenticator app, given the key as the set-up page shows it for typing in."""
    return pyotp.TOTP(shown.replace(" ", ""))


def shown_secret(response) -> str:
    found = re.search(r'id="secret-key">([^<]+)<', response.content.decode())
    assert found, "the set-up page shows no key to type in"
    return html.unescape(found[1])


def next_step():
    """Moves the clock on by one TOTP step, so that the next code differs from the last (each code is used once)."""
    return time_machine.travel(dt.datetime.now(dt.UTC) + TOTP_STEP, tick=True)


def sign_in(client: Client, username: str, password: str = PASSWORD, next_url: str = "", address: str = "127.0.0.1"):
    data = {"username": username, "password": password}
    if next_url:
        data["next"] = next_url
    return client.post("/sign-in", data, REMOTE_ADDR=address)


def error_summary_text(response) -> str:
    page = response.content.decode()
    found = re.search(r'govuk-error-summary__list">(.*?)</ul>', page, re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found[1])).split()) if found else ""
