"""What an attacker or a careless client sends before any view runs, and what the server answers
with: NUL characters in forms, oversized bodies refused unread, request ids on errors and in the
log, the Content-Security-Policy, and the portal look-up's limits."""

from __future__ import annotations

import io
import logging
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, RequestFactory
from django.urls import path

from aftersales.cases.models import Case, Evidence
from aftersales.core.middleware import body_limit_for
from aftersales.core.ratelimit import (
    portal_lookup_allowed,
    portal_lookup_succeeded,
    rate_prune,
)
from aftersales.team.models import Note
from config.urls import handler404, handler500  # noqa: F401  (the error pages of this URLconf)
from config.urls import urlpatterns as product_urlpatterns
from tests.conftest import open_case
from tests.test_pages import portal_client

MEGABYTE = 1024 * 1024


def explode(request):
    logging.getLogger("aftersales.test").info("about to fail")
    raise RuntimeError("the test view fails on purpose")


# Used by the tests marked ``urls("tests.test_security")``: the product plus views that fail.
urlpatterns = [
    path("explode/", explode),
    path("api/v1/explode", explode),
    *product_urlpatterns,
]


@pytest.fixture
def case_number(customer, order):
    return open_case(customer, order)["number"]


# --- NUL characters in forms ------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"username": "desk-agent\x00", "password": "pw-agent-123"},
        {"username": "desk-agent", "password": "pw\x00"},
        {"user\x00name": "desk-agent", "password": "pw-agent-123"},
    ],
)
def test_a_nul_in_the_desk_login_is_a_400_page(desk, fields):
    # when
    response = Client().post("/desk/login/", fields)
    # then
    assert response.status_code == 400
    assert "The form contains a NUL character." in response.content.decode()


def test_a_nul_in_the_portal_look_up_is_a_400_page(order):
    # when
    response = Client().post("/", {"order": "O1\x00", "phone": "13800000000"})
    # then
    assert response.status_code == 400
    assert "The form contains a NUL character." in response.content.decode()


def test_a_nul_in_a_desk_note_is_refused_and_nothing_is_stored(desk, case_number):
    # when
    response = desk.post(f"/desk/cases/{case_number}/note/", {"text": "已电话\x00联系"})
    # then
    assert response.status_code == 400
    assert Note.objects.count() == 0


def test_a_nul_in_the_portal_application_opens_no_case(order):
    # given
    client = portal_client(order)
    line = order.lines.get()
    # when
    response = client.post(
        f"/orders/{order.id}/apply/",
        {
            "kind": "return_refund",
            "reason": "quality_issue",
            "description": "坏了\x00",
            f"qty-{line.id}": "1",
        },
    )
    # then
    assert response.status_code == 400
    assert Case.objects.count() == 0


def test_a_nul_in_an_evidence_caption_is_malformed_request(customer, case_number):
    # when
    response = customer.client.post(
        f"/api/v1/cases/{case_number}/evidence",
        {
            "file": SimpleUploadedFile("a.png", b"\x89PNG\r\n\x1a\n", content_type="image/png"),
            "caption": "鞋底\x00开胶",
        },
    )
    # then
    assert response.status_code == 400
    assert response.json() == {
        "code": "malformed_request",
        "detail": "The form contains a NUL character.",
    }
    assert Evidence.objects.count() == 0


def test_a_broken_multipart_body_is_a_400_not_a_500(customer, case_number):
    # when
    response = customer.client.post(
        f"/api/v1/cases/{case_number}/evidence",
        b"--x\r\nContent-Disposition: form-data; name=\r\n\r\n",
        content_type="multipart/form-data; boundary=",
    )
    # then
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_request"


# --- body size, refused before reading --------------------------------------------------------


