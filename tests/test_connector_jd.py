"""The JD POP adapter against a fake JOS gateway: the MD5 sign, service tickets and refund
applications walked together, the ticket's ``sysVersion`` on its writes, the refund
application's reply, JOS's errors, a write whose answer never comes, and the mapping table."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest

from aftersales.cases.choices import CaseKind, CaseState
from aftersales.connectors import base
from aftersales.connectors.platforms.jd import MAPPING, JdAdapter, map_request
from tests.fakes import walk_all as walk
from tests.fakes.fakegateway import recorded, running
from tests.fakes.jd import ACCESS_TOKEN, APP_KEY, APP_SECRET, VENDER_ID, FakeJd

# Beijing midnight of the recorded day, in UTC; the fake's data spans 32 hours from it.
DAY = dt.datetime(2026, 3, 1, 16, 0, tzinfo=dt.UTC)
NOW = DAY + dt.timedelta(days=3)
ADDRESS = base.ReturnAddress("王仓管", "0571-88886666", "浙江省杭州市余杭区仓前街道1号京东退货仓")


def adapter(fake, secret=APP_SECRET, timeout=5.0) -> JdAdapter:
    keys = base.Credentials(APP_KEY, secret, ACCESS_TOKEN, seller_id=VENDER_ID)
    return JdAdapter(keys, fake.url, timeout=timeout, now=lambda: NOW, operator="售后机器人")


@pytest.fixture
def jd():
    with running(FakeJd()) as fake:
        yield fake


def test_a_first_full_sync_walks_tickets_then_refund_applications_page_by_page(jd):
    # given a small page
    client = adapter(jd)
    client.page_size = 4

    # when two days are walked in windows of a day
    seen = walk(client, DAY, DAY + dt.timedelta(days=2))

    # then every ticket came once; a refund application comes again when it was checked (its
    # listing has no update time: by apply time, then by check time)
    data = recorded("jd", "requests")
    tickets = [r.request_id for r in seen if r.request_id.startswith("service:")]
    assert sorted(tickets) == sorted(f"service:{t['serviceId']}" for t in data["tickets"])
    applications = Counter(r.request_id for r in seen if r.request_id.startswith("refund:"))
    assert applications == {
        "refund:60000001": 1,
        "refund:60000002": 2,
        "refund:60000003": 2,
        "refund:60000004": 2,
        "refund:60000005": 1,
        "refund:60000006": 1,
    }
    assert [c.method for c in jd.calls[:4]] == [
        "jingdong.asc.query.list",
        "jingdong.asc.query.list",
        "jingdong.asc.query.list",
        "jingdong.pop.afs.soa.refundapply.queryPageList",
    ]
    assert jd.calls[0].params == {
        "buId": VENDER_ID,
        "updateTimeBegin": "2026-03-02 00:00:00",
        "updateTimeEnd": "2026-03-02 23:59:59",
        "pageNumber": 1,
        "pageSize": 4,
    }
    assert jd.calls[3].params == {
        "applyTimeStart": "2026-03-02 00:00:00",
        "applyTimeEnd": "2026-03-02 23:59:59",
        "pageIndex": 1,
        "pageSize": 4,
    }


def test_a_ticket_and_an_application_are_read_into_the_common_shape(jd):
    client = adapter(jd)
    # when
    ticket = client.read("service:1800000003")
    application = client.read("refund:60000002")

    # then Beijing text times became UTC
    assert ticket.status == "10007" and ticket.kind == "10" and ticket.version == "5"
    assert ticket.amount == Decimal("45.90")
    assert ticket.modified_at == DAY + dt.timedelta(hours=4)
    assert ticket.lines[0].line_id == "100012345002" and ticket.lines[0].sku == "PAN-32"
    assert ticket.tracking_number == "JDVA0000000002"
    assert application.kind == "refundapply" and application.status == "1"
    assert application.amount == Decimal("129.00")
    assert application.modified_at == DAY + dt.timedelta(hours=3.5)
    assert application.version == "2026-03-02 03:30:00"


def test_a_ticket_done_says_its_outcome_through_the_processing_result(jd):
    client = adapter(jd)
    exchanged = client.read("service:1800000004")
    sent_back = client.read("service:1800000006")
    assert exchanged.status == "10010:80"
    assert map_request(exchanged) == base.Mapped(CaseKind.EXCHANGE, CaseState.COMPLETED)
    assert map_request(sent_back) == base.Mapped(CaseKind.RETURN_REFUND, CaseState.CLOSED)


def test_a_window_of_a_day_is_taken_and_a_longer_one_refused_before_any_call(jd):
    client = adapter(jd)
    client.changed(base.Window(DAY, DAY + dt.timedelta(days=1)))
    with pytest.raises(ValueError):
        client.changed(base.Window(DAY, DAY + dt.timedelta(days=1, seconds=1)))
    assert len(jd.calls) == 1


def test_a_wrong_secret_or_token_is_a_credential_failure(jd):
    with pytest.raises(base.CredentialRejected) as refused:
        adapter(jd, secret="not-the-secret").read("service:1800000001")
    assert refused.value.platform_code == "14"
    client = adapter(jd)
    client.credentials = base.Credentials(APP_KEY, APP_SECRET, "expired", seller_id=VENDER_ID)
    with pytest.raises(base.CredentialRejected) as refused:
        client.read("service:1800000001")
    assert refused.value.platform_code == "19"


def test_the_rate_limit_asks_to_wait(jd):
    jd.rate_limited = 1
    with pytest.raises(base.RateLimited) as limited:
        adapter(jd).read("service:1800000001")
    assert limited.value.retry_after == 1.0
    assert limited.value.detail == "调用次数超过限制"


def test_agreeing_to_a_return_sends_the_ticket_version_and_the_address(jd):
    client = adapter(jd)
    client.agree_return(client.read("service:1800000001"), ADDRESS)
    assert jd.calls[-1].method == "jingdong.asc.audit.send"
    assert jd.calls[-1].params == {
        "buId": VENDER_ID,
        "operatePin": "售后机器人",
        "operateNick": "售后机器人",
        "serviceId": 1800000001,
        "orderId": 250000000000,
        "sysVersion": 3,
        "approveNotes": "同意退货",
        "returnContactName": "王仓管",
        "returnContactTel": "0571-88886666",
        "returnDetailAddress": ADDRESS.address,
    }
    assert client.read("service:1800000001").status == "10005"


def test_a_ticket_refusal_carries_the_reason_code(jd):
    client = adapter(jd)
    client.refuse(
        client.read("service:1800000011"),
        "2001",
        "商品已使用，影响二次销售",
        ["https://img.example.com/used.jpg"],
    )
    assert jd.calls[-1].method == "jingdong.asc.audit.refuse"
    assert jd.calls[-1].params["approveReasonCid1"] == 2001
    assert jd.calls[-1].params["approveNotes"] == "商品已使用，影响二次销售"
    assert jd.calls[-1].params["sysVersion"] == 13
    assert client.read("service:1800000011").status == "10002"


def test_receipt_and_the_exchange_shipment(jd):
    client = adapter(jd)
    client.confirm_receipt(client.read("service:1800000002"))
    assert jd.calls[-1].method == "jingdong.asc.receive.register"
    assert jd.calls[-1].params == {
        "buId": VENDER_ID,
        "operatePin": "售后机器人",
        "operateNick": "售后机器人",
        "serviceId": 1800000002,
        "orderId": 250000000001,
        "receiveName": "售后机器人",
        "receiveRemark": "已收到退回商品",
    }
    assert client.read("service:1800000002").status == "10007"

    jd.tickets[1800000011]["serviceStatus"] = 10007
    client.ship_exchange(client.read("service:1800000011"), "京东快递", "JDVA0000000777")
    assert jd.calls[-1].method == "jingdong.asc.audit.reissue"
    assert jd.calls[-1].params["shipWayName"] == "京东快递"
    assert jd.calls[-1].params["expressCode"] == "JDVA0000000777"
    assert client.read("service:1800000011").status == "10009"


def test_a_refund_application_is_agreed_or_refused_by_its_reply(jd):
    client = adapter(jd)
    # when
    client.agree_refund(client.read("refund:60000001"), Decimal("59.00"))
    # then
    assert jd.calls[-1].method == "jingdong.pop.afs.soa.refundapply.replyRefund"
    assert jd.calls[-1].params == {
        "id": 60000001,
        "status": 1,
        "checkUserName": "售后机器人",
        "remark": "同意退款",
    }
    assert client.read("refund:60000001").status == "1"
    # when
    client.refuse(client.read("refund:60000005"), "1", "商品已在配送途中，无法取消")
    # then
    assert jd.calls[-1].params == {
        "id": 60000005,
        "status": 2,
        "checkUserName": "售后机器人",
        "remark": "商品已在配送途中，无法取消",
        "rejectType": 1,
    }
    assert client.read("refund:60000005").status == "2"


def test_writes_jd_does_not_offer_are_refused_before_any_call(jd):
    client = adapter(jd)
    ticket = client.read("service:1800000001")
    application = client.read("refund:60000001")
    calls = len(jd.calls)
    with pytest.raises(base.NotOffered):
        client.agree_refund(ticket, ticket.amount)
    with pytest.raises(base.NotOffered):
        client.agree_return(application, ADDRESS)
    with pytest.raises(base.NotOffered):
        client.message(ticket, "你好")
    assert len(jd.calls) == calls


def test_a_ticket_changed_since_it_was_read_is_a_version_conflict(jd):
    client = adapter(jd)
    request = client.read("service:1800000001")
    jd.touch(1800000001)
    with pytest.raises(base.VersionConflict) as conflict:
        client.agree_return(request, ADDRESS)
    assert conflict.value.platform_code == "ASC_VERSION_CHANGED"
    assert client.read("service:1800000001").status == "10001"


def test_a_write_in_the_wrong_state_is_refused(jd):
    client = adapter(jd)
    with pytest.raises(base.StateRefused):
        client.agree_refund(client.read("refund:60000004"), Decimal("35.00"))
    with pytest.raises(base.StateRefused):
        client.confirm_receipt(client.read("service:1800000001"))


def test_a_write_without_an_answer_is_unknown_and_sent_once(jd):
    client = adapter(jd, timeout=0.5)
    request = client.read("refund:60000001")
    jd.hold_next = True
    with pytest.raises(base.OutcomeUnknown):
        client.agree_refund(request, Decimal("59.00"))
    assert jd.methods().count("jingdong.pop.afs.soa.refundapply.replyRefund") == 1


def test_a_read_without_an_answer_may_be_tried_again(jd):
    client = adapter(jd, timeout=0.5)
    jd.hold_next = True
    with pytest.raises(base.Unreachable):
        client.read("service:1800000001")
    assert client.read("service:1800000001").status == "10001"


@pytest.mark.parametrize(
    ("status", "kind", "expected"),
    [
        ("10001", "10", base.Mapped(CaseKind.RETURN_REFUND, CaseState.AWAITING_SELLER)),
        ("10002", "10", base.Mapped(CaseKind.RETURN_REFUND, CaseState.REJECTED)),
        ("10005", "10", base.Mapped(CaseKind.RETURN_REFUND, CaseState.AWAITING_RETURN)),
        ("10007", "10", base.Mapped(CaseKind.RETURN_REFUND, CaseState.INSPECTING)),
        ("10041", "10", base.Mapped(CaseKind.RETURN_REFUND, CaseState.REFUND_PENDING)),
        ("10010", "10", base.Mapped(CaseKind.RETURN_REFUND, CaseState.REFUNDED, money_out=True)),
        ("10010:70", "10", base.Mapped(CaseKind.RETURN_REFUND, CaseState.CLOSED)),
        ("10011", "11", base.Mapped(CaseKind.REFUND_ONLY, CaseState.CLOSED)),
        ("10009", "20", base.Mapped(CaseKind.EXCHANGE, CaseState.SHIPPED_TO_CUSTOMER)),
        ("10010:80", "20", base.Mapped(CaseKind.EXCHANGE, CaseState.COMPLETED)),
        ("12000", "30", base.Mapped(CaseKind.REPAIR, CaseState.REPAIRING)),
        ("10010:2", "30", base.Mapped(CaseKind.REPAIR, CaseState.COMPLETED)),
        ("10001", "80", base.Mapped(base.UNMODELLED, CaseState.AWAITING_SELLER)),
        ("10010", "90", base.Mapped(base.UNMODELLED, CaseState.REFUNDED, money_out=True)),
        ("0", "refundapply", base.Mapped(CaseKind.REFUND_ONLY, CaseState.AWAITING_SELLER)),
        ("6", "refundapply", base.Mapped(CaseKind.REFUND_ONLY, CaseState.REFUND_PENDING)),
        ("11", "refundapply", base.Mapped(CaseKind.REFUND_ONLY, CaseState.REJECTED)),
        ("9", "refundapply", base.Mapped(CaseKind.REFUND_ONLY, CaseState.REFUNDED, money_out=True)),
    ],
)
def test_the_mapping_table(status, kind, expected):
    assert MAPPING[(status, kind)] == expected


def test_an_exchange_or_repair_never_pays_and_unknown_codes_are_none():
    assert not any(m.money_out for (_, kind), m in MAPPING.items() if kind in ("20", "30", "80"))
    assert ("10009", "10") not in MAPPING  # awaiting the customer, on a return: a person looks
    assert ("10010:55", "10") not in MAPPING


def test_every_recorded_request_maps_but_the_unknown_statuses(jd):
    requests = walk(adapter(jd), DAY, DAY + dt.timedelta(days=2))
    assert sorted({r.request_id for r in requests if map_request(r) is None}) == [
        "refund:60000006",
        "service:1800000010",
    ]
    assert {r.kind for r in requests} == {"10", "20", "30", "80", "refundapply"}
