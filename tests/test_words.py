"""What agents and shoppers read: every option and timeline entry in their language, no raw
codes, times in the shop's zone, the right words for each kind of case, forms that offer what
applies, replies never sent with a blank, and the desk's files served to its session."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.db import models
from django.test import Client
from django.utils import translation

from aftersales.cases import choices, wording
from aftersales.cases.models import Case
from aftersales.catalog.models import Product, ReturnAddress, Sku
from aftersales.core.models import Event
from aftersales.team.models import ReplyTemplate
from aftersales.team.services import user_create
from tests.conftest import make_order, make_shop, make_user, open_case


class Options(HTMLParser):
    """The text of every <option> of a page."""

    def __init__(self):
        super().__init__()
        self.options: list[str] = []
        self._inside = False

    def handle_starttag(self, tag, attrs):
        if tag == "option":
            self._inside = True
            self.options.append("")

    def handle_endtag(self, tag):
        if tag == "option":
            self._inside = False

    def handle_data(self, data):
        if self._inside:
            self.options[-1] += data


def options_of(html: str) -> list[str]:
    parser = Options()
    parser.feed(html)
    return [option.strip() for option in parser.options]


def english_labels() -> set[str]:
    """Every label of the product's vocabularies, in English."""
    vocabularies = [
        value
        for module in (choices, wording)
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, models.Choices)
    ]
    with translation.override("en"):
        labels = {str(label) for vocabulary in vocabularies for _v, label in vocabulary.choices}
    with translation.override("zh-hans"):
        same = {str(label) for vocabulary in vocabularies for _v, label in vocabulary.choices}
    return labels - same  # a label that reads the same in Chinese is not English


def login(username: str, role: str = "agent", shop: str = "shop") -> Client:
    user_create(username=username, role=role, shop_codes=[shop], password="pw-desk-12345")
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert client.login(username=username, password="pw-desk-12345")
    return client


@pytest.fixture
def desk(shop):
    return login("desk-agent")


@pytest.fixture
def lead(shop):
    return login("desk-lead", role="admin")


def act(api, number, action, body=None):
    response = api.act(number, action, body or {})
    assert response.status_code == 200, response.content
    return response.json()


SHIP = {"carrier": "SF", "tracking_number": "SF1001"}


def exchange_in(customer, agent, state: str) -> str:
    order = make_order(
        external_id=f"X-{state}", lines=[("L1", "SHOE-M", 1, Decimal("199.00"), Decimal("199.00"))]
    )
    product = Product.objects.get(code="SHOE-M")
    Sku.objects.get_or_create(shop=order.shop, product=product, code="SHOE-L", stock=4)
    number = open_case(customer, order, kind="exchange", reason="wrong_size")["number"]
    steps = [
        (agent, "approve"),
        (customer, "ship_return", SHIP),
        (agent, "receive"),
        (agent, "inspect", {"result": "pass"}),
    ]
    for api, action, *body in steps:
        if Case.objects.get(number=number).state == state:
            break
        act(api, number, action, *(body or [None]))
    return number


# --- every option and every entry in the reader's language --------------------------------------


def test_every_select_of_the_desk_reads_chinese_in_every_state(
    desk, lead, customer, agent, finance, order
):
    # given cases whose pages hold every form: approval, inspection with its grades, the
    # replacement, conversion, the diagnosis, and the queue's filters
    numbers = [open_case(customer, order)["number"]]
    numbers += [
        exchange_in(customer, agent, state) for state in ("inspecting", "replacement_pending")
    ]
    repair = make_order(
        external_id="R-1", lines=[("L1", "EARBUD", 1, Decimal("99.00"), Decimal("99.00"))]
    )
    number = open_case(customer, repair, kind="repair", reason="quality_issue")["number"]
    for api, action, *body in [
        (agent, "approve"),
        (customer, "ship_return", SHIP),
        (agent, "receive"),
    ]:
        act(api, number, action, *(body or [None]))
    numbers.append(number)
    english = english_labels()

    # when each page is read in Chinese, by an agent and by the lead
    pages = [desk.get("/desk/").content.decode()]
    pages += [
        client.get(f"/desk/cases/{n}/").content.decode() for n in numbers for client in (desk, lead)
    ]

    # then no option is an English label
    options = [option for page in pages for option in options_of(page)]
    assert len(options) > 100
    assert sorted({option for option in options if option in english}) == []
    assert "质量问题" in options and "包装破损" in options and "翻新" in options


