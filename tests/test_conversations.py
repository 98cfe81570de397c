"""Two-way messages on cases and complaints: each side writes (the API, the desk, the portal),
with photos re-encoded without their metadata; each message is an event the SLA clocks read
(``customer_message`` / ``message``); unread counts on both sides; refusals change nothing."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from aftersales.cases.models import Case
from aftersales.conversations.models import Message, MessagePhoto, Thread
from aftersales.core.models import Event, Notice
from aftersales.team.models import ReplyTemplate
from aftersales.team.services import user_create
from aftersales.team.workbench import assign
from tests.conftest import make_order, make_shop, make_user, open_case


def photo(name="p.jpg", size=(40, 30), exif=True) -> SimpleUploadedFile:
    """A JPEG with an EXIF block (a phone's photo carries its GPS position there)."""
    buffer = io.BytesIO()
    image = Image.new("RGB", size, "red")
    extra = {}
    if exif:
        data = Image.Exif()
        data[0x010F] = "PhoneMaker"  # Make
        extra["exif"] = data.tobytes()
    image.save(buffer, "JPEG", **extra)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def post(api, number, text="", photos=(), kind="cases", **fields):
    return api.client.post(
        f"/api/v1/{kind}/{number}/messages", {"text": text, "photos": list(photos), **fields}
    )


@pytest.fixture
def number(customer, order):
    return open_case(customer, order)["number"]


def actions(number) -> list[str]:
    return list(Event.objects.filter(case__number=number).values_list("action", flat=True))


def test_the_customer_writes_with_a_photo_and_the_shop_answers(customer, agent, number, clock):
    # given a case assigned to the agent
    case = Case.objects.get(number=number)
    assign(actor=agent.principal, subject_type="case", subject_ids=[case.id], username="agent")

    # when the customer writes with a photo
    sent = post(customer, number, "商品有划痕，见图", [photo()])

    # then it is a message from the customer, an event the SLA reads, unread by the shop
    assert sent.status_code == 201, sent.content
    body = sent.json()
    assert (body["direction"], body["author"], body["text"]) == ("in", "buyer", "商品有划痕，见图")
    assert actions(number)[-1] == "customer_message"
    thread = Thread.objects.get(subject_id=case.id)
    assert (thread.staff_unread, thread.customer_unread) == (1, 0)
    # the photo is stored as a JPEG without its metadata
    stored = MessagePhoto.objects.get()
    with Image.open(stored.file) as image:
        assert (image.format, image.size, dict(image.getexif())) == ("JPEG", (40, 30), {})
    # and the assignee is told
    notice = Notice.objects.get(kind="customer_replied")
    assert (notice.recipient.username, notice.audience) == ("agent", "shop")

    # when the agent answers
    answer = post(agent, number, "已收到，马上处理")
    # then it is the shop's message, unread by the customer, read by the shop
    assert answer.json()["direction"] == "out"
    assert actions(number)[-1] == "message"
    thread.refresh_from_db()
    assert (thread.staff_unread, thread.customer_unread) == (0, 1)
    assert Notice.objects.filter(kind="case_message").count() == 1

    # and each side reads the thread with its own count; the customer reads "the shop"
    mine = customer.get(f"/cases/{number}/messages").json()
    assert [m["author"] for m in mine["items"]] == ["buyer", "The shop"]
    assert mine["unread"] == 1
    assert agent.get(f"/cases/{number}/messages").json()["unread"] == 0
    assert customer.post(f"/cases/{number}/messages/read").json() == {"unread": 0}
    assert customer.get(f"/cases/{number}/messages").json()["unread"] == 0


def test_the_photo_is_served_to_those_who_see_the_case(customer, agent, number, shop):
    post(customer, number, "", [photo()])
    url = customer.get(f"/cases/{number}/messages").json()["items"][0]["photos"][0]["url"]
    assert agent.client.get(url).status_code == 200
    assert customer.client.get(url + "?thumbnail=true")["Content-Type"] == "image/jpeg"
    make_order(external_id="O2", customer="C2")
    stranger = make_user("other-buyer", "customer", shop="shop", customer="C2")
    assert stranger.client.get(url).status_code == 404


def _huge_png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("1", (8000, 6000)).save(buffer, "PNG")  # 48 megapixels in a few KB
    return SimpleUploadedFile("big.png", buffer.getvalue(), content_type="image/png")


REFUSALS = [
    # (who, text, photos, extra fields, status, code)
    ("customer", "", 0, {}, 422, "text_required"),
    ("customer", "   ", 0, {}, 422, "text_required"),
    ("customer", "长" * 2001, 0, {}, 422, "invalid_input"),
    ("customer", "四张", 4, {}, 422, "too_many_photos"),
    ("customer", "不是图片", "text", {}, 415, "unsupported_media_type"),
    ("customer", "太大", "huge", {}, 413, "image_too_large"),
    ("finance", "财务", 0, {}, 403, "forbidden"),
    ("stranger", "别人的", 0, {}, 404, "case_not_found"),
    ("agent", "模板", 0, {"template_id": 999999}, 422, "template_not_found"),
]


@pytest.mark.parametrize(("who", "text", "photos", "fields", "status", "code"), REFUSALS)
def test_refusals_say_why_and_write_nothing(
    customer, agent, finance, number, who, text, photos, fields, status, code
):
    # given
    make_shop("elsewhere")
    apis = {
        "customer": customer,
        "agent": agent,
        "finance": finance,
        "stranger": make_user("stranger", "agent", shop="elsewhere"),
    }
    if photos == "text":
        uploads = [SimpleUploadedFile("a.jpg", b"hello", content_type="image/jpeg")]
    elif photos == "huge":
        uploads = [_huge_png()]
    else:
        uploads = [photo(f"{i}.jpg") for i in range(photos)]
    events = Event.objects.count()

    # when
    response = post(apis[who], number, text, uploads, **fields)

    # then
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert set(response.json()) >= {"code", "detail"}
    assert Message.objects.count() == 0 and MessagePhoto.objects.count() == 0
    assert Event.objects.count() == events
    assert not Thread.objects.exists()


def test_a_complaint_has_its_conversation(customer, agent, order):
    # given a complaint
    filed = customer.post(
        "/complaints", {"order_id": order.id, "type": "attitude", "description": "客服态度差"}
    )
    complaint = filed.json()["number"]

    # when the customer writes and the shop answers
    assert post(customer, complaint, "请尽快联系我", kind="complaints").status_code == 201
    assert post(agent, complaint, "已致电", kind="complaints").status_code == 201

    # then the complaint's timeline has both, in the words the customer reads
    events = customer.get(f"/complaints/{complaint}").json()["events"]
    assert [e["action"] for e in events][-2:] == ["customer_message", "message"]
    assert agent.get(f"/complaints/{complaint}/messages").json()["unread"] == 0
    assert customer.get(f"/complaints/{complaint}/messages").json()["unread"] == 1
    assert Notice.objects.filter(kind="shop_message", audience="customer").count() == 1
    # and the pages show the thread on both sides
    desk = Client()
    user_create(username="desk", role="agent", shop_codes=["shop"], password="pw-desk-12345")
    desk.login(username="desk", password="pw-desk-12345")
    page = desk.get(f"/desk/complaints/{complaint}/").content.decode()
    assert "请尽快联系我" in page and 'data-direction="in"' in page


@pytest.fixture
def desk(agent):
    user_create(username="desk", role="agent", shop_codes=["shop"], password="pw-desk-12345")
    client = Client()
    assert client.login(username="desk", password="pw-desk-12345")
    return client


def portal(order) -> Client:
    client = Client()
    response = client.post("/", {"order": order.external_id, "phone": "13800000000"})
    assert response.status_code == 302
    return client


def test_the_portal_and_the_desk_talk(desk, order, number, clock):
    # given the customer on the portal (by order number and phone)
    buyer = portal(order)

    # when they write with a photo from the case page
    sent = buyer.post(f"/cases/{number}/message/", {"text": "还没收到退款", "photos": [photo()]})

    # then they are back on the case, and the desk's queue counts it unread
    assert sent.status_code == 302 and sent["Location"] == f"/cases/{number}/#thread"
    queue = desk.get("/desk/").content.decode()
    assert 'data-unread="1"' in queue
    page = desk.get(f"/desk/cases/{number}/").content.decode()
    assert "还没收到退款" in page and "data-photo" in page

    # when the agent answers from the desk's form (htmx answers with the thread)
    answer = desk.post(f"/desk/cases/{number}/message/", {"text": "今天退"}, HTTP_HX_REQUEST="true")
    assert answer.status_code == 200 and 'id="thread"' in answer.content.decode()

    # then the customer's order page and "my orders" show one unread message
    order_page = buyer.get(f"/orders/{order.id}/").content.decode()
    assert 'data-unread="1"' in order_page
    case_page = buyer.get(f"/cases/{number}/").content.decode()
    assert "今天退" in case_page and "data-unread-count" in case_page
    # reading the thread (the page posts it) clears the count
    assert buyer.post(f"/cases/{number}/messages/read/").status_code == 204
    assert 'data-unread="1"' not in buyer.get(f"/orders/{order.id}/").content.decode()


def test_the_desk_form_keeps_its_reply_templates(desk, shop, number):
    # given a template the case can fill
    template = ReplyTemplate.objects.create(shop=shop, title="问候", body="{customer_name} 您好")

    # when it is sent from the desk's form
    response = desk.post(
        f"/desk/cases/{number}/message/", {"text": "顾客C1 您好", "template_id": template.id}
    )

    # then the message and its event carry it
    assert response.status_code == 302
    event = Event.objects.get(case__number=number, action="message")
    assert event.data == {"text": "顾客C1 您好", "template_id": template.id}
    assert Message.objects.get().direction == "out"


def test_a_refused_desk_message_shows_its_error_and_keeps_the_text(desk, number):
    response = desk.post(f"/desk/cases/{number}/message/", {"text": ""})
    assert response.status_code == 422
    assert 'data-error-for="message"' in response.content.decode()
    htmx = desk.post(f"/desk/cases/{number}/message/", {"text": " "}, HTTP_HX_REQUEST="true")
    assert htmx.status_code == 422 and 'id="thread"' in htmx.content.decode()
