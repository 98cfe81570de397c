"""Push messages at ``/connectors/push/<platform>/<store id>``: checked as each platform signs
them (Douyin's event-sign, Kuaishou's encrypted body, the signed relays of Taobao's TMC,
Pinduoduo's and JD's long-connection messages), each after-sales message a reason to read its
request again — duplicates and messages out of order end in the platform's latest state; a bad
signature, a stale relay or an unknown store enqueue nothing; a paused store acknowledges and
reads nothing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from urllib.parse import urlencode

import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.test import Client
from django_tasks_db.models import DBTaskResult

from aftersales.connectors.base import Credentials
from aftersales.connectors.models import PlatformRequest, Store
from aftersales.connectors.platforms import wire
from aftersales.connectors.sync import store_create
from aftersales.connectors.tasks import refresh_request
from aftersales.notify.runner import tasks_run
from tests.conftest import NOW, make_shop
from tests.fakes.douyin import ACCESS_TOKEN as DOUYIN_TOKEN
from tests.fakes.douyin import APP_KEY as DOUYIN_KEY
from tests.fakes.douyin import APP_SECRET as DOUYIN_SECRET
from tests.fakes.douyin import FakeDouyin
from tests.fakes.fakegateway import running
from tests.fakes.pinduoduo import pdd_sign
from tests.fakes.taobao import top_sign

SHOP_ID = "4463798"
MESSAGE_KEY = bytes(range(16))


@pytest.fixture
def douyin():
    with running(FakeDouyin()) as fake:
        yield fake


def add_store(platform: str, *, seller_id: str = SHOP_ID, gateway: str = "", **extra) -> Store:
    return store_create(
        shop=make_shop(f"s{Store.objects.count()}"),
        platform=platform,
        name=f"{platform} 店",
        credentials=Credentials(
            app_key=DOUYIN_KEY if platform == "douyin" else f"{platform}-key",
            app_secret=DOUYIN_SECRET if platform == "douyin" else f"{platform}-secret",
            access_token=DOUYIN_TOKEN,
            seller_id=seller_id,
            extra=extra,
        ),
        gateway=gateway,
    )


@pytest.fixture
def store(db, clock, douyin):
    return add_store("douyin", gateway=douyin.url)


def reads_queued() -> list[list]:
    return [
        row["args"]
        for row in DBTaskResult.objects.filter(task_path=refresh_request.module_path)
        .order_by("enqueued_at")
        .values_list("args_kwargs", flat=True)
    ]


# --- Douyin -----------------------------------------------------------------------------------


def douyin_body(*messages: tuple[str, dict]) -> bytes:
    return json.dumps(
        [
            {"tag": tag, "msg_id": f"m{number}", "data": json.dumps(data)}
            for number, (tag, data) in enumerate(messages)
        ]
    ).encode()


def douyin_push(store: Store, body: bytes, *, secret: str = DOUYIN_SECRET, method: str = "md5"):
    """Posted as 抖店 posts it: the body signed with md5 (or HMAC-SHA256) of app_key + body +
    app_secret, written from the platform's description (not the product's code)."""
    text = DOUYIN_KEY.encode() + body + secret.encode()
    if method == "hmac-sha256":
        sign = hmac.new(secret.encode(), text, hashlib.sha256).hexdigest()
    else:
        sign = hashlib.md5(text).hexdigest()
    return Client().post(
        f"/connectors/push/douyin/{store.pk}",
        body,
        content_type="application/json",
        HTTP_EVENT_SIGN=sign,
        HTTP_APP_ID=DOUYIN_KEY,
        HTTP_SIGN_METHOD=method,
    )


def refund_message(aftersale_id: str, tag: str = "201", **more) -> tuple[str, dict]:
    return tag, {
        "aftersale_id": int(aftersale_id),
        "p_id": 69000000000000000,
        "shop_id": int(SHOP_ID),
        "aftersale_status": 6,
        **more,
    }


def test_duplicate_and_late_pushes_end_in_the_latest_state(store, douyin):
    request_id = next(iter(douyin.records))
    record = douyin.records[request_id]["aftersale_info"]
    # given the platform tells of a new request, twice (a duplicate)
    for _ in range(2):
        answer = douyin_push(store, douyin_body(refund_message(request_id, tag="200")))
        assert (answer.status_code, answer.json()) == (200, {"code": 0, "msg": "success"})
    # then one read waits (the second found it waiting), and it keeps the request as it is now
    assert reads_queued() == [[store.pk, request_id, "69000000000000000"]]
    assert tasks_run(worker_id="test") == 1
    row = PlatformRequest.objects.get(store=store, request_id=request_id)
    assert (row.status, row.revisions) == ("6", 1)
    # when the request moves twice on the platform and the messages arrive newest first
    record["aftersale_status"], record["update_time"] = 7, record["update_time"] + 60
    newest = douyin_body(refund_message(request_id, tag="202", aftersale_status=7))
    older = douyin_body(refund_message(request_id, tag="201", aftersale_status=6))
    douyin_push(store, newest)
    tasks_run(worker_id="test")
    douyin_push(store, older)
    douyin_push(store, older)
    tasks_run(worker_id="test")
    # then the request is the platform's latest, changed once; the late messages changed nothing
    row.refresh_from_db()
    assert (row.status, row.version, row.revisions) == ("7", str(record["update_time"]), 2)


def test_a_push_signed_with_hmac_is_taken(store, douyin):
    request_id = next(iter(douyin.records))
    answer = douyin_push(store, douyin_body(refund_message(request_id)), method="hmac-sha256")
    assert answer.status_code == 200
    assert len(reads_queued()) == 1


def test_a_bad_signature_enqueues_nothing(store, douyin):
    request_id = next(iter(douyin.records))
    answer = douyin_push(store, douyin_body(refund_message(request_id)), secret="forged")
    assert answer.status_code == 401
    assert answer.json()["code"] == "bad_signature" and answer.json()["detail"]
    unsigned = Client().post(
        f"/connectors/push/douyin/{store.pk}", b"[]", content_type="application/json"
    )
    assert unsigned.status_code == 401
    assert reads_queued() == []


def test_other_messages_and_other_accounts_are_acknowledged_and_ignored(store, douyin):
    request_id = next(iter(douyin.records))
    body = douyin_body(
        ("100", {"p_id": 1, "shop_id": int(SHOP_ID)}),  # an order was created
        refund_message(request_id, shop_id=999),  # another shop's
    )
    answer = douyin_push(store, body)
    assert (answer.status_code, answer.json()) == (200, {"code": 0, "msg": "success"})
    assert reads_queued() == []


def test_a_paused_store_acknowledges_and_reads_nothing(store, douyin):
    Store.objects.filter(pk=store.pk).update(paused=True)
    request_id = next(iter(douyin.records))
    answer = douyin_push(store, douyin_body(refund_message(request_id)))
    assert answer.status_code == 200
    assert reads_queued() == []
    # a read queued before the pause reads nothing either
    assert refresh_request.call(store.pk, request_id) == {"changed": False, "error": "waiting"}
    assert not PlatformRequest.objects.exists()


def test_unknown_stores_and_unreadable_bodies_are_refused(store, douyin, settings):
    body = douyin_body(refund_message(next(iter(douyin.records))))
    missing = Client().post("/connectors/push/douyin/999", body, content_type="application/json")
    assert (missing.status_code, missing.json()["code"]) == (404, "store_not_found")
    wrong_platform = Client().post(
        f"/connectors/push/kuaishou/{store.pk}", body, content_type="application/json"
    )
    assert wrong_platform.status_code == 404
    # signed, but not the platform's shape
    malformed = douyin_push(store, b'{"not": "a list"}')
    assert (malformed.status_code, malformed.json()["code"]) == (400, "malformed_push")
    # the keys cannot be opened (the secret key changed): the platform is told to try later
    settings.SECRET_KEY = "another-secret-key-" + "x" * 40
    unverifiable = douyin_push(store, body)
    assert (unverifiable.status_code, unverifiable.json()["code"]) == (503, "keys_unreadable")
    assert Client().get(f"/connectors/push/douyin/{store.pk}").status_code == 405
    assert reads_queued() == []


# --- Kuaishou ---------------------------------------------------------------------------------


def kuaishou_sealed(message: dict, key: bytes = MESSAGE_KEY) -> bytes:
    """Encrypted as Kuaishou's message service does: AES-CBC, zero IV, PKCS#7, base64."""
    padder = padding.PKCS7(128).padder()
    plain = padder.update(json.dumps(message).encode()) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(bytes(16))).encryptor()
    return base64.b64encode(encryptor.update(plain) + encryptor.finalize())


