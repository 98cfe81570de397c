"""Webhooks to shops: endpoints managed by the shop's administrators over the API (the secret
answered once) and in the admin; events POSTed as signed JSON to a real receiver that checks the
signature; a failing receiver is tried again after a doubling pause on a moved clock, dead after
the last attempt, and a replay delivers it with the same delivery id."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from aftersales.notify.deliveries import deliveries_sweep
from aftersales.notify.models import Delivery, WebhookEndpoint
from aftersales.notify.runner import tasks_run
from tests.conftest import make_shop, make_user, open_case
from tests.servers import WebhookReceiver, http_server


@pytest.fixture(autouse=True)
def quiet(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.AFTERSALES_SMS_KINDS = []


@pytest.fixture
def shop_admin(shop):
    return make_user("shopadmin", "admin", shop="shop")


@pytest.fixture
def receiver(settings):
    settings.AFTERSALES_WEBHOOK_ALLOW_PRIVATE = True  # the receiver listens on 127.0.0.1
    fake = WebhookReceiver()
    with http_server(fake.handler()) as server:
        fake.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/aftersales"
        yield fake


def subscribe(api, receiver, kinds=()) -> dict:
    response = api.post("/shops/shop/webhooks", {"url": receiver.url, "event_kinds": list(kinds)})
    assert response.status_code == 201, response.content
    receiver.secret = response.json()["secret"]
    return response.json()


def test_an_administrator_adds_lists_and_removes_an_endpoint(shop_admin, receiver, clock):
    # when
    created = subscribe(shop_admin, receiver, ["case_opened", "case_refunded"])

    # then the secret is answered once
    assert len(created["secret"]) >= 40
    listed = shop_admin.get("/shops/shop/webhooks").json()
    assert listed == [
        {
            "id": created["id"],
            "url": receiver.url,
            "event_kinds": ["case_opened", "case_refunded"],
            "is_active": True,
            "description": "",
            "created_at": "2026-11-24T02:00:00Z",
        }
    ]
    # and removing it
    path = f"/api/v1/shops/shop/webhooks/{created['id']}"
    assert shop_admin.client.delete(path).status_code == 204
    assert shop_admin.get("/shops/shop/webhooks").json() == []
    missing = shop_admin.client.delete(path)
    assert (missing.status_code, missing.json()["code"]) == (404, "webhook_not_found")


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("ftp://example.com/hook", "invalid_url"),
        ("javascript:alert(1)", "invalid_url"),
        ("https://user:pw@example.com/hook", "invalid_url"),
        ("http://127.0.0.1:8000/hook", "webhook_url_private"),
        ("http://10.1.2.3/hook", "webhook_url_private"),
        ("http://169.254.169.254/latest/meta-data", "webhook_url_private"),
        ("http://[::1]/hook", "webhook_url_private"),
        ("http://0.0.0.0/hook", "webhook_url_private"),
    ],
)
def test_an_endpoint_must_be_a_public_http_url(shop_admin, url, code):
    response = shop_admin.post("/shops/shop/webhooks", {"url": url})
    assert (response.status_code, response.json()["code"]) == (422, code)
    assert WebhookEndpoint.objects.count() == 0


def test_unknown_event_types_are_refused(shop_admin, receiver):
    response = shop_admin.post(
        "/shops/shop/webhooks", {"url": receiver.url, "event_kinds": ["case_opened", "nope"]}
    )
    assert (response.status_code, response.json()["code"]) == (422, "invalid_event_kinds")


def test_only_the_shops_administrators_manage_its_webhooks(agent, shop_admin, receiver, db):
    # an agent of the shop
    for response in (
        agent.get("/shops/shop/webhooks"),
        agent.post("/shops/shop/webhooks", {"url": receiver.url}),
    ):
        assert (response.status_code, response.json()["code"]) == (403, "forbidden")
    # an administrator of another shop
    make_shop("other")
    other = make_user("otheradmin", "admin", shop="other")
    response = other.post("/shops/shop/webhooks", {"url": receiver.url})
    assert (response.status_code, response.json()["code"]) == (404, "shop_not_found")


def test_an_event_reaches_the_receiver_signed(
    shop_admin, receiver, customer, order, clock, django_capture_on_commit_callbacks
):
    # given
    endpoint = subscribe(shop_admin, receiver)

    # when a case opens and the worker runs its tasks
    with django_capture_on_commit_callbacks(execute=True):
        number = open_case(customer, order)["number"]
        deliveries_sweep()  # the worker plans the notice's deliveries
    tasks_run(worker_id="test")

    # then
    [received] = receiver.received
    delivery = Delivery.objects.get(channel="webhook")
    assert received.signature_valid
    assert received.headers["X-Aftersales-Delivery"] == str(delivery.pk)
    assert received.headers["X-Aftersales-Timestamp"] == str(int(clock.now.timestamp()))
    assert received.headers["Content-Type"] == "application/json; charset=utf-8"
    assert json.loads(received.body) == {
        "id": delivery.notice_id,
        "type": "case_opened",
        "created_at": "2026-11-24T02:00:00Z",
        "shop": "shop",
        "subject": {"type": "case", "number": number},
        "data": {"state": "awaiting_seller"},
    }
    assert (delivery.status, delivery.attempts, delivery.endpoint_id) == (
        "delivered",
        1,
        endpoint["id"],
    )


def test_an_endpoint_gets_only_the_kinds_it_asked_for(
    shop_admin, receiver, customer, order, clock, django_capture_on_commit_callbacks
):
    subscribe(shop_admin, receiver, ["case_refunded"])
    with django_capture_on_commit_callbacks(execute=True):
        open_case(customer, order)
        deliveries_sweep()  # the worker plans the notice's deliveries
    tasks_run(worker_id="test")
    assert receiver.received == []
    assert not Delivery.objects.filter(channel="webhook").exists()


def test_a_failing_receiver_is_retried_with_backoff_then_dead_and_a_replay_delivers(
    shop_admin, receiver, customer, order, clock, settings, django_capture_on_commit_callbacks
):
    # given a receiver that answers 500, and four attempts at most
    settings.AFTERSALES_DELIVERY_MAX_ATTEMPTS = 4
    subscribe(shop_admin, receiver)
    receiver.statuses = [500]
    with django_capture_on_commit_callbacks(execute=True):
        open_case(customer, order)
        deliveries_sweep()  # the worker plans the notice's deliveries
    delivery = Delivery.objects.get(channel="webhook")
    started = clock.now
    schedule = []

    # when the worker runs what is due, the clock moving to each next attempt
    for _round in range(4):
        with django_capture_on_commit_callbacks(execute=True):
            tasks_run(worker_id="test")
        delivery.refresh_from_db()
        schedule.append((delivery.status, delivery.attempts, delivery.next_attempt_at - started))
        clock.set(delivery.next_attempt_at)

    # then: 1, 2 and 4 minutes apart, then dead
    minute = dt.timedelta(minutes=1)
    assert schedule == [
        ("pending", 1, 1 * minute),
        ("pending", 2, 3 * minute),
        ("pending", 3, 7 * minute),
        ("dead", 4, 7 * minute),
    ]
    assert delivery.last_error == "HTTP 500"
    assert len(receiver.received) == 4
    assert all(r.signature_valid for r in receiver.received)
    assert {r.headers["X-Aftersales-Delivery"] for r in receiver.received} == {str(delivery.pk)}

    # when the receiver is fixed and an administrator replays it
    receiver.statuses = [200]
    receiver.received.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = shop_admin.post(f"/webhook-deliveries/{delivery.pk}/replay")
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "pending"
    tasks_run(worker_id="test")

    # then it arrives, with the same delivery id
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 5)
    [received] = receiver.received
    assert received.signature_valid
    assert received.headers["X-Aftersales-Delivery"] == str(delivery.pk)


def test_a_replay_is_for_the_shops_administrators_and_not_while_it_is_tried(
    shop_admin, agent, receiver, customer, order, clock, django_capture_on_commit_callbacks
):
    subscribe(shop_admin, receiver)
    with django_capture_on_commit_callbacks(execute=True):
        open_case(customer, order)
        deliveries_sweep()  # the worker plans the notice's deliveries
    delivery = Delivery.objects.get(channel="webhook")
    # still waiting for its first attempt
    response = shop_admin.post(f"/webhook-deliveries/{delivery.pk}/replay")
    assert (response.status_code, response.json()["code"]) == (409, "delivery_in_progress")
    tasks_run(worker_id="test")
    # an agent may not; another shop's administrator does not see it
    response = agent.post(f"/webhook-deliveries/{delivery.pk}/replay")
    assert (response.status_code, response.json()["code"]) == (403, "forbidden")
    make_shop("other")
    other = make_user("otheradmin", "admin", shop="other")
    response = other.post(f"/webhook-deliveries/{delivery.pk}/replay")
    assert (response.status_code, response.json()["code"]) == (404, "delivery_not_found")
    response = shop_admin.post("/webhook-deliveries/999999/replay")
    assert (response.status_code, response.json()["code"]) == (404, "delivery_not_found")
    # the e-mail delivery is no webhook delivery
    email = Delivery.objects.get(channel="email")
    response = shop_admin.post(f"/webhook-deliveries/{email.pk}/replay")
    assert (response.status_code, response.json()["code"]) == (404, "delivery_not_found")


@pytest.fixture
def superuser_client(db):
    get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-0123456789")
    client = Client()
    client.login(username="boss", password="pw-0123456789")
    return client


def test_the_admin_adds_an_endpoint_showing_its_secret_once_and_replays_deliveries(
    superuser_client, receiver, customer, order, shop, clock, django_capture_on_commit_callbacks
):
    # when an endpoint is added in the admin
    page = superuser_client.post(
        "/admin/notify/webhookendpoint/add/",
        {
            "shop": shop.pk,
            "url": receiver.url,
            "event_kinds": "[]",
            "description": "ERP",
            "is_active": "on",
        },
        follow=True,
    )
    endpoint = WebhookEndpoint.objects.get()
    receiver.secret = endpoint.secret

    # then the secret is shown this once, and the edit page does not show it
    assert endpoint.secret in page.content.decode()
    change = superuser_client.get(f"/admin/notify/webhookendpoint/{endpoint.pk}/change/")
    assert change.status_code == 200
    assert endpoint.secret not in change.content.decode()

    # and a delivered event replayed from the admin arrives again
    with django_capture_on_commit_callbacks(execute=True):
        open_case(customer, order)
        deliveries_sweep()  # the worker plans the notice's deliveries
    tasks_run(worker_id="test")
    delivery = Delivery.objects.get(channel="webhook")
    with django_capture_on_commit_callbacks(execute=True):
        superuser_client.post(
            "/admin/notify/delivery/",
            {"action": "replay", "index": "0", "_selected_action": [delivery.pk]},
        )
    tasks_run(worker_id="test")
    assert [r.signature_valid for r in receiver.received] == [True, True]
    assert superuser_client.get("/admin/notify/delivery/").status_code == 200


def test_the_admin_refuses_a_private_address(superuser_client, shop, settings):
    settings.AFTERSALES_WEBHOOK_ALLOW_PRIVATE = False
    page = superuser_client.post(
        "/admin/notify/webhookendpoint/add/",
        {"shop": shop.pk, "url": "http://127.0.0.1/x", "event_kinds": "[]", "is_active": "on"},
    )
    assert page.status_code == 200
    assert "Webhooks may only go to public internet addresses." in page.content.decode()
    assert WebhookEndpoint.objects.count() == 0
