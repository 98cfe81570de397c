"""A marketplace's requests become cases and the desk's decisions go back, against the Taobao fake
gateway: a first sync opens a case for every request whose codes are known (on an order built
from the request when the shop did not import it), books the refunds the platform paid once, and
keeps the platform's deadline when it is earlier; an agent's approval reaches the platform with
the request's version before the case moves; a version the platform refuses reads the request
again and says what changed; a write with no answer is never sent again and the next read settles
it; writes stay off until turned on; automatic refunds respect the store's cap; the platform's
customer service pauses the case's deadline."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings

from aftersales.cases.choices import Action, CaseState, DeadlineAction
from aftersales.cases.models import Case, RefundEntry
from aftersales.connectors.base import Credentials
from aftersales.connectors.models import PlatformRequest, PlatformWrite, Store, WriteStatus
from aftersales.connectors.sync import refresh, store_create, store_sync
from aftersales.core.models import Event
from aftersales.core.sweep import sweep
from aftersales.notify.runner import tasks_run
from tests.conftest import make_shop, make_user
from tests.fakes.taobao import APP_KEY, APP_SECRET, SESSION, FakeTop

BEIJING = ZoneInfo("Asia/Shanghai")
MORNING = dt.datetime(2025, 3, 14, 8, tzinfo=BEIJING)
NOON = dt.datetime(2025, 3, 14, 12, tzinfo=BEIJING)
NEXT_DAY = dt.datetime(2025, 3, 17, 12, tzinfo=BEIJING)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def fake_top():
    fake = FakeTop()
    with fake.serve("/router/rest"):
        yield fake


@pytest.fixture
def store(clock, fake_top):
    clock.set(NOON)
    shop = make_shop("shop")
    return store_create(
        shop=shop,
        platform="taobao",
        name="优衣小铺旗舰店",
        credentials=Credentials(APP_KEY, APP_SECRET, SESSION, seller_id="优衣小铺"),
        gateway=fake_top.url,
        synced_until=MORNING,
    )


@pytest.fixture
def agent(store):
    return make_user("agent", "agent", shop="shop")


def writes_on(store, **more):
    Store.objects.filter(pk=store.pk).update(write_enabled=True, return_address_id="9001", **more)


def case_of(request_id: str) -> Case:
    return PlatformRequest.objects.get(request_id=request_id).case


def test_a_first_sync_opens_a_case_for_every_known_request_and_books_what_the_platform_paid(
    store, fake_top, clock
):
    clock.set(NEXT_DAY)
    store_sync(store.pk, until=NEXT_DAY)

    rows = {row.request_id: row for row in PlatformRequest.objects.filter(store=store)}
    opened = {rid: row.case for rid, row in rows.items() if row.case_id}
    # every request whose codes the mapping knows has its case, in the state the platform gives
    assert set(opened) == {
        rid for rid, row in rows.items() if row.mapped_state and not row.needs_person
    }
    assert opened and all(c.state == rows[rid].mapped_state for rid, c in opened.items())
    assert all(
        c.platform == "taobao" and c.kind == rows[rid].mapped_kind for rid, c in opened.items()
    )
    # on an order built from the request: its number, its item, the amount asked
    case = opened["166801"]
    assert case.order.external_id == "3965120001"
    assert [line.order_line.sku.code for line in case.lines.all()] == ["UY-801-M"]
    assert case.requested_amount == Decimal("89.00")
    assert case.reason == "changed_mind"  # 不想要了
    # a refund the platform paid is in the ledger once, under the request's key
    paid = opened["166805"]
    assert paid.state == CaseState.REFUNDED and paid.refunded_amount == Decimal("19.36")
    assert RefundEntry.objects.filter(case=paid).count() == 1
    # a second sync of the same span changes nothing: no case, event or refund more
    events = Event.objects.count()
    Store.objects.filter(pk=store.pk).update(synced_until=MORNING)
    store_sync(store.pk, until=NEXT_DAY)
    assert Event.objects.count() == events
    assert Case.objects.count() == len(opened)
    assert RefundEntry.objects.filter(case=paid).count() == 1


def test_the_platforms_earlier_deadline_is_the_cases_and_when_it_passes_the_request_is_read_again(
    store, fake_top, clock
):
    store_sync(store.pk, until=NOON)
    case = case_of("166802")  # a return awaiting the shop; Taobao's timeout 16 March 09:30
    platform_deadline = dt.datetime(2025, 3, 16, 9, 30, tzinfo=BEIJING)
    assert case.deadline_at == platform_deadline
    assert case.deadline_action == DeadlineAction.PLATFORM_DUE

    # when the platform's deadline passes
    clock.set(platform_deadline + dt.timedelta(minutes=1))
    fake_top.calls.clear()
    sweep()
    tasks_run(worker_id="test")

    # then the case took no action of its own: it asked the platform again
    case.refresh_from_db()
    assert case.state == CaseState.AWAITING_SELLER and case.deadline_at is None
    assert Event.objects.filter(subject_id=case.pk, action=Action.PLATFORM_DUE).exists()
    assert "taobao.refund.get" in fake_top.methods()


def test_an_agents_approval_reaches_the_platform_with_its_version_before_the_case_moves(
    store, fake_top, agent
):
    writes_on(store)
    store_sync(store.pk, until=NOON)
    case = case_of("166802")
    version = str(fake_top.refunds["166802"]["refund_version"])
    fake_top.calls.clear()

    response = agent.act(case.number, "approve")

    assert response.status_code == 200, response.content
    sent = [c for c in fake_top.calls if c.method == "taobao.rp.returngoods.agree"]
    assert len(sent) == 1
    assert sent[0].params["refund_version"] == version
    assert sent[0].params["seller_address_id"] == "9001"
    case.refresh_from_db()
    assert case.state == CaseState.AWAITING_RETURN
    write = PlatformWrite.objects.get(case=case)
    assert write.status == WriteStatus.DONE and write.version_sent == version


def test_writes_stay_off_until_turned_on(store, fake_top, agent):
    store_sync(store.pk, until=NOON)
    case = case_of("166802")
    fake_top.calls.clear()

    response = agent.act(case.number, "approve")

    assert response.status_code == 409 and response.json()["code"] == "platform_writes_off"
    assert fake_top.calls == [] and not PlatformWrite.objects.exists()
    case.refresh_from_db()
    assert case.state == CaseState.AWAITING_SELLER


def test_a_refused_version_reads_the_request_again_and_says_what_changed(store, fake_top, agent):
    writes_on(store)
    store_sync(store.pk, until=NOON)
    case = case_of("166802")
    # the buyer changes the amount on the platform after the read
    fake_top.touch("166802", refund_fee="150.00")

    response = agent.act(case.number, "approve")

    assert response.status_code == 409
    assert response.json()["code"] == "platform_changed"
    assert "150" in response.json()["detail"]
    assert PlatformRequest.objects.get(request_id="166802").amount == Decimal("150.00")
    assert PlatformWrite.objects.get(case=case).status == WriteStatus.REFUSED
    case.refresh_from_db()
    assert case.state == CaseState.AWAITING_SELLER


@override_settings(AFTERSALES_CONNECTOR_TIMEOUT=0.3)
def test_a_refund_with_no_answer_is_never_sent_again_and_the_next_read_settles_it(
    store, fake_top, agent
):
    writes_on(store)
    store_sync(store.pk, until=NOON)
    case = case_of("166801")  # refund only, 89.00
    fake_top.stall = {"taobao.rp.refunds.agree"}

    first = agent.act(case.number, "approve")
    assert first.status_code == 409 and first.json()["code"] == "platform_outcome_unknown"
    fake_top.release.set()
    fake_top.wait_answered("taobao.rp.refunds.agree")
    # a second try is refused while the first is unsettled: nothing is sent twice
    again = agent.act(case.number, "approve")
    assert again.status_code == 409 and again.json()["code"] == "platform_outcome_unknown"
    assert fake_top.methods().count("taobao.rp.refunds.agree") == 1
    assert PlatformWrite.objects.get(case=case).status == WriteStatus.UNKNOWN

    # when the request is read again, the read settles it: done, and the case follows
    refresh(store, "166801")
    assert PlatformWrite.objects.get(case=case).status == WriteStatus.SETTLED_DONE
    case.refresh_from_db()
    assert case.state == CaseState.REFUNDED and case.refunded_amount == Decimal("89.00")
    assert RefundEntry.objects.filter(case=case).count() == 1


def test_the_shops_automatic_refund_goes_to_the_platform_within_the_stores_cap(
    store, fake_top, clock
):
    writes_on(store, auto_refund_cap=Decimal("100.00"))
    # two refunds awaiting the shop that Taobao gives no timeout: the shop's own deadline acts
    fake_top.refunds["166801"]["refund_remind_timeout"] = None
    clock.set(dt.datetime(2025, 3, 16, 0, tzinfo=BEIJING))
    store_sync(store.pk, until=clock.now)
    small, large = case_of("166801"), case_of("166810")  # 89.00 and 499.00
    assert small.deadline_action == large.deadline_action == DeadlineAction.PLATFORM_AUTO
    fake_top.calls.clear()

    clock.set(max(small.deadline_at, large.deadline_at) + dt.timedelta(minutes=1))
    sweep()
    tasks_run(worker_id="test")

    # the small one was agreed on the platform and refunded here; the large one waits for a person
    sent = [
        c.params["refund_infos"] for c in fake_top.calls if c.method == "taobao.rp.refunds.agree"
    ]
    assert [info.split("|")[0] for info in sent] == ["166801"]
    small.refresh_from_db()
    large.refresh_from_db()
    assert small.state == CaseState.REFUNDED and small.refunded_amount == Decimal("89.00")
    assert PlatformWrite.objects.get(case=small).automatic
    assert large.state == CaseState.AWAITING_SELLER
    waiting = PlatformRequest.objects.get(request_id="166810")
    assert waiting.needs_person and "100.00" in waiting.link_error


def test_the_platforms_customer_service_pauses_the_deadline_and_gives_it_back(
    store, fake_top, clock
):
    store_sync(store.pk, until=NOON)
    case = case_of("166802")
    left = case.deadline_at - NOON

    fake_top.touch("166802", cs_status=2)  # customer service stepped in
    refresh(store, "166802")
    case.refresh_from_db()
    assert case.deadline_at is None
    assert Event.objects.filter(subject_id=case.pk, action=Action.PLATFORM_PAUSE).exists()

    clock.set(NOON + dt.timedelta(hours=2))
    fake_top.touch("166802", cs_status=1)
    refresh(store, "166802")
    case.refresh_from_db()
    resumed = Event.objects.get(subject_id=case.pk, action=Action.PLATFORM_RESUME)
    assert resumed.data["remaining_seconds"] == int(left.total_seconds())
    # the time it had left runs again, and the platform's own deadline is still the earlier
    assert case.deadline_at == dt.datetime(2025, 3, 16, 9, 30, tzinfo=BEIJING)
    assert case.deadline_action == DeadlineAction.PLATFORM_DUE


def test_the_desk_shows_the_platforms_badge_and_countdown_and_filters_by_store(
    store, fake_top, clock
):
    from django.test import Client

    from aftersales.team.services import user_create

    store_sync(store.pk, until=NOON)
    other = store_create(
        shop=store.shop,
        platform="jd",
        name="京东自营旗舰店",
        credentials=Credentials("k", "s", "t", seller_id="jd-1"),
        gateway="http://127.0.0.1:9",
    )
    user_create(username="desk-agent", role="agent", shop_codes=["shop"], password="pw-agent-123")
    desk = Client()
    assert desk.login(username="desk-agent", password="pw-agent-123")
    case = case_of("166802")

    with override_settings(LANGUAGE_CODE="zh-hans"):
        page = desk.get(f"/desk/cases/{case.number}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = page.content.decode()
    assert page.status_code == 200
    assert "淘宝" in html and "优衣小铺旗舰店" in html
    assert "淘宝倒计时" in html
    assert "2025-03-16 09:30" in html  # the platform's deadline, in the shop's time

    # the queue: each platform's case with its badge; the store filter keeps one store's
    mine = desk.get("/desk/", {"store": store.pk, "tab": "all"}).content.decode()
    assert case.number in mine and 'data-platform="taobao"' in mine
    none = desk.get("/desk/", {"store": other.pk, "tab": "all"}).content.decode()
    assert case.number not in none
    # a store number that is not one is ignored, never an error
    assert desk.get("/desk/", {"store": "²"}).status_code == 200


def test_the_shops_message_is_left_on_the_platforms_request_when_writes_are_on(
    store, fake_top, agent
):
    store_sync(store.pk, until=NOON)
    case = case_of("166802")

    # writes off: the message goes by the product's own channels alone
    fake_top.calls.clear()
    quiet = agent.client.post(
        f"/api/v1/cases/{case.number}/messages", {"text": "请寄回时附上订单号"}
    )
    assert quiet.status_code == 201, quiet.content
    assert "taobao.refund.message.add" not in fake_top.methods()

    # writes on: left on the request too, with its words
    writes_on(store)
    sent = agent.client.post(
        f"/api/v1/cases/{case.number}/messages", {"text": "已收到，请耐心等待"}
    )
    assert sent.status_code == 201, sent.content
    calls = [c for c in fake_top.calls if c.method == "taobao.refund.message.add"]
    assert len(calls) == 1 and calls[0].params["content"] == "已收到，请耐心等待"
    assert PlatformWrite.objects.get(case=case, action="message").status == WriteStatus.DONE