def kuaishou_message(**changes) -> dict:
    return {
        "eventId": "e1",
        "bizId": 2100000001,
        "userId": int(SHOP_ID),
        "appKey": "kuaishou-key",
        "event": "kwaishop_aftersales_updateRefund",
        "info": json.dumps({"refundId": 2100000001, "oid": 2200000001, "sellerId": int(SHOP_ID)}),
        "createTime": 1,
        **changes,
    }


def kuaishou_push(store, body):
    return Client().post(f"/connectors/push/kuaishou/{store.pk}", body, content_type="text/plain")


def test_kuaishou_pushes_are_opened_with_the_message_secret(db, clock):
    store = add_store(
        "kuaishou",
        sign_secret="sign",
        message_secret=base64.b64encode(MESSAGE_KEY).decode(),
    )
    answer = kuaishou_push(store, kuaishou_sealed(kuaishou_message()))
    assert (answer.status_code, answer.json()) == (200, {"result": 1})
    assert reads_queued() == [[store.pk, "2100000001", "2200000001"]]
    # another key, another app, an order's event: nothing more
    forged = kuaishou_push(store, kuaishou_sealed(kuaishou_message(), key=bytes(16)))
    assert (forged.status_code, forged.json()["code"]) == (401, "bad_signature")
    other_app = kuaishou_push(store, kuaishou_sealed(kuaishou_message(appKey="x")))
    assert other_app.status_code == 401
    order = kuaishou_push(
        store, kuaishou_sealed(kuaishou_message(event="kwaishop_order_paySuccess"))
    )
    assert order.status_code == 200
    assert kuaishou_push(store, b"not base64!").status_code == 401
    assert len(reads_queued()) == 1


