"""The Pinduoduo connector against a local fake gateway: 30-minute windows and pages, the
signature, the platform's errors, each write's exact ``request``, the read-before-write that
stands in for a version, a write whose answer is lost, and the mapping table."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from aftersales.cases.choices import CaseKind, CaseState
from aftersales.connectors.base import (
    UNMODELLED,
    CredentialRejected,
    Credentials,
    HandleOnPlatform,
    OutcomeUnknown,
    PlatformRefused,
    RateLimited,
    RemoteRequest,
    ReturnAddress,
    VersionConflict,
    Window,
)
from aftersales.connectors.platforms.pinduoduo import MAPPING, PinduoduoAdapter, map_request
from tests.fakes import walked_ids as walk
from tests.fakes.pinduoduo import ACCESS_TOKEN, CLIENT_ID, CLIENT_SECRET, FakePinduoduo

BEIJING = ZoneInfo("Asia/Shanghai")
ADDRESS = ReturnAddress("李售后", "13900139000", "上海市青浦区华新镇退货仓", "20231109")


@pytest.fixture
def fake_pdd():
    with FakePinduoduo().serve("/api/router") as fake:
        yield fake


def adapter_for(fake, secret: str = CLIENT_SECRET, token: str = ACCESS_TOKEN, **kwargs):
    credentials = Credentials(
        app_key=CLIENT_ID, app_secret=secret, access_token=token, seller_id="100231"
    )
    return PinduoduoAdapter(credentials, fake.url, **kwargs)


def beijing(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=BEIJING)


def read(adapter, fake, after_sales_id: str) -> RemoteRequest:
    return adapter.read(after_sales_id, order_id=fake.records[after_sales_id]["list"]["order_sn"])


def sent(fake) -> dict:
    return json.loads(fake.calls[-1].params["request"])


# --- reads ---------------------------------------------------------------------------------------


def test_a_first_full_sync_walks_30_minute_windows_and_pages_and_sees_every_request_once(
    fake_pdd,
):
    # given three hours of requests, pages of two
    adapter = adapter_for(fake_pdd)
    adapter.page_size = 2

    # when the morning is walked in windows of 30 minutes, each to its last page
    seen = walk(adapter, beijing(2025, 3, 14, 9), beijing(2025, 3, 14, 12))

    # then every request is seen once (those at 9:30:00 and 10:30:00 in the later window only)
    assert sorted(seen) == sorted(fake_pdd.records)
    assert len(seen) == len(set(seen))
    first = fake_pdd.calls[0].params
    assert (first["type"], first["after_sales_status"], first["after_sales_type"]) == (
        "pdd.refund.list.increment.get",
        "1",
        "1",
    )
    assert int(first["end_updated_at"]) - int(first["start_updated_at"]) == 1799
    assert len(fake_pdd.calls) > 6


def test_a_window_of_30_minutes_is_accepted_and_one_beyond_is_refused(fake_pdd):
    adapter = adapter_for(fake_pdd)
    start = beijing(2025, 3, 14, 9)

    # when windows of 30 minutes, and of 30 minutes and a second, are asked
    adapter.changed(Window(start, start + dt.timedelta(minutes=30)))
    with pytest.raises(ValueError):
        adapter.changed(Window(start, start + dt.timedelta(minutes=30, seconds=1)))

    # then the longer never left; and the platform itself refuses one longer than its limit
    assert len(fake_pdd.calls) == 1
    adapter.max_window = dt.timedelta(hours=1)
    with pytest.raises(PlatformRefused) as refused:
        adapter.changed(Window(start, start + dt.timedelta(minutes=45)))
    assert refused.value.detail == "开始时间结束时间间距不超过30分钟"


def test_the_detail_is_read_in_fen_with_the_list_kind_and_the_merchant_deadline(fake_pdd):
    adapter = adapter_for(fake_pdd)

    # when a return waiting for the merchant is read, and seen in its window's list
    request = read(adapter, fake_pdd, "9100002")
    listed = next(
        item
        for item in adapter.changed(
            Window(beijing(2025, 3, 14, 9), beijing(2025, 3, 14, 9, 30))
        ).items
        if item.request_id == "9100002"
    )

    # then both say the same in our terms
    assert (request.status, request.kind) == ("3", "3")
    assert request.amount == listed.amount == Decimal("59.00")
    assert request.version == listed.version == "3:5900"
    assert request.deadline_at == dt.datetime(2025, 3, 16, 1, 12, 40, tzinfo=dt.UTC)
    assert listed.modified_at == dt.datetime(2025, 3, 14, 1, 12, 40, tzinfo=dt.UTC)
    assert request.lines[0].sku == "PDD-S002"
    assert fake_pdd.calls[0].params["order_sn"] == "250314-000000000000002"


# --- the gateway's refusals ----------------------------------------------------------------------


def test_a_wrong_secret_fails_the_signature_and_an_expired_token_the_session(fake_pdd):
    with pytest.raises(CredentialRejected) as bad_sign:
        read(adapter_for(fake_pdd, secret="wrong"), fake_pdd, "9100001")
    with pytest.raises(CredentialRejected) as expired:
        read(adapter_for(fake_pdd, token="expired"), fake_pdd, "9100001")

    assert (bad_sign.value.platform_code, expired.value.platform_code) == ("20004", "10019")


def test_rate_limiting_is_told_as_such(fake_pdd):
    fake_pdd.rate_limited = 1
    adapter = adapter_for(fake_pdd)

    with pytest.raises(RateLimited) as limited:
        read(adapter, fake_pdd, "9100001")

    assert (limited.value.platform_code, limited.value.retry_after) == ("70031", 1.0)
    assert read(adapter, fake_pdd, "9100001").status == "2"


# --- writes --------------------------------------------------------------------------------------


def test_agreeing_a_refund_reads_first_then_sends_the_request_json(fake_pdd):
    adapter = adapter_for(fake_pdd)
    request = read(adapter, fake_pdd, "9100001")

    adapter.agree_refund(request, Decimal("29.90"))

    assert fake_pdd.methods()[-2:] == ["pdd.refund.information.get", "pdd.refund.agree"]
    assert sent(fake_pdd) == {
        "after_sales_id": 9100001,
        "order_sn": "250314-000000000000001",
        "operate_desc": "",
    }
    assert read(adapter, fake_pdd, "9100001").status == "4"


def test_another_amount_than_the_one_asked_is_refused_before_any_call(fake_pdd):
    adapter = adapter_for(fake_pdd)
    request = read(adapter, fake_pdd, "9100001")

    with pytest.raises(ValueError):
        adapter.agree_refund(request, Decimal("10.00"))

    assert fake_pdd.methods() == ["pdd.refund.information.get"]


def test_agreeing_a_return_sends_the_shops_return_address_id(fake_pdd):
    adapter = adapter_for(fake_pdd)

    adapter.agree_return(read(adapter, fake_pdd, "9100002"), ADDRESS)

    assert fake_pdd.calls[-1].params["type"] == "pdd.refund.returngoods.agree"
    assert sent(fake_pdd) == {
        "after_sales_id": 9100002,
        "order_sn": "250314-000000000000002",
        "return_address_id": "20231109",
        "operate_desc": "",
    }


def test_a_request_changed_since_the_read_is_a_conflict_and_nothing_is_written(fake_pdd):
    # given a request read, then its amount changed by the buyer
    adapter = adapter_for(fake_pdd)
    request = read(adapter, fake_pdd, "9100001")
    fake_pdd.touch("9100001", fen=1990)

    # when the old amount is agreed
    with pytest.raises(VersionConflict):
        adapter.agree_refund(request, Decimal("29.90"))

    # then no write went; read again, it goes through
    assert "pdd.refund.agree" not in fake_pdd.methods()
    again = read(adapter, fake_pdd, "9100001")
    adapter.agree_refund(again, Decimal("19.90"))


def test_a_money_write_whose_answer_is_lost_is_unknown_and_sent_once(fake_pdd):
    # given a gateway that holds the agreement's answer past the client's timeout
    adapter = adapter_for(fake_pdd, timeout=0.3)
    request = read(adapter, fake_pdd, "9100001")
    fake_pdd.stall = {"pdd.refund.agree"}

    # when the refund is agreed
    with pytest.raises(OutcomeUnknown):
        adapter.agree_refund(request, Decimal("29.90"))

    # then it reached the platform once, and the next read settles it
    fake_pdd.release.set()
    fake_pdd.wait_answered("pdd.refund.agree")
    assert fake_pdd.methods().count("pdd.refund.agree") == 1
    assert read(adapter, fake_pdd, "9100001").status == "4"


def test_a_write_in_a_state_that_does_not_allow_it_is_refused_with_the_platforms_words(fake_pdd):
    adapter = adapter_for(fake_pdd)

    with pytest.raises(PlatformRefused) as refused:
        adapter.agree_refund(read(adapter, fake_pdd, "9100012"), Decimal("88.00"))

    assert refused.value.detail == "售后单状态不允许该操作"


def test_an_exchange_ships_with_the_carriers_id_and_waybill(fake_pdd):
    adapter = adapter_for(fake_pdd)

    adapter.ship_exchange(read(adapter, fake_pdd, "9100007"), "115:中通快递", "78312300099991")

    assert sent(fake_pdd) == {
        "after_sales_id": 9100007,
        "order_sn": "250314-000000000000007",
        "shipping_id": 115,
        "shipping_name": "中通快递",
        "tracking_number": "78312300099991",
    }
    assert read(adapter, fake_pdd, "9100007").status == "18"


def test_refusing_and_messages_are_done_in_the_back_office_without_a_call(fake_pdd):
    adapter = adapter_for(fake_pdd)
    request = read(adapter, fake_pdd, "9100001")

    with pytest.raises(HandleOnPlatform) as elsewhere:
        adapter.refuse(request, "1", "已发货", ["https://img.example/1.jpg"])
    with pytest.raises(HandleOnPlatform):
        adapter.message(request, "您好，请提供商品照片")

    assert "250314-000000000000001" in elsewhere.value.url
    assert fake_pdd.methods() == ["pdd.refund.information.get"]


# --- the mapping ---------------------------------------------------------------------------------


def remote(status: str, kind: str, tracking: str = "") -> RemoteRequest:
    moment = dt.datetime(2025, 3, 14, tzinfo=dt.UTC)
    return RemoteRequest(
        platform="pinduoduo",
        request_id="1",
        order_id="2",
        status=status,
        kind=kind,
        version="",
        created_at=moment,
        modified_at=moment,
        amount=Decimal("1.00"),
        tracking_number=tracking,
    )


@pytest.mark.parametrize(("key", "mapped"), list(MAPPING.items()), ids=str)
def test_every_row_of_the_table_maps_as_written(key, mapped):
    assert map_request(remote(*key)) == mapped


def test_a_return_with_its_waybill_is_in_transit():
    assert map_request(remote("7", "3", "YT2290034567812")).state == CaseState.RETURN_IN_TRANSIT
    assert map_request(remote("7", "3")).state == CaseState.AWAITING_RETURN


def test_exchange_and_repair_success_is_not_money_out_and_a_resend_is_unmodelled():
    exchange, repair, resend = (
        map_request(remote("16", "4")),
        map_request(remote("25", "6")),
        map_request(remote("32", "5")),
    )
    assert (exchange.kind, exchange.state, exchange.money_out) == (
        CaseKind.EXCHANGE,
        CaseState.COMPLETED,
        False,
    )
    assert (repair.kind, repair.state, repair.money_out) == (
        CaseKind.REPAIR,
        CaseState.COMPLETED,
        False,
    )
    assert (resend.kind, resend.state) == (UNMODELLED, CaseState.REPLACEMENT_PENDING)


def test_platform_handling_is_flagged_and_unknown_codes_are_never_guessed():
    assert map_request(remote("8", "3")).handling is True
    assert map_request(remote("19", "3")) is None
    assert map_request(remote("2", "7")) is None
    assert map_request(remote("10", "4")) is None  # a refund success on an exchange: a person


def test_the_recorded_answers_map_except_the_unknown_status(fake_pdd):
    # given every recorded request, listed and read
    adapter = adapter_for(fake_pdd)
    listed = walk(adapter, beijing(2025, 3, 14, 9), beijing(2025, 3, 14, 12))
    requests = [read(adapter, fake_pdd, i) for i in listed]

    # then only status 19 is left to a person — and the intercept as the detail reads it: the
    # detail's kind codes stop at 5 (repair), so its 9 is not guessed; the list's 9 is known
    assert {r.request_id for r in requests if map_request(r) is None} == {"9100014", "9100015"}
    window = Window(beijing(2025, 3, 14, 11, 30), beijing(2025, 3, 14, 12))
    intercept = next(r for r in adapter.changed(window).items if r.request_id == "9100015")
    assert map_request(intercept).kind == UNMODELLED
    handled = next(r for r in requests if r.request_id == "9100006")
    assert handled.handling is True
