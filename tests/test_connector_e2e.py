"""End to end, marketplace by marketplace (JD, Pinduoduo, Douyin, Kuaishou, Tmall; Taobao is in
``test_connector_cases``), against each platform's fake gateway: a buyer's return awaiting the
shop is synced into a case, the desk shows it with the platform's name and countdown, an agent
approves it through the API, and the platform receives one call of its "agree return" with what
it checks (the request's version token, the store's return address id where it takes one); a
request the platform does not know how to say stays with a person and has no case.

Then the writes' failures, on every platform: a request the buyer changed between the sync and
the approval is read again and nothing is written; a refund whose answer never comes is not sent
again and the next read settles it; rate limiting moves nothing; rejected keys pause the store.
Douyin's requests the API may not handle (11001) send the agent to the back office.

Each platform's section (its ``Kit``) says where its fake's data is, which requests it uses, and
how its calls carry what is checked."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client, override_settings

from aftersales.cases.choices import CaseState, DeadlineAction
from aftersales.cases.models import Case, RefundEntry
from aftersales.connectors import keys
from aftersales.connectors.base import Credentials
from aftersales.connectors.models import PlatformRequest, PlatformWrite, Store, WriteStatus
from aftersales.connectors.platforms.douyin import BACK_OFFICE
from aftersales.connectors.sync import refresh, store_create, store_sync
from aftersales.team.services import user_create
from tests.conftest import make_shop, make_user
from tests.fakes import douyin, jd, kuaishou, pinduoduo, taobao
from tests.fakes.fakegateway import running

BEIJING = ZoneInfo("Asia/Shanghai")
# The platform's id of the shop's return address (the store's ``return_address_id``).
ADDRESS_ID = "9001"
# The shop's default return address (tests.conftest.make_shop), for a platform that takes it whole.
SHOP_ADDRESS = "杭州市余杭区 1 号"

pytestmark = pytest.mark.django_db(transaction=True)


@dataclass(frozen=True)
class Kit:
    """One platform, as these tests drive it."""

    platform: str
    name: str  # on the desk, in Chinese
    serve: Callable[[], AbstractContextManager[Any]]  # starts the fake gateway, yields it
    keys: Callable[[str], Credentials]  # the store's keys, with this access token
    token: str
    since: dt.datetime  # the store's position before its first sync
    now: dt.datetime
    return_id: str  # a return awaiting the shop
    deadline: dt.datetime | None  # the platform's deadline for it, as the sync gives it
    agree_return: str  # the fake's method that agrees a return
    # What the agree-return call carried: the version token (None: the call takes none) and
    # the return address (the platform's id for it, or the address itself).
    sent: Callable[[Any], tuple[str | None, str]]
    address: str
    refund_id: str  # a refund awaiting the shop
    agree_refund: str
    refunded: CaseState  # the case's state once the platform agreed the refund
    unknown_id: str  # a request whose code the mapping table does not know
    touch: Callable[[Any, str], None]  # the buyer changes the request on the platform
    status_on: Callable[[Any, str], Any]  # the request's status on the platform
    # The read a write of a request without a version token makes first ("": none).
    reads_first: str = ""
    versioned: bool = True  # whether the agree-return call carries the version token


# --- JD: service tickets (their writes carry ``sysVersion``) and refund applications ----------

JD_DAY = dt.datetime(2026, 3, 1, 16, 0, tzinfo=dt.UTC)  # Beijing midnight of the recorded day


def _jd_record(fake, request_id: str) -> dict:
    family, _, number = request_id.partition(":")
    return (fake.tickets if family == "service" else fake.applications)[int(number)]


JD = Kit(
    platform="jd",
    name="京东",
    serve=lambda: running(jd.FakeJd()),
    keys=lambda token: Credentials(jd.APP_KEY, jd.APP_SECRET, token, seller_id=jd.VENDER_ID),
    token=jd.ACCESS_TOKEN,
    since=JD_DAY,
    now=JD_DAY + dt.timedelta(days=2),
    return_id="service:1800000001",
    # JD's tickets give no deadline for the shop's step: the shop's own stands.
    deadline=None,
    agree_return="jingdong.asc.audit.send",
    sent=lambda call: (str(call.params["sysVersion"]), call.params["returnDetailAddress"]),
    address=SHOP_ADDRESS,
    refund_id="refund:60000001",  # a refund application before shipping
    agree_refund="jingdong.pop.afs.soa.refundapply.replyRefund",
    refunded=CaseState.REFUND_PENDING,
    unknown_id="service:1800000010",
    touch=lambda fake, request_id: fake.touch(int(request_id.partition(":")[2])),
    status_on=lambda fake, request_id: _jd_record(fake, request_id).get(
        "serviceStatus", _jd_record(fake, request_id).get("status")
    ),
)


# --- Pinduoduo: no version token; the adapter reads the request again before a write ---------


def _pdd_request(call) -> dict:
    return json.loads(call.params["request"])


PINDUODUO = Kit(
    platform="pinduoduo",
    name="拼多多",
    serve=lambda: pinduoduo.FakePinduoduo().serve("/api/router"),
    keys=lambda token: Credentials(
        pinduoduo.CLIENT_ID, pinduoduo.CLIENT_SECRET, token, seller_id="100231"
    ),
    token=pinduoduo.ACCESS_TOKEN,
    since=dt.datetime(2025, 3, 14, 9, tzinfo=BEIJING),
    now=dt.datetime(2025, 3, 14, 12, tzinfo=BEIJING),
    return_id="9100002",
    # The list gives no deadline (only the detail's expire_time does): see the test at the end.
    deadline=None,
    agree_return="pdd.refund.returngoods.agree",
    sent=lambda call: (None, _pdd_request(call)["return_address_id"]),
    address=ADDRESS_ID,
    refund_id="9100001",
    agree_refund="pdd.refund.agree",
    refunded=CaseState.REFUND_PENDING,
    unknown_id="9100014",
    touch=lambda fake, request_id: fake.touch(request_id, fen=6500),
    status_on=lambda fake, request_id: fake.records[request_id]["detail"]["after_sales_status"],
    reads_first="pdd.refund.information.get",
    versioned=False,
)


# --- Douyin: one case per ``/afterSale/operate``, its ``update_time`` as the version ------------

DOUYIN = Kit(
    platform="douyin",
    name="抖音",
    serve=lambda: running(douyin.FakeDouyin()),
    keys=lambda token: Credentials(douyin.APP_KEY, douyin.APP_SECRET, token, seller_id="4463798"),
    token=douyin.ACCESS_TOKEN,
    since=JD_DAY,
    now=JD_DAY + dt.timedelta(days=2),
    return_id="7300000000000000015",
    deadline=dt.datetime(2026, 3, 4, 21, 0, tzinfo=dt.UTC),  # its status_deadline
    agree_return="afterSale.operate",
    sent=lambda call: (
        str(call.params["items"][0]["update_time"]),
        call.params["items"][0]["logistics"]["receiver_address_id"],
    ),
    address=ADDRESS_ID,
    refund_id="7300000000000000001",
    agree_refund="afterSale.operate",
    refunded=CaseState.REFUNDED,
    unknown_id="7300000000000000013",
    touch=lambda fake, request_id: fake.touch(request_id),
    status_on=lambda fake, request_id: fake.records[request_id]["aftersale_info"][
        "aftersale_status"
    ],
)


# --- Kuaishou: ``refundVersion`` only comes with a read (the listing has none) ----------------

KUAISHOU = Kit(
    platform="kuaishou",
    name="快手",
    serve=lambda: running(kuaishou.FakeKuaishou(now=JD_DAY + dt.timedelta(days=2))),
    keys=lambda token: Credentials(
        kuaishou.APP_KEY,
        kuaishou.APP_SECRET,
        token,
        seller_id="1880000123",
        extra={"sign_secret": kuaishou.SIGN_SECRET},
    ),
    token=kuaishou.ACCESS_TOKEN,
    since=JD_DAY,
    now=JD_DAY + dt.timedelta(days=2),
    return_id="2100000000000002",
    deadline=dt.datetime(2026, 3, 4, 18, 0, tzinfo=dt.UTC),  # its expireTime
    agree_return="open.seller.order.refund.returngoods.approve",
    # The approval of a return takes no version: it checks the amount asked.
    sent=lambda call: (None, str(call.params["addressId"])),
    address=ADDRESS_ID,
    refund_id="2100000000000001",
    agree_refund="open.refund.direct.refund",
    refunded=CaseState.REFUNDED,
    unknown_id="2100000000000013",
    touch=lambda fake, request_id: fake.touch(int(request_id)),
    status_on=lambda fake, request_id: fake.refunds[int(request_id)]["status"],
    reads_first="open.seller.order.refund.detail",
    versioned=False,
)


# --- Tmall: TOP's reverse disputes, ``refund_version`` and ``refund_phase`` on every write -----

TMALL = Kit(
    platform="tmall",
    name="天猫",
    serve=lambda: taobao.FakeTop().serve("/router/rest"),
    keys=lambda token: Credentials(
        taobao.APP_KEY, taobao.APP_SECRET, token, seller_id="简约家居天猫旗舰店"
    ),
    token=taobao.SESSION,
    since=dt.datetime(2025, 3, 15, 0, tzinfo=BEIJING),
    now=dt.datetime(2025, 3, 16, 0, tzinfo=BEIJING),
    return_id="270012",
    deadline=dt.datetime(2025, 3, 17, 20, 50, tzinfo=BEIJING),  # its time_out
    agree_return="taobao.rp.returngoods.agree",
    sent=lambda call: (call.params["refund_version"], call.params["seller_address_id"]),
    address=ADDRESS_ID,
    refund_id="270008",
    agree_refund="taobao.rp.refunds.agree",
    refunded=CaseState.REFUNDED,
    unknown_id="270011",  # a repair (维修): a kind TOP's table does not know
    touch=lambda fake, request_id: fake.touch(request_id, refund_fee="160.00"),
    status_on=lambda fake, request_id: fake.disputes[request_id]["status"],
)

KITS = [JD, PINDUODUO, DOUYIN, KUAISHOU, TMALL]


# --- fixtures and helpers ------------------------------------------------------------------------


@pytest.fixture(params=KITS, ids=[kit.platform for kit in KITS])
def kit(request) -> Kit:
    return request.param


@pytest.fixture
def fake(kit):
    with kit.serve() as started:
        yield started


@pytest.fixture
def store(kit, fake, clock) -> Store:
    clock.set(kit.now)
    created = store_create(
        shop=make_shop("shop"),
        platform=kit.platform,
        name=f"{kit.name}旗舰店",
        credentials=kit.keys(kit.token),
        gateway=fake.url,
        synced_until=kit.since,
    )
    Store.objects.filter(pk=created.pk).update(write_enabled=True, return_address_id=ADDRESS_ID)
    created.refresh_from_db()
    return created


@pytest.fixture
def agent(store):
    return make_user("agent", "agent", shop="shop")


@pytest.fixture
def desk(store) -> Client:
    user_create(username="desk-agent", role="agent", shop_codes=["shop"], password="pw-agent-123")
    client = Client()
    assert client.login(username="desk-agent", password="pw-agent-123")
    return client


def synced(kit: Kit, store: Store) -> None:
    result = store_sync(store.pk, until=kit.now)
    assert result.error == "", result


def request_of(store: Store, request_id: str) -> PlatformRequest:
    return PlatformRequest.objects.select_related("case").get(store=store, request_id=request_id)


def case_of(store: Store, request_id: str) -> Case:
    case = request_of(store, request_id).case
    assert case is not None, request_of(store, request_id).link_error
    return case


def let_answer(fake, method: str) -> None:
    """A held call takes effect: the TOP and Pinduoduo fakes carry it out when released (the
    others did before holding the answer)."""
    if hasattr(fake, "wait_answered"):
        fake.release.set()
        fake.wait_answered(method)


def in_shop_time(case: Case, moment: dt.datetime) -> str:
    return moment.astimezone(ZoneInfo(case.shop.timezone)).strftime("%Y-%m-%d %H:%M")


# --- end to end ----------------------------------------------------------------------------------


def test_a_buyers_return_reaches_the_desk_and_the_agents_approval_reaches_the_platform(
    kit, fake, store, agent, desk
):
    # given a buyer's return awaiting the shop on the platform, when the store syncs
    synced(kit, store)

    # then its case exists, the platform's, awaiting the shop
    row = request_of(store, kit.return_id)
    case = case_of(store, kit.return_id)
    assert case.platform == kit.platform and case.state == CaseState.AWAITING_SELLER
    # with the platform's deadline when it gives one earlier than the shop's
    if kit.deadline is not None:
        assert case.deadline_at == kit.deadline
        assert case.deadline_action == DeadlineAction.PLATFORM_DUE
    else:
        assert case.deadline_at is not None
        assert case.deadline_action != DeadlineAction.PLATFORM_DUE
    # and a request whose code the mapping does not know waits for a person, without a case
    unknown = request_of(store, kit.unknown_id)
    assert unknown.needs_person and unknown.case is None

    # the desk shows it: the platform's badge, and its countdown (or the shop's deadline)
    with override_settings(LANGUAGE_CODE="zh-hans"):
        page = desk.get(f"/desk/cases/{case.number}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = page.content.decode()
    assert page.status_code == 200
    assert f'data-platform="{kit.platform}"' in html and kit.name in html
    assert in_shop_time(case, case.deadline_at) in html
    assert (f"{kit.name}倒计时" in html) == (kit.deadline is not None)

    # when the agent approves the return
    version = row.version
    fake.calls.clear()
    response = agent.act(case.number, "approve")

    # then the platform received one call agreeing it, with what it checks
    assert response.status_code == 200, response.content
    assert fake.methods() == [m for m in (kit.reads_first, kit.agree_return) if m]
    carried_version, carried_address = kit.sent(fake.calls[-1])
    assert carried_version == (version if kit.versioned else None)
    assert carried_address == kit.address
    write = PlatformWrite.objects.get(case=case)
    assert write.status == WriteStatus.DONE and write.call == "agree_return"
    # and the case awaits the return
    case.refresh_from_db()
    assert case.state == CaseState.AWAITING_RETURN

    # a read of the request afterwards agrees: nothing moves, nobody is asked
    refresh(store, kit.return_id)
    case.refresh_from_db()
    row.refresh_from_db()
    assert case.state == CaseState.AWAITING_RETURN
    assert not row.needs_person and row.link_error == ""


def test_a_request_the_buyer_changed_is_read_again_and_nothing_is_written(kit, fake, store, agent):
    synced(kit, store)
    case = case_of(store, kit.return_id)
    before = request_of(store, kit.return_id)
    status = kit.status_on(fake, kit.return_id)
    # the buyer changes the request on the platform after the sync
    kit.touch(fake, kit.return_id)

    response = agent.act(case.number, "approve")

    assert response.status_code == 409, response.content
    assert response.json()["code"] == "platform_changed"
    # the request was read again: what is kept is the platform's now
    after = request_of(store, kit.return_id)
    assert after.revisions > before.revisions
    # nothing was written on the platform, nor moved here
    assert kit.status_on(fake, kit.return_id) == status
    assert not PlatformWrite.objects.filter(case=case, status=WriteStatus.DONE).exists()
    case.refresh_from_db()
    assert case.state == CaseState.AWAITING_SELLER


@override_settings(AFTERSALES_CONNECTOR_TIMEOUT=0.3)
def test_a_refund_with_no_answer_is_not_sent_again_and_the_next_read_settles_it(
    kit, fake, store, agent
):
    synced(kit, store)
    case = case_of(store, kit.refund_id)
    fake.stall = {kit.agree_refund}

    first = agent.act(case.number, "approve")

    assert first.status_code == 409, first.content
    assert first.json()["code"] == "platform_outcome_unknown"
    let_answer(fake, kit.agree_refund)
    # a second try is refused while the first is unsettled: nothing is sent twice
    again = agent.act(case.number, "approve")
    assert again.status_code == 409 and again.json()["code"] == "platform_outcome_unknown"
    assert fake.methods().count(kit.agree_refund) == 1
    assert PlatformWrite.objects.get(case=case).status == WriteStatus.UNKNOWN

    # when the request is read again, the read settles it (it happened), and the case follows
    refresh(store, kit.refund_id)
    assert PlatformWrite.objects.get(case=case).status == WriteStatus.SETTLED_DONE
    case.refresh_from_db()
    assert case.state == kit.refunded
    if kit.refunded == CaseState.REFUNDED:  # booked once, for what the platform paid
        assert RefundEntry.objects.filter(case=case).count() == 1
        assert case.refunded_amount == request_of(store, kit.refund_id).amount


def test_a_write_the_platform_rate_limits_moves_nothing_and_may_be_tried_again(
    kit, fake, store, agent
):
    synced(kit, store)
    case = case_of(store, kit.return_id)
    status = kit.status_on(fake, kit.return_id)
    fake.rate_limited = 1

    response = agent.act(case.number, "approve")

    assert response.status_code == 409, response.content
    assert response.json()["code"] == "platform_unreachable"
    assert kit.status_on(fake, kit.return_id) == status
    case.refresh_from_db()
    assert case.state == CaseState.AWAITING_SELLER
    # a moment later the same approval goes through
    assert agent.act(case.number, "approve").status_code == 200
    case.refresh_from_db()
    assert case.state == CaseState.AWAITING_RETURN


def test_keys_the_platform_rejects_pause_the_store_and_move_nothing(kit, fake, store, agent):
    synced(kit, store)
    case = case_of(store, kit.return_id)
    status = kit.status_on(fake, kit.return_id)
    # the shop's session on the platform expired since the sync
    Store.objects.filter(pk=store.pk).update(sealed_keys=keys.seal(kit.keys("expired")))

    response = agent.act(case.number, "approve")

    assert response.status_code == 409, response.content
    assert response.json()["code"] == "platform_credentials"
    store.refresh_from_db()
    assert store.paused and store.last_error == "credential_rejected"
    assert kit.status_on(fake, kit.return_id) == status
    case.refresh_from_db()
    assert case.state == CaseState.AWAITING_SELLER
    # a paused store sends nothing more until a person renews its keys
    fake.calls.clear()
    again = agent.act(case.number, "approve")
    assert again.status_code == 409 and again.json()["code"] == "store_paused"
    assert fake.calls == []


@pytest.mark.parametrize(
    "kit",
    [PINDUODUO, KUAISHOU, DOUYIN],
    ids=["pinduoduo", "kuaishou", "douyin"],
    indirect=True,
)
def test_a_return_to_a_store_without_the_platforms_address_id_is_refused_and_moves_nothing(
    kit, fake, store, agent
):
    Store.objects.filter(pk=store.pk).update(return_address_id="")
    synced(kit, store)
    case = case_of(store, kit.return_id)
    status = kit.status_on(fake, kit.return_id)

    response = agent.act(case.number, "approve")

    assert response.status_code == 409, response.content
    assert response.json()["code"] == "platform_address_required"
    assert kit.agree_return not in fake.methods() and kit.status_on(fake, kit.return_id) == status
    store.refresh_from_db()
    assert not store.paused
    case.refresh_from_db()
    assert case.state == CaseState.AWAITING_SELLER


# --- Douyin: what its API may not handle --------------------------------------------------------


@pytest.mark.parametrize("kit", [DOUYIN], ids=["douyin"], indirect=True)
def test_douyin_sends_a_request_its_api_may_not_handle_to_the_back_office(
    kit, fake, store, agent, desk
):
    synced(kit, store)
    case = case_of(store, kit.return_id)
    fake.only_in_back_office.add(kit.return_id)
    url = BACK_OFFICE.format(request_id=kit.return_id)

    response = agent.act(case.number, "approve")

    assert response.status_code == 409, response.content
    assert response.json()["code"] == "handle_on_platform" and response.json()["url"] == url
    assert request_of(store, kit.return_id).handle_on_platform_url == url
    case.refresh_from_db()
    assert case.state == CaseState.AWAITING_SELLER
    # the desk links there, and a second try is refused without a call
    assert url.replace("&", "&amp;") in desk.get(f"/desk/cases/{case.number}/").content.decode()
    fake.calls.clear()
    again = agent.act(case.number, "approve")
    assert again.status_code == 409 and again.json()["code"] == "handle_on_platform"
    assert fake.calls == []


# --- Pinduoduo: the deadline its list does not give ---------------------------------------------


@pytest.mark.parametrize("kit", [PINDUODUO], ids=["pinduoduo"], indirect=True)
def test_pinduoduo_gives_its_deadline_to_the_case(kit, fake, store):
    # its list gives no deadline; the detail read (a push's, or before a write) does, and a later
    # list read of the same step keeps it
    synced(kit, store)
    refresh(store, kit.return_id)  # what a push message asks for
    case = case_of(store, kit.return_id)
    assert case.deadline_at == dt.datetime(2025, 3, 16, 9, 12, 40, tzinfo=BEIJING)
    assert case.deadline_action == DeadlineAction.PLATFORM_DUE


# --- Kuaishou: a listing that carries no version ------------------------------------------------


@pytest.mark.parametrize("kit", [KUAISHOU], ids=["kuaishou"], indirect=True)
@override_settings(AFTERSALES_CONNECTOR_TIMEOUT=0.3)
def test_kuaishou_a_listing_without_the_version_settles_a_lost_refund_by_its_status(
    kit, fake, store, agent
):
    synced(kit, store)
    case = case_of(store, kit.refund_id)
    as_it_was = copy.deepcopy(fake.refunds[int(kit.refund_id)])
    fake.stall = {kit.agree_refund}
    first = agent.act(case.number, "approve")
    assert first.json()["code"] == "platform_outcome_unknown"
    # the platform never carried it out: its refund is as it was
    fake.refunds[int(kit.refund_id)] = as_it_was

    # when the next sync reads the listing, which has the refund unmoved and no refundVersion
    Store.objects.filter(pk=store.pk).update(synced_until=kit.since)
    synced(kit, store)

    # then the write did not happen, and the agent may approve again
    assert PlatformWrite.objects.get(case=case).status == WriteStatus.SETTLED_NOT_DONE
    fake.stall = set()
    assert agent.act(case.number, "approve").status_code == 200
    assert kit.status_on(fake, kit.refund_id) == 60