def test_every_select_offers_one_empty_option_at_most(desk, customer, agent):
    number = exchange_in(customer, agent, "inspecting")
    page = desk.get(f"/desk/cases/{number}/").content.decode()
    for select in re.findall(r"<select[^>]*>(.*?)</select>", page, flags=re.S):
        empties = re.findall(r'<option value="">', select)
        assert len(empties) <= 1, select


def test_the_timeline_reads_words_in_the_shops_time(desk, customer, order, clock):
    # given a case opened at 10:00 in Shanghai (02:00 UTC) for a quality issue
    number = open_case(customer, order)["number"]

    # when an agent reads its page in Chinese
    page = desk.get(f"/desk/cases/{number}/").content.decode()
    timeline = page[page.index('id="case"') :]
    timeline = timeline[timeline.index("时间线") :]

    # then the reason is a word, the time is Shanghai's, and no code or ISO time shows
    assert "质量问题" in timeline
    assert "2026-11-24 10:00" in timeline
    assert "quality_issue" not in page and "return_refund" not in page
    assert not re.search(r"\d{4}-\d{2}-\d{2}T\d{2}", timeline)


def test_every_timeline_entry_has_words(customer, agent, finance, order):
    # each kind of event reads as a sentence without codes
    number = open_case(customer, order, reason="wrong_size")["number"]
    act(agent, number, "approve")
    act(customer, number, "ship_return", SHIP)
    act(agent, number, "receive", {"note": "外箱破损"})
    act(
        agent,
        number,
        "inspect",
        {"lines": [{"order_line_id": order.lines.get().id, "condition": "packaging_damaged"}]},
    )
    act(finance, number, "refund", {"idempotency_key": "r-1"})
    case = Case.objects.get(number=number)
    with translation.override("zh-hans"):
        read = {
            event.action: " ".join(wording.describe(event, case)) for event in case.events.all()
        }
    assert read["open"].startswith("退货退款 · 尺码不合适")
    assert "顺丰速运 SF1001" in read["ship_return"]
    assert "外箱破损" in read["receive"]
    assert "包装破损" in read["inspect"]
    assert "CNY" in read["refund"]
    for text in read.values():
        assert not re.search(r"\b[a-z]+_[a-z_]+\b", text), text


# --- the right words for each kind and state ----------------------------------------------------


def test_an_exchange_awaiting_the_parcel_is_not_a_refund_agreement(desk, customer, agent):
    number = exchange_in(customer, agent, "awaiting_return")
    page = desk.get(f"/desk/cases/{number}/").content.decode()
    assert "换货申请已同意，待买家寄回" in page
    assert "退款协议达成" not in page


def test_the_portal_stops_asking_for_the_parcel_once_it_arrived(customer, agent, order):
    # given a return the shop approved
    number = open_case(customer, order)["number"]
    act(agent, number, "approve")
    portal = portal_client(order)
    assert "data-send-to" in portal.get(f"/cases/{number}/").content.decode()

    # when the parcel has been received
    act(customer, number, "ship_return", SHIP)
    act(agent, number, "receive")

    # then the page no longer says where to send it
    assert "data-send-to" not in portal.get(f"/cases/{number}/").content.decode()


def portal_client(order) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    response = client.post("/", {"order": order.external_id, "phone": "13800000000"})
    assert response.status_code == 302, response.content
    return client