class UnreadableBody(io.RawIOBase):
    """A request body that fails the test if anything reads it."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer):
        raise AssertionError("the body was read before its size was checked")


def post_unread(client: Client, url: str, declared: int):
    return client.post(
        url,
        **{
            "wsgi.input": UnreadableBody(),
            "CONTENT_LENGTH": str(declared),
            "CONTENT_TYPE": "multipart/form-data; boundary=xyz",
        },
    )


def test_an_oversized_evidence_upload_is_413_before_it_is_read(customer, case_number):
    # when
    response = post_unread(customer.client, f"/api/v1/cases/{case_number}/evidence", 300 * MEGABYTE)
    # then
    assert response.status_code == 413
    assert response.json() == {
        "code": "payload_too_large",
        "detail": "The request body is too large.",
    }


@pytest.mark.parametrize(
    ("url", "declared"),
    [
        ("/orders/1/apply/", 51 * MEGABYTE + 1),
        ("/desk/login/", 3 * MEGABYTE + 1),
        ("/", 300 * MEGABYTE),
    ],
)
def test_an_oversized_form_is_a_413_page_before_it_is_read(db, url, declared):
    # when
    response = post_unread(Client(), url, declared)
    # then
    assert response.status_code == 413
    assert "The request body is too large." in response.content.decode()


def test_each_path_has_its_body_limit():
    assert body_limit_for("POST", "/api/v1/cases/AS20261124000001/evidence") == 51 * MEGABYTE
    assert body_limit_for("POST", "/orders/12/apply/") == 51 * MEGABYTE
    assert body_limit_for("POST", "/api/v1/orders") == 3 * MEGABYTE
    assert body_limit_for("PUT", "/api/v1/cases/AS20261124000001/evidence") == 3 * MEGABYTE
    assert body_limit_for("POST", "/orders/12/apply/extra") == 3 * MEGABYTE


# --- request ids, 500s and the log ------------------------------------------------------------


@pytest.mark.urls("tests.test_security")
def test_a_500_page_shows_the_id_that_the_log_has_with_the_traceback(db, caplog):
    # given
    client = Client(raise_request_exception=False)
    # when
    with caplog.at_level(logging.INFO):
        response = client.get("/explode/")
    # then
    request_id = response["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    assert response.status_code == 500
    assert f'<code id="request-id">{request_id}</code>' in response.content.decode()
    [error] = [r for r in caplog.records if r.name == "django.request"]
    [info] = [r for r in caplog.records if r.name == "aftersales.test"]
    assert (error.request_id, info.request_id) == (request_id, request_id)
    assert "RuntimeError: the test view fails on purpose" in caplog.text


@pytest.mark.urls("tests.test_security")
def test_the_console_prints_500s_with_their_traceback_and_id_with_debug_off(db, caplog, settings):
    # given
    settings.DEBUG = False
    client = Client(raise_request_exception=False)
    # when
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = client.get("/explode/")
    # then
    [record] = [r for r in caplog.records if r.name == "django.request"]
    printing = [
        handler
        for handler in logging.getLogger("django").handlers
        if isinstance(handler, logging.StreamHandler) and handler.filter(record)
    ]
    assert len(printing) == 1
    line = printing[0].format(record)
    assert f"[{response['X-Request-ID']}] Internal Server Error: /explode/" in line
    assert "Traceback (most recent call last)" in line
    assert "RuntimeError: the test view fails on purpose" in line


@pytest.mark.urls("tests.test_security")
def test_an_api_500_answers_json_with_the_request_id(db):
    # given
    client = Client(raise_request_exception=False)
    # when
    response = client.get("/api/v1/explode", HTTP_X_REQUEST_ID="edge-7f3a9c01")
    # then
    assert response.status_code == 500
    assert response["X-Request-ID"] == "edge-7f3a9c01"
    assert response.json() == {
        "code": "server_error",
        "detail": "Internal error; it has been logged.",
        "request_id": "edge-7f3a9c01",
    }


@pytest.mark.parametrize("incoming", ["short", "has space 1234", "x" * 65, "<script>1</script>"])
def test_a_malformed_incoming_request_id_is_replaced(db, incoming):
    # when
    response = Client().get("/about/", HTTP_X_REQUEST_ID=incoming)
    # then
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


# --- Content-Security-Policy ------------------------------------------------------------------

POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data: blob:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}


def policy_of(response) -> dict[str, str]:
    parts = response["Content-Security-Policy"].split(";")
    return dict(part.strip().split(" ", 1) for part in parts)


def test_pages_the_api_and_the_admin_carry_the_policy(customer):
    for response in (
        Client().get("/"),
        Client().get("/desk/login/"),
        Client().get("/about/"),
        Client().get("/admin/login/"),
        Client().get("/api/v1/docs"),
        customer.get("/cases"),
    ):
        assert response.status_code == 200
        assert policy_of(response) == POLICY


@pytest.mark.parametrize("url", ["/", "/desk/login/", "/about/", "/no-such-page/"])
def test_pages_have_no_inline_styles_or_scripts(db, url):
    # when
    html = Client().get(url).content.decode()
    # then
    assert "<style" not in html
    assert " style=" not in html
    assert all(' src="' in tag for tag in re.findall(r"<script[^>]*>", html))
    assert '"includeIndicatorStyles":false' in html or "htmx" not in html


def test_the_api_docs_run_only_their_own_static_scripts(db):
    # Swagger UI comes from ninja's static files with its settings in a JSON data block, so the
    # page works under the same policy (checked in Chromium: no violation, "Try it out" works).
    html = Client().get("/api/v1/docs").content.decode()
    scripts = re.findall(r"<script[^>]*>", html)
    assert scripts == [
        '<script type="application/json" id="swagger-settings">',
        '<script src="/static/ninja/swagger-ui-bundle.js">',
        '<script src="/static/ninja/swagger-ui-init.js">',
    ]
    assert "<style" not in html


# --- the portal's order look-up ---------------------------------------------------------------


def look_up_from(address: str):
    return RequestFactory().post("/", REMOTE_ADDR=address)


def test_guesses_on_one_order_number_are_limited_from_any_address(db, clock):
    # given
    for number in range(5):
        assert portal_lookup_allowed(look_up_from(f"10.0.0.{number}"), "TB-1")
    # when
    sixth = portal_lookup_allowed(look_up_from("10.0.9.9"), "TB-1")
    # then
    assert sixth is False
    assert portal_lookup_allowed(look_up_from("10.0.9.9"), "TB-2") is True
    clock.shift(minutes=15)
    assert portal_lookup_allowed(look_up_from("10.0.9.9"), "TB-1") is True


def test_finding_the_order_resets_its_guesses(db, clock):
    # given
    for number in range(4):
        assert portal_lookup_allowed(look_up_from(f"10.0.0.{number}"), "TB-1")
    assert portal_lookup_allowed(look_up_from("10.0.1.1"), "TB-1")
    # when
    portal_lookup_succeeded(look_up_from("10.0.1.1"), "TB-1")
    # then
    allowed = [portal_lookup_allowed(look_up_from("10.0.2.2"), "TB-1") for _ in range(6)]
    assert allowed == [True, True, True, True, True, False]


def test_one_address_is_limited_across_order_numbers(db, clock):
    # given
    for number in range(20):
        assert portal_lookup_allowed(look_up_from("10.0.0.1"), f"TB-{number}")
    # when
    refused = portal_lookup_allowed(look_up_from("10.0.0.1"), "TB-99")
    # then
    assert refused is False
    assert portal_lookup_allowed(look_up_from("10.0.0.2"), "TB-99") is True


def test_pruning_keeps_the_windows_that_are_still_open(db, clock):
    # given
    for number in range(5):
        portal_lookup_allowed(look_up_from(f"10.0.0.{number}"), "TB-1")
    clock.shift(minutes=10)
    # when
    rate_prune()
    # then
    assert portal_lookup_allowed(look_up_from("10.0.9.9"), "TB-1") is False
    clock.shift(minutes=30)
    assert rate_prune() == 7
