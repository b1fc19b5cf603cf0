"""The pages for "no" (issue 25 point 4): not found, refused and a failure of the service, each a GOV.UK page with
the header, a way back and whom to contact; the API's answers stay JSON as before."""

import uuid

import pytest
from django.test import Client

from opennrm.policy import Role
from opennrm.tests.status_pages import visible_text

SERVICE_DESK = "the OpenNRM service desk (email service-desk@opennrm.invalid)"
HEADER = 'class="govuk-header"'
WAY_BACK = 'href="/">Go to the home page</a>'


def page_text(response) -> str:
    return visible_text(response.content.decode())


def assert_a_govuk_page_with_a_way_back_and_whom_to_contact(response):
    html = response.content.decode()
    assert HEADER in html
    assert WAY_BACK in html
    assert f"contact {SERVICE_DESK}" in page_text(response)
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_an_unknown_page_is_a_404_page_not_found_with_a_way_back_and_whom_to_contact():
    response = Client().get("/no-such-page")
    assert response.status_code == 404
    assert '<h1 class="govuk-heading-l">Page not found</h1>' in response.content.decode()
    assert_a_govuk_page_with_a_way_back_and_whom_to_contact(response)


def test_a_refused_page_is_a_403_page_saying_why_with_a_way_back_and_whom_to_contact(make_user, web_client):
    officer = make_user(Role.IMMIGRATION_OFFICER, username="officer")
    response = web_client(officer).get("/referrals")
    assert response.status_code == 403
    text = page_text(response)
    assert "You cannot do this" in text
    assert "Your role cannot list referrals." in text
    assert_a_govuk_page_with_a_way_back_and_whom_to_contact(response)
    # Still a signed-in page: the menu and the footer know the user.
    assert "Signed in as officer" in text


@pytest.fixture
def failing_urls(settings):
    settings.ROOT_URLCONF = "opennrm.web.tests.failing_urls"


# No django_db mark: pytest-django refuses any database access, so the page is shown without one.
def test_a_failure_is_a_500_page_made_without_the_database_or_session(failing_urls):
    response = Client(raise_request_exception=False).get("/a-page-that-fails")
    assert response.status_code == 500
    assert "Sorry, there is a problem with the service" in page_text(response)
    assert_a_govuk_page_with_a_way_back_and_whom_to_contact(response)
    # The base template's script still carries the nonce the Content-Security-Policy allows.
    nonce = response["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    assert f'nonce="{nonce}"' in response.content.decode()


def test_the_contact_is_a_setting_kept_apart_from_the_nrm_status_contact(settings):
    settings.SERVICE_DESK_CONTACT = "the test desk (01234 567890)"
    client = Client(raise_request_exception=False)
    settings.ROOT_URLCONF = "opennrm.web.tests.failing_urls"
    assert "contact the test desk (01234 567890)" in page_text(client.get("/a-page-that-fails"))
    assert settings.NRM_STATUS_CONTACT != settings.SERVICE_DESK_CONTACT


@pytest.mark.django_db
def test_the_sign_in_page_where_the_idle_sign_out_lands_says_whom_to_contact():
    assert f"contact {SERVICE_DESK}" in page_text(Client().get("/sign-in"))


@pytest.mark.django_db
def test_the_api_404_is_still_json_detail(api_client, make_user):
    response = api_client(make_user(Role.FIRST_RESPONDER)).get(f"/api/v1/referrals/{uuid.uuid4()}")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found"}


def test_an_api_path_that_fails_or_does_not_exist_keeps_django_s_plain_answer_not_a_page(failing_urls, db):
    client = Client(raise_request_exception=False)
    failed = client.get("/api/v1/a-path-that-fails")
    unknown = client.get("/api/v1/no-such-path")
    assert failed.status_code == 500 and unknown.status_code == 404
    for response in (failed, unknown):
        assert HEADER not in response.content.decode()