def test_a_repair_shows_its_quote_not_the_order_amount(desk, customer, agent):
    order = make_order(
        external_id="R-2", lines=[("L1", "EARBUD", 1, Decimal("899.00"), Decimal("899.00"))]
    )
    Product.objects.filter(code="EARBUD").update(warranty_days=0)
    number = open_case(customer, order, kind="repair", reason="quality_issue")["number"]
    for api, action, *body in [
        (agent, "approve"),
        (customer, "ship_return", SHIP),
        (agent, "receive"),
    ]:
        act(api, number, action, *(body or [None]))
    act(
        agent,
        number,
        "diagnose",
        {
            "diagnosed_by": "shop",
            "fault_code": "无声",
            "quote_parts": "80.00",
            "quote_labour": "40.00",
        },
    )

    # the agent sees the quote waiting for the customer
    page = desk.get(f"/desk/cases/{number}/").content.decode()
    assert "data-quote" in page and "120.00" in page

    # the customer sees the quote and not the price of the order as an "amount"
    mine = portal_client(order).get(f"/cases/{number}/").content.decode()
    assert "120.00" in mine
    assert "899.00" not in mine


def test_a_refund_only_preview_asks_for_no_parcel(customer):
    order = make_order(external_id="U-1", shipped=False)
    client = portal_client(order)
    line = order.lines.get()
    response = client.post(
        f"/orders/{order.id}/apply/",
        {"kind": "refund_only", "reason": "not_shipped", f"qty-{line.id}": "1", "check": "1"},
        HTTP_HX_REQUEST="true",
    )
    text = response.content.decode()
    assert "data-eligible" in text
    assert "退货运费" not in text  # neither "you pay" nor "the shop pays" the return shipping
    assert "无需寄回商品" in text


def test_an_escalated_case_says_it_went_to_the_lead(desk, customer, agent, order, clock):
    from aftersales.core.sweep import sweep

    number = open_case(customer, order)["number"]
    act(agent, number, "approve")
    act(customer, number, "ship_return", SHIP)
    act(agent, number, "receive")
    clock.shift(days=8)  # the 7-day refund duty has passed: the sweep escalates
    sweep()
    page = desk.get(f"/desk/cases/{number}/").content.decode()
    assert "已上报主管" in page


def test_after_inspection_the_agent_reads_that_finance_pays_next(desk, customer, agent, order):
    number = open_case(customer, order)["number"]
    act(agent, number, "approve")
    act(customer, number, "ship_return", SHIP)
    act(agent, number, "receive")
    act(agent, number, "inspect", {"result": "pass"})
    page = desk.get(f"/desk/cases/{number}/").content.decode()
    assert "等待财务退款 90.00 CNY。" in page


# --- forms that offer what applies ---------------------------------------------------------------


def test_the_only_return_address_is_chosen_already(desk, customer, order):
    number = open_case(customer, order)["number"]
    page = desk.get(f"/desk/cases/{number}/").content.decode()
    address = ReturnAddress.objects.get()
    assert f'<option value="{address.id}" selected>' in page

    # with two addresses the agent chooses (or takes the default)
    ReturnAddress.objects.create(shop=address.shop, name="二仓", phone="1", address="宁波")
    page = desk.get(f"/desk/cases/{number}/").content.decode()
    assert f'<option value="{address.id}" selected>' not in page


def test_carriers_come_from_a_list_and_other_takes_a_name(customer, agent, order):
    number = open_case(customer, order)["number"]
    act(agent, number, "approve")
    client = portal_client(order)
    page = client.get(f"/cases/{number}/").content.decode()
    for code in ("SF", "ZTO", "YTO", "STO", "YUNDA", "JD", "EMS", "JT", "DEPPON", "OTHER"):
        assert f'<option value="{code}">' in page
    assert "顺丰速运" in page

    # "other" sends the name typed beside it
    client.post(
        f"/cases/{number}/act/ship_return/",
        {"carrier": "OTHER", "carrier_other": "安能物流", "tracking_number": "AN-1"},
    )
    assert Case.objects.get(number=number).return_carrier == "安能物流"


def test_a_carrier_code_is_stored_and_read_as_its_name(desk, customer, agent, order):
    number = open_case(customer, order)["number"]
    act(agent, number, "approve")
    portal_client(order).post(
        f"/cases/{number}/act/ship_return/", {"carrier": "ZTO", "tracking_number": "ZT-9"}
    )
    assert Case.objects.get(number=number).return_carrier == "ZTO"
    assert "中通快递 ZT-9" in desk.get(f"/desk/cases/{number}/").content.decode()


