"""What a hostile or careless client can send: big, deep, broken bodies; password guessing; and
production settings that pass Django's deployment check."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from aftersales.cases.models import Case
from aftersales.catalog.models import Order
from tests.conftest import Api


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{" * 100_000, 400, "malformed_request"),  # deep nesting
        (b"[" * 50_000 + b"]" * 50_000, 400, "malformed_request"),
        (b'\xff\xfe{"order_id": 1}', 400, "malformed_request"),  # not UTF-8
        (b"[]", 422, "validation_error"),
        (b'"text"', 422, "validation_error"),
        (b"null", 422, "validation_error"),
        (
            b'{"order_id": 1, "kind": "refund_only", "reason": "missing_item", "lines": ['
            + b",".join([b'{"order_line_id": 1, "quantity": 1}'] * 10_000)
            + b"]}",
            422,
            "validation_error",
        ),
        (
            b'{"order_id": 99999999999999999999999, "kind": "refund_only", '
            b'"reason": "missing_item", "lines": [{"order_line_id": 1, "quantity": 1}]}',
            422,
            "validation_error",
        ),
        (
            b'{"order_id": 1, "kind": "refund_only", "reason": "missing_item", '
            b'"description": "\\u0000", "lines": [{"order_line_id": 1, "quantity": 1e400}]}',
            400,
            "malformed_request",
        ),
    ],
)
def test_broken_bodies_are_refused_with_a_code(customer, order, body, status, code):
    response = customer.client.post("/api/v1/cases", body, content_type="application/json")
    assert response.status_code == status, response.content[:300]
    assert response.json()["code"] == code
    assert Case.objects.count() == 0


def test_an_oversized_body_is_413(agent):
    body = json.dumps({"blob": "x" * (3 * 1024 * 1024)})
    response = agent.client.post("/api/v1/orders", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert Order.objects.count() == 0


def test_too_many_orders_in_one_call(agent):
    order = {
        "shop": "shop",
        "external_id": "X",
        "customer": {"external_id": "C"},
        "lines": [
            {
                "external_id": "1",
                "sku": "S",
                "title": "t",
                "quantity": 1,
                "unit_price": "1",
                "paid_amount": "1",
            }
        ],
    }
    response = agent.post("/orders", [{**order, "external_id": str(i)} for i in range(501)])
    assert response.status_code == 422
    assert response.json()["code"] == "too_many_orders"
    assert Order.objects.count() == 0


def test_control_characters_and_long_strings_in_paths(agent):
    assert agent.get("/cases/" + "A" * 5000).status_code == 404
    assert agent.get("/shops/%00").status_code == 400
    assert agent.get("/orders/not-a-number").status_code == 422


# --- the token endpoint and its rate limit ----------------------------------------------------


@pytest.fixture
def lee(shop):
    from aftersales.team.services import user_create

    user_create(username="lee", role="agent", shop_codes=["shop"], password="correct horse 42")


def token_call(client, password, username="lee"):
    return client.post(
        "/api/v1/auth/token",
        json.dumps({"username": username, "password": password}),
        content_type="application/json",
    )


def test_a_password_buys_a_token(lee):
    response = token_call(Client(), "correct horse 42")
    assert response.status_code == 201
    assert Api(response.json()["token"]).get("/cases").status_code == 200
    wrong = token_call(Client(), "wrong")
    assert wrong.status_code == 401
    assert wrong.json()["code"] == "invalid_credentials"


def test_password_guessing_is_throttled_then_forgiven(lee, clock):
    client = Client()
    for _ in range(10):
        assert token_call(client, "guess").status_code == 401
    throttled = token_call(client, "correct horse 42")
    assert throttled.status_code == 429
    assert throttled.json()["code"] == "throttled"
    clock.shift(minutes=10)
    assert token_call(client, "correct horse 42").status_code == 201


def test_wrong_passwords_from_one_address_do_not_lock_the_user_out_elsewhere(lee):
    # given
    attacker = Client(REMOTE_ADDR="10.0.0.1")
    answers = [token_call(attacker, "guess").status_code for _ in range(12)]
    # when
    response = token_call(Client(REMOTE_ADDR="10.0.1.1"), "correct horse 42")
    # then
    assert answers == [401] * 10 + [429] * 2
    assert response.status_code == 201


def test_a_success_starts_the_user_and_address_afresh(lee):
    # given
    client = Client(REMOTE_ADDR="10.0.0.1")
    for _ in range(9):
        assert token_call(client, "guess").status_code == 401
    # when
    assert token_call(client, "correct horse 42").status_code == 201
    # then
    answers = [token_call(client, "guess").status_code for _ in range(11)]
    assert answers == [401] * 10 + [429]


def test_successful_logins_do_not_count(lee):
    # given
    client = Client(REMOTE_ADDR="10.0.0.1")
    for _ in range(40):
        assert token_call(client, "correct horse 42").status_code == 201
    # when
    answers = [token_call(client, "guess").status_code for _ in range(11)]
    # then
    assert answers == [401] * 10 + [429]


def test_one_address_spraying_many_user_names_is_stopped(lee):
    # given
    sprayer = Client(REMOTE_ADDR="10.0.0.1")
    answers = [token_call(sprayer, "guess", username=f"user{n}").status_code for n in range(30)]
    # when
    from_the_sprayer = token_call(sprayer, "correct horse 42")
    # then
    assert answers == [401] * 30
    assert from_the_sprayer.status_code == 429
    assert token_call(Client(REMOTE_ADDR="10.0.0.2"), "correct horse 42").status_code == 201


def desk_login(address: str, password: str, username: str = "lee"):
    return Client(REMOTE_ADDR=address).post(
        "/desk/login/", {"username": username, "password": password}
    )


def test_wrong_desk_passwords_from_one_address_do_not_lock_the_user_out_elsewhere(lee):
    # given
    answers = [desk_login("10.0.0.1", "guess").status_code for _ in range(12)]
    # when
    response = desk_login("10.0.1.1", "correct horse 42")
    # then
    assert answers == [200] * 10 + [429] * 2
    assert (response.status_code, response["Location"]) == (302, "/desk/")


def test_a_desk_login_resets_the_user_and_address(lee):
    # given
    for _ in range(9):
        assert desk_login("10.0.0.1", "guess").status_code == 200
    # when
    assert desk_login("10.0.0.1", "correct horse 42").status_code == 302
    # then
    answers = [desk_login("10.0.0.1", "guess").status_code for _ in range(11)]
    assert answers == [200] * 10 + [429]


def test_the_desk_login_stops_a_spray_of_user_names(lee):
    # given
    for number in range(30):
        assert desk_login("10.0.0.1", "guess", username=f"user{number}").status_code == 200
    # when
    response = desk_login("10.0.0.1", "correct horse 42")
    # then
    assert response.status_code == 429
    assert desk_login("10.0.0.2", "correct horse 42").status_code == 302


def test_the_admin_login_is_throttled(db):
    get_user_model().objects.create_superuser("boss", "b@example.com", "pw-0123456789")
    client = Client()
    for _ in range(10):
        client.post("/admin/login/", {"username": "boss", "password": "nope"})
    response = client.post("/admin/login/", {"username": "boss", "password": "pw-0123456789"})
    assert response.status_code == 429


def test_wrong_admin_passwords_from_one_address_do_not_lock_the_admin_out_elsewhere(db):
    # given
    get_user_model().objects.create_superuser("boss", "b@example.com", "pw-0123456789")
    attacker = Client(REMOTE_ADDR="10.0.0.1")
    for _ in range(12):
        attacker.post("/admin/login/", {"username": "boss", "password": "nope"})
    # when
    response = Client(REMOTE_ADDR="10.0.1.1").post(
        "/admin/login/", {"username": "boss", "password": "pw-0123456789", "next": "/admin/"}
    )
    # then
    assert (response.status_code, response["Location"]) == (302, "/admin/")


# --- production settings ---------------------------------------------------------------------


def test_production_settings_pass_the_deployment_check(tmp_path):
    env = {
        **os.environ,
        "AFTERSALES_SECURE": "1",
        "DEBUG": "0",
        "SECRET_KEY": "x7!" + "k" * 20 + "Qz9%" + "m" * 30 + "#pL2",
        "ALLOWED_HOSTS": "aftersales.example.com",
        "AFTERSALES_HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    done = subprocess.run(
        [sys.executable, "-m", "aftersales.cli", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr + done.stdout


def test_nul_characters_are_refused_everywhere(agent, order):
    # SQLite would store them; PostgreSQL cannot: both refuse them alike, with a 400
    assert agent.get("/shops/a%00b").status_code == 400
    assert agent.get("/cases", customer="C\x001").json()["code"] == "malformed_request"
    response = agent.post(
        "/orders",
        '{"shop": "shop", "external_id": "N\\u0000UL", "customer": {"external_id": "C"}, '
        '"lines": []}',
    )
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_request"


@pytest.mark.parametrize(
    "moment",
    ["0326-08-16T05:26:00.4-23:56", "0001-01-01T00:00:00+10:00", "9999-12-31T23:59:59-10:00"],
)
def test_extreme_times_are_4xx_or_fine_never_500(agent, moment):
    assert agent.get("/cases", due_before=moment).status_code in (200, 422)
