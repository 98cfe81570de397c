"""The case page's and the queue's answers, byte for byte, against answers stored from the code
before they were made faster (``tests/pinned/<database>/*.json``).

A seeded case walks a return with a rich timeline (the customer's, the staff's and the system's
events, staff-only kinds and keys, a refund, a compensation, a photo); its page is read by the
agent and by the customer in English, and by the agent in Chinese, and the queue by both. The
stored texts hold ``${name}`` where an id stands (ids depend on what ran before in the database);
everything else (key order, numbers, amounts, times, words) must match exactly.

After a deliberate change of an answer, write the texts again with
``PIN_ANSWERS_REWRITE=1 pytest tests/test_answers_pinned.py`` and review the diff.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from decimal import Decimal
from pathlib import Path
from string import Template

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from aftersales.cases.models import Case
from aftersales.core.models import Event
from tests.conftest import make_order, open_case

PINNED = Path(__file__).parent / "pinned"
REWRITE = os.environ.get("PIN_ANSWERS_REWRITE") == "1"


def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 10, 10)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def seeded(customer, agent, finance, shop, clock):
    """A return of two lines walked to its refund, a compensation and a photo on it, a few
    events of other kinds, and a second case still waiting for the shop."""
    order = make_order(
        external_id="PIN-1",
        lines=[
            ("L1", "SKU-SHOE", 2, Decimal("100.00"), Decimal("200.00")),
            ("L2", "SKU-SOCK", 1, Decimal("20.00"), Decimal("20.00")),
        ],
    )
    lines = list(order.lines.order_by("id"))
    number = customer.post(
        "/cases",
        {
            "order_id": order.id,
            "kind": "return_refund",
            "reason": "quality_issue",
            "description": "鞋底开胶",
            "lines": [
                {"order_line_id": lines[0].id, "quantity": 2},
                {"order_line_id": lines[1].id, "quantity": 1},
            ],
        },
    ).json()["number"]
    clock.shift(minutes=7)
    photo = customer.client.post(
        f"/api/v1/cases/{number}/evidence",
        {"file": SimpleUploadedFile("a.png", _png(), content_type="image/png"), "caption": "破"},
    )
    assert photo.status_code == 201, photo.content
    clock.shift(hours=2)
    assert agent.act(number, "approve").status_code == 200
    clock.shift(hours=5, seconds=13)
    shipped = customer.act(number, "ship_return", {"carrier": "SF", "tracking_number": "SF1"})
    assert shipped.status_code == 200, shipped.content
    clock.shift(days=1, minutes=3)
    assert agent.act(number, "receive", {"note": "box dented"}).status_code == 200
    clock.shift(minutes=40)
    inspected = agent.act(
        number,
        "inspect",
        {
            "lines": [
                {"order_line_id": lines[0].id, "condition": "used", "disposition": "refurbish"},
                {"order_line_id": lines[1].id, "condition": "intact", "disposition": "restock"},
            ]
        },
    )
    assert inspected.status_code == 200, inspected.content
    clock.shift(hours=1)
    refunded = finance.act(number, "refund", {"idempotency_key": "pin-refund"})
    assert refunded.status_code == 200, refunded.content
    clock.shift(minutes=5)
    granted = agent.post(
        f"/cases/{number}/compensations", {"reason": "goodwill", "kind": "coupon", "amount": "5"}
    )
    assert granted.status_code == 201, granted.content
    # kinds the actions above do not write: staff-only ones, one with a staff-only key, the
    # system's, and one no table knows
    case = Case.objects.get(number=number)
    case_type = ContentType.objects.get_for_model(Case)
    for index, (action, role, actor, data) in enumerate(
        [
            ("escalate", "system", "system", {"missed": "approve"}),
            ("contact", "agent", "agent", {"channel": "call", "minutes": 3}),
            ("message", "agent", "agent", {"text": "您好", "template_id": 4}),
            ("customer_message", "customer", "buyer", {"text": "谢谢"}),
            ("sla_warned", "system", "system", {"clock": "first_response"}),
        ]
    ):
        Event.objects.create(
            subject_type=case_type,
            subject_id=case.id,
            shop_id=case.shop_id,
            actor_name=actor,
            role=role,
            action=action,
            from_state=case.state,
            to_state=case.state,
            data=data,
            at=clock.now + dt.timedelta(seconds=index),
        )
    clock.shift(hours=3)
    other = make_order(external_id="PIN-2")
    second = open_case(customer, other)["number"]
    clock.shift(minutes=30)
    return {"number": number, "second": second}


def _names(seeded) -> dict[str, str]:
    """Each id in the answers, by the name the stored texts give it."""
    case = Case.objects.get(number=seeded["number"])
    second = Case.objects.get(number=seeded["second"])
    names = {
        "number": case.number,
        "second_number": second.number,
        "order_id": str(case.order_id),
        "second_order_id": str(second.order_id),
        "address_id": str(case.return_address_id),
        "evidence_id": str(case.evidence.get().id),
        "compensation_code": case.compensations.get().code,
    }
    for index, line in enumerate(case.lines.order_by("id")):
        names[f"line_{index}"] = str(line.id)
        names[f"order_line_{index}"] = str(line.order_line_id)
    line = second.lines.get()
    names["second_line"], names["second_order_line"] = str(line.id), str(line.order_line_id)
    return names


# Where an id stands in the answers: a pattern whose one group is the id, and the names it may be.
_ID_PLACES = (
    (r'"return_address": \{"id": (\d+)', ("address_id",)),
    (r'"return_address_id": (\d+)', ("address_id",)),
    (r'\{"id": (\d+), "kind": "photo"', ("evidence_id",)),
    (r"/evidence/(\d+)", ("evidence_id",)),
    (r'\{"id": (\d+), "order_line_id"', ("line_0", "line_1", "second_line")),
    (r'"order_line_id": (\d+)', ("order_line_0", "order_line_1", "second_order_line")),
    (r'"(\d+)": [{0-9]', ("order_line_0", "order_line_1")),  # data keyed by order line
    (r'"order_id": (\d+)', ("order_id", "second_order_id")),
)


def _as_template(text: str, names: dict[str, str]) -> str:
    """The answer with each id replaced by its name, by where it stands."""
    text = text.replace("$", "$$")
    for name, value in names.items():
        if not value.isdigit():
            text = text.replace(value, f"${{{name}}}")
    for pattern, candidates in _ID_PLACES:
        by_value = {names[name]: name for name in candidates}

        def named(match, by_value=by_value):
            whole, value = match.group(0), match.group(1)
            if value not in by_value:
                raise AssertionError(f"an id that has no name: {whole}")
            start, end = match.span(1)
            offset = match.start(0)
            return whole[: start - offset] + f"${{{by_value[value]}}}" + whole[end - offset :]

        text = re.sub(pattern, named, text)
    return text


READS = {
    "case_agent_en": ("agent", "/api/v1/cases/{number}", "en"),
    "case_customer_en": ("customer", "/api/v1/cases/{number}", "en"),
    "case_agent_zh": ("agent", "/api/v1/cases/{number}", "zh-hans"),
    "case_customer_zh": ("customer", "/api/v1/cases/{number}", "zh-hans"),
    "open_case_agent_en": ("agent", "/api/v1/cases/{second}", "en"),
    "open_case_customer_zh": ("customer", "/api/v1/cases/{second}", "zh-hans"),
    "queue_agent_en": ("agent", "/api/v1/cases?limit=50", "en"),
    "queue_agent_zh": ("agent", "/api/v1/cases?shop=shop&state=awaiting_seller", "zh-hans"),
    "queue_customer_en": ("customer", "/api/v1/cases", "en"),
}


@pytest.mark.parametrize("name", sorted(READS))
def test_the_answer_is_the_stored_one_byte_for_byte(seeded, customer, agent, name):
    # given a seeded case and the stored answer
    reader, path, language = READS[name]
    api = {"agent": agent, "customer": customer}[reader]
    names = _names(seeded)
    # when it is read
    answer = api.client.get(
        path.format(number=seeded["number"], second=seeded["second"]), HTTP_ACCEPT_LANGUAGE=language
    )
    # then it is the stored text, ids aside
    assert answer.status_code == 200, answer.content
    text = answer.content.decode()
    # PostgreSQL's jsonb keeps an event's data keys in its own order (shorter keys first), SQLite
    # as written: each stores its own texts
    stored = PINNED / connection.vendor / f"{name}.json"
    if REWRITE:
        stored.parent.mkdir(parents=True, exist_ok=True)
        stored.write_text(_as_template(text, names) + "\n", encoding="utf-8")
    expected = Template(stored.read_text(encoding="utf-8").removesuffix("\n")).substitute(names)
    assert text == expected


def test_the_answers_encoder_writes_what_ninjas_writes():
    import json
    import zoneinfo

    from ninja.responses import NinjaJSONEncoder

    from config.api import AnswerEncoder

    # given amounts and times of every form an answer holds, and kinds it hands on
    shanghai = zoneinfo.ZoneInfo("Asia/Shanghai")
    values = [
        Decimal("160.00"),
        Decimal("-0.00"),
        Decimal("1E+2"),
        Decimal("0.1000"),
        dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 11, 24, 2, 0, 0, 123456, tzinfo=dt.UTC),
        dt.datetime(2026, 11, 24, 10, 0, 0, 5, tzinfo=shanghai),
        dt.datetime(2026, 11, 24, 2, 0),
        dt.date(2026, 11, 24),
        dt.time(10, 30, 0, 250000),
        dt.timedelta(hours=25, seconds=3),
        {"nested": [Decimal("5.00"), dt.datetime(2026, 1, 1, tzinfo=dt.UTC)]},
    ]
    # when both encode them, then the text is the same
    assert json.dumps(values, cls=AnswerEncoder) == json.dumps(values, cls=NinjaJSONEncoder)
