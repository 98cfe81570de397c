"""The Taobao / Tmall connector against a local fake TOP gateway: windows and pages, the
signature, TOP's errors, each write's exact parameters, a version conflict, a write whose answer
is lost, and the mapping table."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from aftersales.cases.choices import CaseKind, CaseState
from aftersales.connectors.base import (
    UNMODELLED,
    CredentialRejected,
    Credentials,
    HandleOnPlatform,
    Mapped,
    OutcomeUnknown,
    RateLimited,
    RemoteRequest,
    ReturnAddress,
    StateRefused,
    VersionConflict,
    Window,
)
from aftersales.connectors.platforms.taobao import (
    MAPPING,
    TaobaoAdapter,
    TmallAdapter,
    map_request,
)
from tests.fakes import walked_ids as walk
from tests.fakes.taobao import APP_KEY, APP_SECRET, SESSION, FakeTop

BEIJING = ZoneInfo("Asia/Shanghai")
SYSTEM_PARAMS = {"method", "app_key", "session", "timestamp", "format", "v", "sign_method", "sign"}
ADDRESS = ReturnAddress("王仓管", "13800138000", "浙江省杭州市余杭区文一西路969号 退货仓", "1024")


@pytest.fixture
def fake_top():
    with FakeTop().serve("/router/rest") as fake:
        yield fake


def credentials(secret: str = APP_SECRET, session: str = SESSION) -> Credentials:
    return Credentials(
        app_key=APP_KEY, app_secret=secret, access_token=session, seller_id="优衣小铺"
    )


def beijing(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=BEIJING)


def own_params(call) -> dict[str, str]:
    return {k: v for k, v in call.params.items() if k not in SYSTEM_PARAMS}


# --- reads ---------------------------------------------------------------------------------------


def test_a_first_full_sync_walks_day_windows_and_pages_and_sees_every_refund_once(fake_top):
    # given three days of refunds, and pages of three
    adapter = TaobaoAdapter(credentials(), fake_top.url)
    adapter.page_size = 3

    # when the windows of a day are walked, each to its last page
    seen = walk(adapter, beijing(2025, 3, 14), beijing(2025, 3, 17))

    # then every refund is seen once (the one modified at midnight in the second window only)
    assert sorted(seen) == sorted(fake_top.refunds)
    assert len(seen) == len(set(seen))
    lists = [c for c in fake_top.calls if c.method == "taobao.refunds.receive.get"]
    assert len(lists) > 3
    assert own_params(lists[0]) == {
        "start_modified": "2025-03-14 00:00:00",
        "end_modified": "2025-03-14 23:59:59",
        "fields": adapter.list_fields(),
        "page_no": "1",
        "page_size": "3",
        "use_has_next": "true",
    }


def test_tmall_disputes_sync_with_their_kind_and_the_exchange_statuses(fake_top):
    # given Tmall's reverse disputes
    adapter = TmallAdapter(credentials(), fake_top.url)
    adapter.page_size = 5

    # when a day of them is walked
    seen = walk(adapter, beijing(2025, 3, 15), beijing(2025, 3, 16))

    # then each is seen once, through tmall.dispute.receive.get
    assert sorted(seen) == sorted(fake_top.disputes)
    assert set(fake_top.methods()) == {"tmall.dispute.receive.get"}
    exchange = adapter.read("270003")
    assert (exchange.platform, exchange.kind, exchange.status) == (
        "tmall",
        "换货",
        "WAIT_SELLER_CONSIGN_GOOGDS",
    )
    assert exchange.deadline_at == dt.datetime(2025, 3, 17, 2, 20, tzinfo=dt.UTC)


def test_a_window_at_its_limit_is_accepted_and_one_beyond_is_refused_without_a_call(fake_top):
    adapter = TaobaoAdapter(credentials(), fake_top.url)
    start = beijing(2025, 3, 14)

    # when a window of exactly a day is asked, then one a second longer
    adapter.changed(Window(start, start + dt.timedelta(days=1)))
    with pytest.raises(ValueError):
        adapter.changed(Window(start, start + dt.timedelta(days=1, seconds=1)))

    # then only the first reached the platform
    assert len(fake_top.calls) == 1


def test_a_read_fills_every_field_from_top_in_yuan_and_utc_with_the_platform_deadline(fake_top):
    adapter = TaobaoAdapter(credentials(), fake_top.url)

    # when a returned refund is read
    request = adapter.read("166804")

    # then
    assert request.request_id == "166804"
    assert request.order_id == "3965120004"
    assert (request.status, request.kind) == ("WAIT_SELLER_CONFIRM_GOODS", "")
    assert request.amount == Decimal("359.00")
    assert request.modified_at == dt.datetime(2025, 3, 14, 8, 20, tzinfo=dt.UTC)
    assert request.deadline_at == dt.datetime(2025, 3, 24, 8, 20, tzinfo=dt.UTC)
    assert request.tracking_number == "SF1402385561027"
    assert request.version == str(fake_top.refunds["166804"]["refund_version"])
    assert request.reason == "质量问题"
    assert request.lines[0].sku == "UY-804-M"
    assert request.raw["has_good_return"] is True
    assert fake_top.calls[0].params["method"] == "taobao.refund.get"


# --- the gateway's refusals ----------------------------------------------------------------------


def test_a_wrong_secret_fails_toPs_signature_check(fake_top):
    adapter = TaobaoAdapter(credentials(secret="not-the-secret"), fake_top.url)

    with pytest.raises(CredentialRejected) as refused:
        adapter.read("166801")

    assert refused.value.platform_code == "25"


def test_an_hmac_signature_is_accepted_and_a_bad_session_is_a_credential_failure(fake_top):
    assert TaobaoAdapter(credentials(), fake_top.url, sign_method="hmac").read("166801")

    with pytest.raises(CredentialRejected) as refused:
        TaobaoAdapter(credentials(session="expired"), fake_top.url).read("166801")

    assert refused.value.platform_code == "27:invalid-sessionkey"


def test_rate_limiting_is_told_with_toPs_ban_time(fake_top):
    # given a gateway that limits the next call
    fake_top.rate_limited = 1
    adapter = TaobaoAdapter(credentials(), fake_top.url)

    # when a page is asked
    with pytest.raises(RateLimited) as limited:
        adapter.changed(Window(beijing(2025, 3, 14), beijing(2025, 3, 15)))

    # then the caller is told to wait the ban's seconds, and the next call goes through
    assert limited.value.retry_after == 23.0
    assert limited.value.platform_code == "7:accesscontrol.limited-by-app-access-count"
    assert adapter.changed(Window(beijing(2025, 3, 14), beijing(2025, 3, 15))).items


# --- writes --------------------------------------------------------------------------------------


def test_agreeing_a_refund_sends_refund_infos_in_fen_with_the_version(fake_top):
    adapter = TaobaoAdapter(credentials(), fake_top.url)
    request = adapter.read("166801")

    # when ¥19.36 is agreed
    adapter.agree_refund(request, Decimal("19.36"))

    # then exactly TOP's parameter went, and the refund succeeded
    call = fake_top.calls[-1]
    assert call.method == "taobao.rp.refunds.agree"
    assert own_params(call) == {"refund_infos": f"166801|1936|{request.version}"}
    assert adapter.read("166801").status == "SUCCESS"


def test_tmall_adds_the_refund_phase_to_refund_infos(fake_top):
    adapter = TmallAdapter(credentials(), fake_top.url)
    request = adapter.read("270008")

    adapter.agree_refund(request, Decimal("35.50"))

    assert own_params(fake_top.calls[-1]) == {
        "refund_infos": f"270008|3550|{request.version}|onsale"
    }


def test_agreeing_a_return_sends_the_address_id_phase_and_version(fake_top):
    adapter = TaobaoAdapter(credentials(), fake_top.url)
    request = adapter.read("166802")

    adapter.agree_return(request, ADDRESS)

    assert own_params(fake_top.calls[-1]) == {
        "refund_id": "166802",
        "name": "王仓管",
        "address": "浙江省杭州市余杭区文一西路969号 退货仓",
        "mobile": "13800138000",
        "seller_address_id": "1024",
        "refund_phase": "aftersale",
        "refund_version": request.version,
    }
    assert adapter.read("166802").status == "WAIT_BUYER_RETURN_GOODS"


def test_a_version_changed_since_the_read_is_a_conflict_and_a_new_read_succeeds(fake_top):
    # given a refund read, then changed by the buyer
    adapter = TaobaoAdapter(credentials(), fake_top.url)
    request = adapter.read("166802")
    fake_top.touch("166802", refund_fee="150.00")

    # when the return is agreed with the old version
    with pytest.raises(VersionConflict):
        adapter.agree_return(request, ADDRESS)

    # then nothing moved; read again, it goes through with the new amount seen
    again = adapter.read("166802")
    assert again.status == "WAIT_SELLER_AGREE"
    assert again.amount == Decimal("150.00")
    adapter.agree_return(again, ADDRESS)


def test_a_money_write_whose_answer_is_lost_is_unknown_and_sent_once(fake_top):
    # given a gateway that holds its answer past the client's timeout
    adapter = TaobaoAdapter(credentials(), fake_top.url, timeout=0.3)
    request = adapter.read("166801")
    fake_top.stall = {"taobao.rp.refunds.agree"}

    # when the refund is agreed
    with pytest.raises(OutcomeUnknown):
        adapter.agree_refund(request, request.amount)

    # then the platform got it once (never retried), and the next read settles it
    fake_top.release.set()
    fake_top.wait_answered("taobao.rp.refunds.agree")
    assert fake_top.methods().count("taobao.rp.refunds.agree") == 1
    assert adapter.read("166801").status == "SUCCESS"


def test_a_write_in_a_state_that_does_not_allow_it_is_refused_by_state(fake_top):
    adapter = TaobaoAdapter(credentials(), fake_top.url)

    with pytest.raises(StateRefused) as refused:
        adapter.agree_refund(adapter.read("166806"), Decimal("59.00"))

    assert refused.value.platform_code == "15:isv.refund-status-not-allowed"


def test_a_refund_the_api_may_not_touch_is_handled_on_the_platform_without_a_call(fake_top):
    adapter = TaobaoAdapter(credentials(), fake_top.url)
    request = adapter.read("166810")

    with pytest.raises(HandleOnPlatform) as elsewhere:
        adapter.agree_refund(request, Decimal("499.00"))

    assert elsewhere.value.url == "https://refund2.taobao.com/dispute/detail.htm?disputeId=166810"
    assert fake_top.methods() == ["taobao.refund.get"]


def test_refusing_sends_the_reason_code_words_version_and_the_proof_image(fake_top):
    adapter = TaobaoAdapter(credentials(), fake_top.url, fetch_image=lambda url: b"\xff\xd8jpeg")
    request = adapter.read("166801")

    adapter.refuse(request, "41", "商品已发出，请收货后再申请", ["https://img.example/ship.jpg"])

    call = fake_top.calls[-1]
    assert call.method == "taobao.refund.refuse"
    assert own_params(call) == {
        "refund_id": "166801",
        "refund_phase": "aftersale",
        "refund_version": request.version,
        "refuse_reason_id": "41",
        "refuse_message": "商品已发出，请收货后再申请",
    }
    assert call.files == {"refuse_proof": b"\xff\xd8jpeg"}
    assert adapter.read("166801").status == "SELLER_REFUSE_BUYER"


def test_refusing_returned_goods_uses_the_return_refusal(fake_top):
    adapter = TaobaoAdapter(credentials(), fake_top.url, fetch_image=lambda url: b"img")
    request = adapter.read("166804")

    adapter.refuse(request, "12", "退回商品有使用痕迹", ["https://img.example/used.jpg"])

    assert fake_top.calls[-1].method == "taobao.rp.returngoods.refuse"
    assert "refuse_message" not in fake_top.calls[-1].params


def test_a_message_goes_with_its_image(fake_top):
    adapter = TaobaoAdapter(credentials(), fake_top.url, fetch_image=lambda url: b"img")
    request = adapter.read("166803")

    adapter.message(request, "请使用顺丰寄回，运费到付", ["https://img.example/label.jpg"])

    call = fake_top.calls[-1]
    assert (call.method, own_params(call), call.files) == (
        "taobao.refund.message.add",
        {"refund_id": "166803", "content": "请使用顺丰寄回，运费到付"},
        {"image": b"img"},
    )


def test_a_tmall_exchange_is_agreed_received_and_its_replacement_shipped(fake_top):
    adapter = TmallAdapter(credentials(), fake_top.url)

    # when an exchange is agreed, another's goods received, a third's replacement shipped
    adapter.agree_return(adapter.read("270001"), ADDRESS)
    adapter.confirm_receipt(adapter.read("270002"))
    adapter.ship_exchange(adapter.read("270003"), "圆通速递", "YT7520091845999")

    # then the exchange calls went with the platform's parameters
    writes = [c for c in fake_top.calls if c.method.startswith("tmall.exchange.")]
    assert [c.method for c in writes] == [
        "tmall.exchange.agree",
        "tmall.exchange.returngoods.agree",
        "tmall.exchange.consigngoods",
    ]
    assert own_params(writes[0])["address_id"] == "1024"
    assert own_params(writes[2]) == {
        "dispute_id": "270003",
        "logistics_no": "YT7520091845999",
        "logistics_type": "200",
        "logistics_company_name": "圆通速递",
        "fields": "dispute_id,modified,status",
    }
    assert adapter.read("270003").status == "EXCHANGE_WAIT_BUYER_CONFIRM_GOODS"
    assert adapter.read("270002").status == "WAIT_SELLER_CONSIGN_GOOGDS"


# --- the mapping ---------------------------------------------------------------------------------


def remote(status: str, kind: str = "", **raw) -> RemoteRequest:
    moment = dt.datetime(2025, 3, 14, tzinfo=dt.UTC)
    return RemoteRequest(
        platform="tmall" if kind else "taobao",
        request_id="1",
        order_id="2",
        status=status,
        kind=kind,
        version="1",
        created_at=moment,
        modified_at=moment,
        amount=Decimal("1.00"),
        raw=raw,
    )


@pytest.mark.parametrize(("key", "mapped"), list(MAPPING.items()), ids=str)
def test_every_row_of_the_table_maps_as_written(key, mapped):
    status, kind = key
    assert map_request(remote(status, kind)) == mapped


def test_taobao_takes_the_kind_from_has_good_return():
    assert map_request(remote("SUCCESS", has_good_return=False)) == Mapped(
        CaseKind.REFUND_ONLY, CaseState.REFUNDED, money_out=True
    )
    assert map_request(remote("WAIT_SELLER_CONFIRM_GOODS", has_good_return=True)) == Mapped(
        CaseKind.RETURN_REFUND, CaseState.RETURN_IN_TRANSIT
    )


def test_an_exchange_that_succeeds_is_completed_not_money_out():
    mapped = map_request(remote("SUCCESS", "换货"))
    assert (mapped.kind, mapped.state, mapped.money_out) == (
        CaseKind.EXCHANGE,
        CaseState.COMPLETED,
        False,
    )


def test_unknown_codes_are_never_guessed():
    assert map_request(remote("SELLER_AUDIT_PENDING", has_good_return=False)) is None
    assert map_request(remote("WAIT_SELLER_AGREE", "维修")) is None
    # a status the table has, with a kind it does not pair with
    assert map_request(remote("WAIT_BUYER_RETURN_GOODS", "仅退款")) is None


def test_a_price_protection_refund_is_a_kind_the_cases_do_not_model():
    mapped = map_request(remote("WAIT_SELLER_AGREE", special_refund_type="价保服务"))
    assert (mapped.kind, mapped.state) == (UNMODELLED, CaseState.AWAITING_SELLER)


def test_the_recorded_answers_map_except_the_unknown_ones(fake_top):
    # given every recorded refund and dispute, as read
    taobao = TaobaoAdapter(credentials(), fake_top.url)
    tmall = TmallAdapter(credentials(), fake_top.url)
    requests = [taobao.read(i) for i in fake_top.refunds]
    requests += [tmall.read(i) for i in fake_top.disputes]

    # then only the unknown status and the unknown kind are left to a person
    unmapped = {r.request_id for r in requests if map_request(r) is None}
    assert unmapped == {"166808", "270011"}
    # and customer service's intervention sits beside the state
    refused = next(r for r in requests if r.request_id == "166806")
    assert refused.handling is True
    assert map_request(refused).state == CaseState.REJECTED
