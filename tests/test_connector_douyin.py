"""The 抖店 adapter against a fake gateway that speaks the platform's protocol: the sign, the
paged listing by update time, the detail, ``/afterSale/operate`` one case per call with the
case's ``update_time``, the platform's errors (11001, 20309541, rate limit, bad sign), a write
whose answer never comes, and the mapping table."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from aftersales.cases.choices import CaseKind, CaseState
from aftersales.connectors import base
from aftersales.connectors.platforms.douyin import MAPPING, DouyinAdapter, map_request
from tests.fakes import walk_all as walk
from tests.fakes.douyin import ACCESS_TOKEN, APP_KEY, APP_SECRET, FakeDouyin
from tests.fakes.fakegateway import recorded, running

# Beijing midnight of the recorded day, in UTC; the fake's data spans 32 hours from it.
DAY = dt.datetime(2026, 3, 1, 16, 0, tzinfo=dt.UTC)
NOW = DAY + dt.timedelta(days=3)
KEYS = base.Credentials(APP_KEY, APP_SECRET, ACCESS_TOKEN, seller_id="4463798")


def adapter(fake, secret=APP_SECRET, timeout=5.0) -> DouyinAdapter:
    keys = base.Credentials(APP_KEY, secret, ACCESS_TOKEN, seller_id="4463798")
    return DouyinAdapter(keys, fake.url, timeout=timeout, now=lambda: NOW)


@pytest.fixture
def douyin():
    with running(FakeDouyin()) as fake:
        yield fake


def test_a_first_full_sync_walks_day_windows_and_pages_and_sees_every_case_once(douyin):
    # given a small page
    client = adapter(douyin)
    client.page_size = 5

    # when two days are walked in windows of a day
    seen = walk(client, DAY, DAY + dt.timedelta(days=2))

    # then every recorded case came once, over several pages
    recorded_ids = [
        r["aftersale_info"]["aftersale_id"] for r in recorded("douyin", "aftersales")["records"]
    ]
    assert sorted(r.request_id for r in seen) == sorted(recorded_ids)
    lists = [c for c in douyin.calls if c.method == "afterSale.List"]
    assert [c.params["page"] for c in lists] == ["0", "1", "2", "0"]
    assert lists[0].params["update_start_time"] == str(int(DAY.timestamp()))
    assert lists[0].params["update_end_time"] == str(int(DAY.timestamp()) + 86400 - 1)


def test_a_case_is_read_into_the_common_shape(douyin):
    # when
    request = adapter(douyin).read("7300000000000000004")

    # then fen became yuan, seconds became aware UTC, the platform's deadline is kept
    assert request.amount == Decimal("45.90")
    assert request.status == "11" and request.kind == "0"
    assert request.created_at == DAY + dt.timedelta(hours=7 - 20)
    assert request.modified_at == DAY + dt.timedelta(hours=7)
    assert request.version == str(int((DAY + dt.timedelta(hours=7)).timestamp()))
    assert request.deadline_at == DAY + dt.timedelta(hours=7 + 48)
    assert request.tracking_number == "SF14000000003"
    assert request.reason == "质量问题"
    assert request.lines == (
        base.RemoteLine("69000000000000003", "PAN-32", "不粘锅炒锅 32cm", 1, Decimal("45.90")),
    )
    assert request.raw["aftersale_info"]["aftersale_id"] == "7300000000000000004"


def test_a_case_under_arbitration_is_handled_by_the_platform(douyin):
    # when
    request = adapter(douyin).read("7300000000000000008")

    # then
    assert request.handling is True
    assert map_request(request) == base.Mapped(CaseKind.REFUND_ONLY, CaseState.REJECTED)


def test_a_window_of_a_day_is_taken_and_a_longer_one_refused_before_any_call(douyin):
    client = adapter(douyin)
    # when / then
    client.changed(base.Window(DAY, DAY + dt.timedelta(days=1)))
    with pytest.raises(ValueError):
        client.changed(base.Window(DAY, DAY + dt.timedelta(days=1, seconds=1)))
    with pytest.raises(ValueError):
        client.changed(base.Window(DAY, DAY))
    assert len(douyin.calls) == 1


def test_a_wrong_secret_is_a_credential_failure(douyin):
    # when / then
    with pytest.raises(base.CredentialRejected) as refused:
        adapter(douyin, secret="not-the-secret").read("7300000000000000001")
    assert refused.value.platform_code == "isv.signature-invalid"
    assert refused.value.detail == "签名校验失败"


def test_the_rate_limit_asks_to_wait(douyin):
    # given
    douyin.rate_limited = 1

    # when / then
    with pytest.raises(base.RateLimited) as limited:
        adapter(douyin).read("7300000000000000001")
    assert limited.value.retry_after == 1.0
    assert limited.value.platform_code == "isv.traffic-limited"
    assert adapter(douyin).read("7300000000000000001").status == "6"


def test_agreeing_to_a_refund_only_sends_one_case_with_its_update_time(douyin):
    # given
    client = adapter(douyin)
    request = client.read("7300000000000000014")

    # when
    client.agree_refund(request, Decimal("79.90"))

    # then
    assert douyin.calls[-1].method == "afterSale.operate"
    assert douyin.calls[-1].params == {
        "type": "201",
        "items": [{"aftersale_id": "7300000000000000014", "update_time": request.version}],
    }
    assert client.read("7300000000000000014").status == "12"


def test_a_refund_of_another_amount_is_refused_before_any_call(douyin):
    client = adapter(douyin)
    request = client.read("7300000000000000014")
    calls = len(douyin.calls)
    with pytest.raises(ValueError):
        client.agree_refund(request, Decimal("70.00"))
    assert len(douyin.calls) == calls


def test_agreeing_to_a_return_sends_the_platform_address_id(douyin):
    client = adapter(douyin)
    request = client.read("7300000000000000015")

    # when
    client.agree_return(
        request,
        base.ReturnAddress(
            "王仓管", "13800000000", "杭州市余杭区仓前街道1号", platform_address_id="880011"
        ),
    )

    # then
    assert douyin.calls[-1].params == {
        "type": "101",
        "items": [
            {
                "aftersale_id": "7300000000000000015",
                "update_time": request.version,
                "logistics": {"receiver_address_id": "880011"},
            }
        ],
    }
    assert client.read("7300000000000000015").status == "7"


def test_a_refusal_carries_the_reason_code_and_the_evidence(douyin):
    client = adapter(douyin)
    request = client.read("7300000000000000016")

    # when
    client.refuse(request, "31", "商品已发出，请拒收", ["https://img.example.com/waybill.jpg"])

    # then
    assert douyin.calls[-1].params == {
        "type": "202",
        "items": [
            {
                "aftersale_id": "7300000000000000016",
                "update_time": request.version,
                "reject_reason_code": "31",
                "reason": "商品已发出，请拒收",
                "remark": "商品已发出，请拒收",
                "evidence": [
                    {
                        "type": 1,
                        "url": "https://img.example.com/waybill.jpg",
                        "desc": "商品已发出，请拒收",
                    }
                ],
            }
        ],
    }
    assert client.read("7300000000000000016").status == "27"


def test_receipt_and_the_exchange_shipment(douyin):
    client = adapter(douyin)
    # when the return came back
    client.confirm_receipt(client.read("7300000000000000004"))
    # then
    assert douyin.calls[-1].params["type"] == "111"
    assert client.read("7300000000000000004").status == "12"

    # given an exchange whose old item came back
    douyin.records["7300000000000000005"]["aftersale_info"]["aftersale_status"] = 11
    request = client.read("7300000000000000005")
    # when the new item leaves
    client.ship_exchange(request, "shunfeng", "SF1400000099")
    # then
    assert douyin.calls[-1].params == {
        "type": "311",
        "items": [
            {
                "aftersale_id": "7300000000000000005",
                "update_time": request.version,
                "logistics": {"company_code": "shunfeng", "logistics_code": "SF1400000099"},
            }
        ],
    }


def test_a_message_with_images_is_submitted_as_evidence(douyin):
    client = adapter(douyin)
    client.message(
        client.read("7300000000000000001"), "已联系快递拦截", ["https://img.example.com/a.jpg"]
    )
    assert douyin.calls[-1].method == "afterSale.submitEvidence"
    assert douyin.calls[-1].params == {
        "aftersale_id": "7300000000000000001",
        "comment": "已联系快递拦截",
        "evidence": ["https://img.example.com/a.jpg"],
    }


def test_a_case_changed_since_it_was_read_is_a_version_conflict(douyin):
    # given the buyer changed the case after our read
    client = adapter(douyin)
    request = client.read("7300000000000000001")
    douyin.touch("7300000000000000001")

    # when / then
    with pytest.raises(base.VersionConflict):
        client.agree_refund(request, Decimal("59.90"))
    assert client.read("7300000000000000001").status == "6"


def test_a_write_in_the_wrong_state_is_refused_with_20309541(douyin):
    client = adapter(douyin)
    with pytest.raises(base.StateRefused) as refused:
        client.agree_refund(client.read("7300000000000000002"), Decimal("129.00"))
    assert refused.value.platform_code == "isv.business-failed:20309541"


def test_error_11001_means_handle_it_in_the_back_office(douyin):
    # given
    douyin.only_in_back_office.add("7300000000000000001")
    client = adapter(douyin)

    # when / then
    with pytest.raises(base.HandleOnPlatform) as handled:
        client.agree_refund(client.read("7300000000000000001"), Decimal("59.90"))
    assert handled.value.url == (
        "https://fxg.jinritemai.com/ffa/maftersale/aftersale/detail?aftersale_id=7300000000000000001"
    )


def test_a_write_without_an_answer_is_unknown_and_sent_once(douyin):
    client = adapter(douyin, timeout=0.5)
    request = client.read("7300000000000000001")
    douyin.hold_next = True

    # when / then
    with pytest.raises(base.OutcomeUnknown):
        client.agree_refund(request, Decimal("59.90"))
    assert douyin.methods().count("afterSale.operate") == 1


def test_a_read_without_an_answer_may_be_tried_again(douyin):
    client = adapter(douyin, timeout=0.5)
    douyin.hold_next = True
    with pytest.raises(base.Unreachable):
        client.read("7300000000000000001")
    assert client.read("7300000000000000001").status == "6"


@pytest.mark.parametrize(
    ("status", "kind", "expected"),
    [
        ("6", "2", base.Mapped(CaseKind.REFUND_ONLY, CaseState.AWAITING_SELLER)),
        ("12", "1", base.Mapped(CaseKind.REFUND_ONLY, CaseState.REFUNDED, money_out=True)),
        ("7", "0", base.Mapped(CaseKind.RETURN_REFUND, CaseState.AWAITING_RETURN)),
        ("11", "0", base.Mapped(CaseKind.RETURN_REFUND, CaseState.RETURN_IN_TRANSIT)),
        ("12", "0", base.Mapped(CaseKind.RETURN_REFUND, CaseState.REFUNDED, money_out=True)),
        ("29", "0", base.Mapped(CaseKind.RETURN_REFUND, CaseState.REJECTED)),
        ("28", "0", base.Mapped(CaseKind.RETURN_REFUND, CaseState.CLOSED)),
        ("13", "3", base.Mapped(CaseKind.EXCHANGE, CaseState.SHIPPED_TO_CUSTOMER)),
        ("14", "3", base.Mapped(CaseKind.EXCHANGE, CaseState.COMPLETED)),
        ("12", "8", base.Mapped(CaseKind.REPAIR, CaseState.COMPLETED)),
        ("12", "6", base.Mapped(base.UNMODELLED, CaseState.REFUNDED, money_out=True)),
        ("6", "7", base.Mapped(base.UNMODELLED, CaseState.AWAITING_SELLER)),
    ],
)
def test_the_mapping_table(status, kind, expected):
    assert MAPPING[(status, kind)] == expected


def test_an_exchange_or_repair_that_succeeds_is_never_money_out():
    assert not any(m.money_out for (_, kind), m in MAPPING.items() if kind in ("3", "8", "7"))


def test_every_recorded_case_maps_but_the_unknown_status(douyin):
    client = adapter(douyin)
    requests = walk(client, DAY, DAY + dt.timedelta(days=2))
    unmapped = [r.request_id for r in requests if map_request(r) is None]
    assert unmapped == ["7300000000000000013"]  # status 31
    assert {r.kind for r in requests} == {"0", "1", "2", "3", "6", "7", "8"}
