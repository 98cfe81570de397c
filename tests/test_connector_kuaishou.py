"""The 快手小店 adapter against a fake gateway that speaks the platform's protocol: the sign keyed
by the sign secret (not the app secret), the cursor listing with its one-day, 90-day limits, the
detail's ``refundVersion``, the writes, the platform's errors, a write whose answer never comes,
and the mapping table."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from aftersales.cases.choices import CaseKind, CaseState
from aftersales.connectors import base
from aftersales.connectors.platforms.kuaishou import MAPPING, KuaishouAdapter, map_request
from tests.fakes import walk_all as walk
from tests.fakes.fakegateway import recorded, running
from tests.fakes.kuaishou import ACCESS_TOKEN, APP_KEY, APP_SECRET, SIGN_SECRET, FakeKuaishou

# Beijing midnight of the recorded day, in UTC; the fake's data spans 32 hours from it.
DAY = dt.datetime(2026, 3, 1, 16, 0, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 3, 5, tzinfo=dt.UTC)


def adapter(fake, sign_secret=SIGN_SECRET, timeout=5.0, now=NOW) -> KuaishouAdapter:
    keys = base.Credentials(
        APP_KEY,
        APP_SECRET,
        ACCESS_TOKEN,
        seller_id="1880000123",
        extra={"sign_secret": sign_secret},
    )
    return KuaishouAdapter(keys, fake.url, timeout=timeout, now=lambda: now)


@pytest.fixture
def kuaishou():
    with running(FakeKuaishou(now=dt.datetime(2026, 3, 5, tzinfo=dt.UTC))) as fake:
        yield fake


def test_a_first_full_sync_follows_the_cursor_until_nomore_in_day_windows(kuaishou):
    # given a small page
    client = adapter(kuaishou)
    client.page_size = 5

    # when two days are walked in windows of a day
    seen = walk(client, DAY, DAY + dt.timedelta(days=2))

    # then every recorded refund came once
    ids = [str(row["refundId"]) for row in recorded("kuaishou", "refunds")["refunds"]]
    assert sorted(r.request_id for r in seen) == sorted(ids)
    lists = [c.params for c in kuaishou.calls]
    assert [bool(p["pcursor"]) for p in lists] == [False, True, True, False]
    assert lists[0] == {
        "beginTime": int(DAY.timestamp() * 1000),
        "endTime": int(DAY.timestamp() * 1000) + 86_400_000 - 1,
        "type": 9,
        "pageSize": 5,
        "currentPage": 1,
        "sort": 2,
        "queryType": 2,
        "pcursor": "",
    }
    # the listing carries no refundVersion: a write needs a read first
    assert all(r.version == "" for r in seen)


def test_a_refund_is_read_with_its_version_and_the_platform_deadline(kuaishou):
    # when
    request = adapter(kuaishou).read("2100000000000004")

    # then
    assert request.status == "40" and request.kind == "1"
    assert request.version == "1003"
    assert request.amount == Decimal("45.90")
    assert request.modified_at == DAY + dt.timedelta(hours=6.5)
    assert request.deadline_at == DAY + dt.timedelta(hours=6.5 + 72)
    assert request.tracking_number == "YT700000000003"
    assert request.lines[0].sku == "CUP-500"
    assert request.raw["refundId"] == 2100000000000004


def test_the_window_limits_one_day_and_ninety_days_back(kuaishou):
    client = adapter(kuaishou)
    # a day is taken
    client.changed(base.Window(DAY, DAY + dt.timedelta(days=1)))
    # a second more is refused before any call
    with pytest.raises(ValueError):
        client.changed(base.Window(DAY, DAY + dt.timedelta(days=1, seconds=1)))
    # so is a start 90 days and a second back
    old = NOW - dt.timedelta(days=90, seconds=1)
    with pytest.raises(ValueError):
        client.changed(base.Window(old, old + dt.timedelta(hours=1)))
    # exactly 90 days back is taken
    client.changed(base.Window(NOW - dt.timedelta(days=90), NOW - dt.timedelta(days=89)))
    assert len(kuaishou.calls) == 2


def test_the_platform_itself_refuses_a_longer_window(kuaishou):
    # when the limit is bypassed, the fake answers as the platform does
    with pytest.raises(base.PlatformRefused) as refused:
        adapter(kuaishou).call(
            "open.seller.order.refund.pcursor.list",
            {"beginTime": 0, "endTime": 2 * 86_400_000, "type": 9, "pageSize": 10, "pcursor": ""},
            write=False,
        )
    assert refused.value.detail == "开始时间和结束时间的范围不能大于1天"


def test_signing_with_the_app_secret_instead_of_the_sign_secret_is_refused(kuaishou):
    with pytest.raises(base.CredentialRejected) as refused:
        adapter(kuaishou, sign_secret=APP_SECRET).read("2100000000000001")
    assert refused.value.platform_code == "25"


def test_keys_without_a_sign_secret_are_refused_before_any_call(kuaishou):
    client = adapter(kuaishou)
    client.credentials = dataclasses.replace(client.credentials, extra={})
    with pytest.raises(base.CredentialRejected):
        client.read("2100000000000001")
    assert kuaishou.calls == []


def test_the_rate_limit_asks_to_wait(kuaishou):
    kuaishou.rate_limited = 1
    with pytest.raises(base.RateLimited) as limited:
        adapter(kuaishou).read("2100000000000001")
    assert limited.value.retry_after == 1.0
    assert limited.value.platform_code == "1017"


def test_a_direct_refund_sends_the_refund_version(kuaishou):
    client = adapter(kuaishou)
    request = client.read("2100000000000001")

    # when
    client.agree_refund(request, Decimal("39.90"))

    # then
    assert kuaishou.calls[-1].method == "open.refund.direct.refund"
    assert kuaishou.calls[-1].params == {"refundId": 2100000000000001, "refundVersion": 1000}
    assert client.read("2100000000000001").status == "60"


def test_a_write_needs_the_version_a_listing_does_not_carry(kuaishou):
    client = adapter(kuaishou)
    listed = client.changed(base.Window(DAY, DAY + dt.timedelta(hours=1))).items[0]
    calls = len(kuaishou.calls)
    with pytest.raises(ValueError):
        client.agree_refund(listed, listed.amount)
    assert len(kuaishou.calls) == calls


def test_agreeing_to_a_return_sends_the_amount_in_fen_and_the_address_id(kuaishou):
    client = adapter(kuaishou)
    client.agree_return(
        client.read("2100000000000002"),
        base.ReturnAddress(
            "王仓管", "13800000000", "杭州市余杭区仓前街道1号", platform_address_id="5520001"
        ),
    )
    assert kuaishou.calls[-1].method == "open.seller.order.refund.returngoods.approve"
    assert kuaishou.calls[-1].params == {
        "refundId": 2100000000000002,
        "refundAmount": 12900,
        "addressId": 5520001,
    }
    assert client.read("2100000000000002").status == "30"


def test_a_refusal_sends_the_reason_code_the_evidence_and_the_version(kuaishou):
    client = adapter(kuaishou)
    client.refuse(
        client.read("2100000000000015"),
        "8",
        "商品已签收且无质量问题",
        ["https://img.example.com/sign.jpg"],
    )
    assert kuaishou.calls[-1].method == "open.refund.reject"
    assert kuaishou.calls[-1].params == {
        "refundId": 2100000000000015,
        "reasonCode": 8,
        "rejectDesc": "商品已签收且无质量问题",
        "rejectImages": ["https://img.example.com/sign.jpg"],
        "refundVersion": 1014,
    }
    assert client.read("2100000000000015").status == "12"


def test_receipt_exchange_shipment_and_evidence(kuaishou):
    client = adapter(kuaishou)
    # the returned goods arrived
    client.confirm_receipt(client.read("2100000000000004"))
    assert kuaishou.calls[-1].params == {"refundId": 2100000000000004, "status": 40}
    assert client.read("2100000000000004").status == "50"
    # the exchange's old item arrived and the new one left
    client.ship_exchange(client.read("2100000000000005"), "4", "YT7000000099")
    assert kuaishou.calls[-1].method == "open.refund.confirm.and.send"
    assert kuaishou.calls[-1].params == {
        "refundId": 2100000000000005,
        "expressNo": "YT7000000099",
        "expressCode": 4,
    }
    assert client.read("2100000000000005").status == "45"
    # a message with evidence
    client.message(
        client.read("2100000000000008"), "已补充发货照片", ["https://img.example.com/p.jpg"]
    )
    assert kuaishou.calls[-1].method == "open.refund.evidence.add"
    assert kuaishou.calls[-1].params == {
        "refundId": 2100000000000008,
        "content": "已补充发货照片",
        "imageData": ["https://img.example.com/p.jpg"],
    }


def test_a_refund_changed_since_it_was_read_is_a_version_conflict(kuaishou):
    client = adapter(kuaishou)
    request = client.read("2100000000000016")
    kuaishou.touch(2100000000000016)
    with pytest.raises(base.VersionConflict):
        client.agree_refund(request, Decimal("42.90"))
    assert client.read("2100000000000016").status == "10"


def test_a_write_in_the_wrong_state_is_refused(kuaishou):
    client = adapter(kuaishou)
    with pytest.raises(base.StateRefused):
        client.agree_refund(client.read("2100000000000007"), Decimal("25.90"))


def test_a_write_without_an_answer_is_unknown_and_sent_once(kuaishou):
    client = adapter(kuaishou, timeout=0.5)
    request = client.read("2100000000000001")
    kuaishou.hold_next = True
    with pytest.raises(base.OutcomeUnknown):
        client.agree_refund(request, Decimal("39.90"))
    assert kuaishou.methods().count("open.refund.direct.refund") == 1


def test_a_read_without_an_answer_may_be_tried_again(kuaishou):
    client = adapter(kuaishou, timeout=0.5)
    kuaishou.hold_next = True
    with pytest.raises(base.Unreachable):
        client.read("2100000000000001")
    assert client.read("2100000000000001").status == "10"


@pytest.mark.parametrize(
    ("status", "kind", "expected"),
    [
        ("10", "10", base.Mapped(CaseKind.REFUND_ONLY, CaseState.AWAITING_SELLER)),
        ("20", "10", base.Mapped(CaseKind.REFUND_ONLY, CaseState.AWAITING_SELLER, handling=True)),
        ("50", "10", base.Mapped(CaseKind.REFUND_ONLY, CaseState.REFUND_PENDING)),
        ("60", "10", base.Mapped(CaseKind.REFUND_ONLY, CaseState.REFUNDED, money_out=True)),
        ("11", "1", base.Mapped(CaseKind.RETURN_REFUND, CaseState.AWAITING_SELLER)),
        ("12", "1", base.Mapped(CaseKind.RETURN_REFUND, CaseState.REJECTED)),
        ("21", "1", base.Mapped(CaseKind.RETURN_REFUND, CaseState.AWAITING_SELLER, handling=True)),
        (
            "22",
            "1",
            base.Mapped(CaseKind.RETURN_REFUND, CaseState.RETURN_IN_TRANSIT, handling=True),
        ),
        ("30", "1", base.Mapped(CaseKind.RETURN_REFUND, CaseState.AWAITING_RETURN)),
        ("40", "1", base.Mapped(CaseKind.RETURN_REFUND, CaseState.RETURN_IN_TRANSIT)),
        ("60", "1", base.Mapped(CaseKind.RETURN_REFUND, CaseState.REFUNDED, money_out=True)),
        ("70", "1", base.Mapped(CaseKind.RETURN_REFUND, CaseState.CLOSED)),
        ("45", "3", base.Mapped(CaseKind.EXCHANGE, CaseState.SHIPPED_TO_CUSTOMER)),
        ("60", "3", base.Mapped(CaseKind.EXCHANGE, CaseState.COMPLETED)),
    ],
)
def test_the_mapping_table(status, kind, expected):
    assert MAPPING[(status, kind)] == expected


def test_an_exchange_never_pays_and_a_status_or_way_not_in_the_table_is_none():
    assert not any(m.money_out for (_, kind), m in MAPPING.items() if kind == "3")
    assert ("50", "3") not in MAPPING
    assert ("10", "2") not in MAPPING


def test_every_recorded_refund_maps_but_the_unknown_status(kuaishou):
    requests = walk(adapter(kuaishou), DAY, DAY + dt.timedelta(days=2))
    assert [r.request_id for r in requests if map_request(r) is None] == ["2100000000000013"]
    assert {r.kind for r in requests} == {"1", "3", "10"}