def test_a_kuaishou_store_without_its_message_secret_cannot_take_pushes(db, clock):
    store = add_store("kuaishou", sign_secret="sign")
    answer = kuaishou_push(store, kuaishou_sealed(kuaishou_message()))
    assert (answer.status_code, answer.json()["code"]) == (403, "push_not_configured")
    assert reads_queued() == []


# --- the relays: Taobao's TMC, Pinduoduo's and JD's messages ----------------------------------


def relay(store, fields: dict):
    """Posted as a relay posts it: a url-encoded form, as the platforms' gateways take them."""
    return Client().post(
        f"/connectors/push/{store.platform}/{store.pk}",
        urlencode(fields),
        content_type="application/x-www-form-urlencoded",
    )


def top_relay(store, topic: str, content: dict, *, at=NOW, secret="taobao-secret") -> dict:
    fields = {
        "app_key": "taobao-key",
        "timestamp": wire.beijing_text(at),
        "sign_method": "md5",
        "topic": topic,
        "content": json.dumps(content, ensure_ascii=False),
        "user_nick": store.seller_id,
    }
    return {**fields, "sign": top_sign(fields, secret)}


def test_a_relayed_tmc_message_is_checked_with_tops_signature(db, clock):
    import datetime as dt

    store = add_store("taobao", seller_id="小店")
    content = {"refund_id": "88001", "tid": "77001", "seller_nick": "小店"}
    taken = relay(store, top_relay(store, "taobao_refund_RefundCreated", content))
    assert (taken.status_code, taken.json()) == (200, {"code": 0, "msg": "success"})
    assert reads_queued() == [[store.pk, "88001", "77001"]]
    # a forged, a stale (a replay) and a trade message
    forged = relay(store, top_relay(store, "taobao_refund_RefundCreated", content, secret="x"))
    assert forged.status_code == 401
    stale = relay(
        store,
        top_relay(store, "taobao_refund_RefundSuccess", content, at=NOW - dt.timedelta(hours=1)),
    )
    assert (stale.status_code, stale.json()["code"]) == (401, "stale_push")
    trade = relay(store, top_relay(store, "taobao_trade_TradeCreate", {"tid": "77002"}))
    assert trade.status_code == 200
    assert len(reads_queued()) == 1


def test_a_relayed_pinduoduo_message_names_its_order(db, clock):
    store = add_store("pinduoduo", seller_id="100231")
    fields = {
        "client_id": "pinduoduo-key",
        "timestamp": str(int(NOW.timestamp())),
        "type": "pdd_refund_RefundCreated",
        "content": json.dumps({"mall_id": 100231, "tid": "250314-1", "refund_id": 9100001}),
    }
    taken = relay(store, {**fields, "sign": pdd_sign(fields, "pinduoduo-secret")})
    assert taken.status_code == 200
    assert reads_queued() == [[store.pk, "9100001", "250314-1"]]
    forged = relay(store, {**fields, "sign": pdd_sign(fields, "nope")})
    assert forged.status_code == 401


def test_a_relayed_jd_message_names_its_service_ticket(db, clock):
    store = add_store("jd", seller_id="10086")
    fields = {
        "app_key": "jd-key",
        "timestamp": wire.beijing_text(NOW),
        "topic": "ser_afs_service_changed",
        "content": json.dumps({"serviceId": 5001, "orderId": 6001, "venderId": 10086}),
    }
    # JD's signature: md5 of secret + every field and its value, sorted by name + secret
    text = "jd-secret" + "".join(k + fields[k] for k in sorted(fields)) + "jd-secret"
    sign = hashlib.md5(text.encode()).hexdigest().upper()
    taken = relay(store, {**fields, "sign": sign})
    assert taken.status_code == 200, taken.content
    assert reads_queued() == [[store.pk, "service:5001", "6001"]]