def test_the_replacement_is_chosen_from_the_products_variants(desk, customer, agent):
    number = exchange_in(customer, agent, "replacement_pending")
    page = desk.get(f"/desk/cases/{number}/").content.decode()
    line = Case.objects.get(number=number).lines.get()
    assert f'name="line-{line.order_line_id}-sku"' in page
    assert '<option value="SHOE-L">SHOE-L（库存 4）</option>' in page

    # when the agent picks it, that variant ships
    desk.post(
        f"/desk/cases/{number}/act/ship_replacement/",
        {"carrier": "SF", "tracking_number": "SF-R1", f"line-{line.order_line_id}-sku": "SHOE-L"},
    )
    case = Case.objects.get(number=number)
    assert case.state == "shipped_to_customer"
    assert case.lines.get().replacement_sku.code == "SHOE-L"


def test_the_suggested_deduction_and_refund_show_before_inspection(desk, customer, agent, order):
    number = open_case(customer, order)["number"]
    act(agent, number, "approve")
    act(customer, number, "ship_return", SHIP)
    act(agent, number, "receive")
    line = order.lines.get()

    # the page shows the suggestion for what was received so far
    page = desk.get(f"/desk/cases/{number}/").content.decode()
    assert "建议扣款：0.00 CNY · 扣款后退款：90.00 CNY" in page

    # grading a line "used" (30%) previews the deduction and the refund, and writes nothing
    preview = desk.post(
        f"/desk/cases/{number}/inspection-preview/",
        {f"line-{line.id}-condition": "used"},
    ).content.decode()
    assert "建议扣款：27.00 CNY · 扣款后退款：63.00 CNY" in preview
    assert Case.objects.get(number=number).lines.get().condition == ""


def test_the_receiving_desk_finds_codes_in_any_letter_case(desk, customer, agent, order):
    number = open_case(customer, order)["number"]
    act(agent, number, "approve")
    act(customer, number, "ship_return", {"carrier": "SF", "tracking_number": "SF777ABC"})
    for code in ("sf777abc", number.lower()):
        response = desk.get("/desk/receiving/", {"code": code})
        assert response.status_code == 302, code
        assert response["Location"] == f"/desk/cases/{number}/#action-receive"


def test_the_queue_finds_a_customer_by_name(desk, customer, order):
    number = open_case(customer, order)["number"]
    page = desk.get("/desk/", {"q": "顾客C"}).content.decode()
    assert f'data-case="{number}"' in page
    assert 'data-case="' not in desk.get("/desk/", {"q": "无此人"}).content.decode()


# --- replies never go out with a blank ------------------------------------------------------------


def test_a_template_the_case_cannot_fill_is_refused_with_what_it_lacks(desk, customer, order):
    # given a case not approved yet: it has no return address
    number = open_case(customer, order)["number"]
    template = ReplyTemplate.objects.get(language="zh-hans", title="质量问题处理")

    # the template is offered disabled, saying what it needs
    page = desk.get(f"/desk/cases/{number}/").content.decode()
    assert re.search(rf'<option value="{template.id}" disabled>质量问题处理（需要退货地址', page)

    # filling it says what is missing instead of leaving a blank
    filled = desk.get(f"/desk/cases/{number}/template/", {"template_id": template.id})
    assert "data-template-missing" in filled.content.decode()
    assert "请您将商品寄回：，" not in filled.content.decode()

    # and sending it is refused, with nothing written
    response = desk.post(
        f"/desk/cases/{number}/message/",
        {"text": "请您将商品寄回：，我们收到后…", "template_id": template.id},
    )
    assert response.status_code == 422
    assert "退货地址" in response.content.decode()
    assert not Event.objects.filter(case__number=number, action="message").exists()


# --- the desk's files and forms ------------------------------------------------------------------


def test_the_desk_serves_labels_and_evidence_to_its_session(desk, customer, agent, order):
    from tests.test_evidence import jpeg_with_gps

    number = open_case(customer, order)["number"]
    act(agent, number, "approve")
    response = agent.client.post(
        f"/api/v1/cases/{number}/evidence",
        {"file": _upload(jpeg_with_gps())},
    )
    assert response.status_code == 201, response.content
    evidence_id = response.json()["id"]

    page = desk.get(f"/desk/cases/{number}/").content.decode()
    assert "/api/v1/" not in page  # no link that needs a token
    label = desk.get(f"/desk/cases/{number}/label.pdf")
    assert label.status_code == 200 and label.content[:4] == b"%PDF"
    slip = desk.get(f"/desk/cases/{number}/label.pdf", {"variant": "packing_slip"})
    assert slip.status_code == 200 and slip.content[:4] == b"%PDF"
    thumb = desk.get(f"/desk/cases/{number}/evidence/{evidence_id}/", {"thumbnail": "1"})
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/jpeg"

    # another shop's agent gets nothing
    make_shop("other")
    stranger = login("stranger", shop="other")
    assert stranger.get(f"/desk/cases/{number}/label.pdf").status_code == 404
    assert stranger.get(f"/desk/cases/{number}/evidence/{evidence_id}/").status_code == 404


def _upload(data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("photo.jpg", data, content_type="image/jpeg")


@pytest.mark.parametrize(
    "back",
    ["https://evil.example/", "//evil.example/desk/", "javascript:alert(1)", "/admin/", ""],
)
def test_a_bulk_action_returns_only_to_the_queue(desk, back):
    response = desk.post("/desk/bulk/", {"operation": "assign", "assignee": "", "back": back})
    assert response.status_code == 302
    assert response["Location"] == "/desk/"


def test_a_bulk_action_returns_to_the_queue_view_it_came_from(desk):
    response = desk.post(
        "/desk/bulk/", {"operation": "assign", "assignee": "", "back": "/desk/?state=rejected"}
    )
    assert response["Location"] == "/desk/?state=rejected"


def test_the_assignee_form_answers_the_same_whoever_is_named(desk, customer, order):
    number = open_case(customer, order)["number"]
    make_shop("other")
    user_create(username="elsewhere", role="agent", shop_codes=["other"], password="pw-x-123456")
    make_user("shopper", "customer", shop="shop", customer="C1")
    answers = set()
    for name in ("elsewhere", "nobody-at-all", "shopper"):
        response = desk.post(f"/desk/cases/{number}/assign/", {"assignee": name})
        assert response.status_code == 422
        error = re.search(r'<div class="error" role="alert">(.*?)</div>', response.content.decode())
        answers.add(error.group(1).replace(name, "NAME"))
    assert len(answers) == 1
    assert Case.objects.get(number=number).assignee is None


def test_a_portal_customer_applying_in_english_gets_english_later(customer):
    del customer  # the customer exists; their language follows the portal they used
    order = make_order(external_id="L-1")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.post("/", {"order": order.external_id, "phone": "13800000000"})
    line = order.lines.get()
    client.post(
        f"/orders/{order.id}/apply/",
        {"kind": "return_refund", "reason": "quality_issue", f"qty-{line.id}": "1"},
    )
    order.customer.refresh_from_db()
    assert order.customer.language == "en"


@pytest.fixture(autouse=True)
def _frozen(clock):
    # every test above reads times relative to the suite's fixed now
    return clock


def test_times_are_not_on_utc(desk, customer, order, clock):
    clock.set(dt.datetime(2026, 11, 24, 17, 30, tzinfo=dt.UTC))  # 01:30 on the 25th in Shanghai
    number = open_case(customer, order)["number"]
    page = desk.get(f"/desk/cases/{number}/").content.decode()
    assert "2026-11-25 01:30" in page
    assert "2026-11-24 17:30" not in page


def test_the_api_names_an_exchanges_state_in_its_words(customer, agent):
    number = exchange_in(customer, agent, "awaiting_return")
    customer.client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    assert customer.get(f"/cases/{number}").json()["state_label"] == "换货申请已同意，待买家寄回"
