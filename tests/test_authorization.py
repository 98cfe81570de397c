"""Every endpoint × every role × objects of another shop or customer → 403/404, never data; and
revoked or malformed tokens → 401 everywhere. A new endpoint fails here until the matrix has it."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django_tasks_db.models import DBTaskResult
from PIL import Image

from aftersales.cases.lifecycle import USER_ACTIONS
from aftersales.cases.models import Case
from aftersales.cases.queue import saved_view_create
from aftersales.catalog.models import ServiceCenter
from aftersales.complaints.lifecycle import PERSON_ACTIONS as COMPLAINT_ACTIONS
from aftersales.connectors.base import Credentials
from aftersales.connectors.models import Store
from aftersales.connectors.sync import store_create
from aftersales.connectors.tasks import sync_store
from aftersales.conversations.services import message_post
from aftersales.core.actors import SYSTEM
from aftersales.core.models import Notice
from aftersales.crm.models import CareCampaign, MembershipTier, RetentionItem
from aftersales.disputes.models import Dispute, Juror
from aftersales.feedback.models import Survey, SurveyRound
from aftersales.inspections.models import Inspection
from aftersales.insurance.models import AbuseFlag, Cover
from aftersales.notify.models import Delivery, WebhookEndpoint
from aftersales.policy.services import policy_update
from aftersales.reviews.models import Review
from aftersales.routing.models import Team
from aftersales.team.services import token_revoke
from aftersales.violations.models import Penalty, Violation
from tests.conftest import NOW, make_order, make_shop, make_user, open_case

User = get_user_model()
SECRET = "外店机密"  # appears in every foreign object; must never appear in an answer


@pytest.fixture
def world(db, clock):
    make_shop("shop")
    other = make_shop("other")
    ServiceCenter.objects.create(shop=other, name=f"SC-{SECRET}", address=SECRET)
    mine = make_order(shop="shop", external_id="MINE", customer="C1")
    neighbour = make_order(shop="shop", external_id=f"NEIGHBOUR-{SECRET}", customer="C2")
    foreign = make_order(
        shop="other",
        external_id=f"FOREIGN-{SECRET}",
        customer=f"X-{SECRET}",
        lines=[("L1", f"SKU-{SECRET}", 2, Decimal("10.00"), Decimal("20.00"))],
    )
    roles = {
        "shop_admin": make_user("shopadmin", "admin", shop="shop"),
        "agent": make_user("agent", "agent", shop="shop"),
        "finance": make_user("finance", "finance", shop="shop"),
        "customer": make_user("buyer", "customer", shop="shop", customer="C1"),
    }
    outsider = make_user("outsider", "agent", shop="other")
    other_buyer = make_user("otherbuyer", "customer", shop="shop", customer="C2")
    foreign_case = open_case(outsider, foreign)["number"]
    neighbour_case = open_case(other_buyer, neighbour)["number"]
    foreign_evidence = send(outsider, "post", f"/cases/{foreign_case}/evidence", MULTIPART).json()
    neighbour_evidence = send(other_buyer, "post", f"/cases/{neighbour_case}/evidence", MULTIPART)
    # complaints about no order (an everyday dispute), so that only their owners may see them
    foreign_complaint = send(
        outsider,
        "post",
        "/complaints",
        {"type": "product", "description": SECRET, "customer": f"X-{SECRET}"},
    ).json()["number"]
    neighbour_complaint = send(
        other_buyer, "post", "/complaints", {"type": "attitude", "description": SECRET}
    ).json()["number"]
    webhooks = {
        target: webhook_with_a_dead_delivery(shop, case)
        for target, shop, case in [("foreign", other, foreign_case), ("neighbour", None, None)]
    }
    # a photo in each conversation (the neighbour's from the shop, so no notice rings a bell of
    # this shop), a notice of the other shop, and a saved view of its agent
    foreign_photo = message_with_photo(outsider, foreign_case)
    neighbour_photo = message_with_photo(roles["agent"], neighbour_case)
    foreign_notice = Notice.objects.filter(shop_id=other.id).values_list("id", flat=True).first()
    neighbour_notice = (
        Notice.objects.filter(case__number=neighbour_case).values_list("id", flat=True).first()
    )
    foreign_view = saved_view_create(actor=outsider.principal, name=SECRET, query={}).id
    marketplace = marketplace_objects(
        other, foreign, foreign_case, other_buyer, neighbour, neighbour_case
    )
    stores = {
        "foreign_store": store_of(other, SECRET),
        "neighbour_store": store_of(neighbour.shop, "neighbour"),
    }
    # the neighbour's dispute rings a bell of this shop (its own): read, so the bells are empty
    for api in roles.values():
        unread = api.get("/me/notices", unread="true").json()["items"]
        api.post("/me/notices/read", {"ids": [notice["id"] for notice in unread]})
    return {
        **marketplace,
        **stores,
        "roles": roles,
        "mine": mine,
        "foreign": foreign,
        "foreign_case": foreign_case,
        "neighbour": neighbour,
        "neighbour_case": neighbour_case,
        "foreign_evidence": foreign_evidence["id"],
        "neighbour_evidence": neighbour_evidence.json()["id"],
        "foreign_complaint": foreign_complaint,
        "neighbour_complaint": neighbour_complaint,
        **{f"{target}_webhook": ids for target, ids in webhooks.items()},
        "foreign_photo": foreign_photo,
        "neighbour_photo": neighbour_photo,
        "foreign_notice": foreign_notice,
        "neighbour_notice": neighbour_notice,
        "foreign_view": foreign_view,
        "neighbour_view": foreign_view,
        "foreign_survey": survey_of(foreign_case),
        "neighbour_survey": survey_of(neighbour_case),
        **crm_objects(foreign, neighbour),
    }


def crm_objects(foreign, neighbour) -> dict:
    """A membership tier and a team of agents of the other shop, and a retention item about each
    foreign customer."""
    tier = MembershipTier.objects.create(shop=foreign.shop, name=SECRET, rank=1)
    team = Team.objects.create(shop=foreign.shop, name=SECRET, created_at=NOW)
    care = CareCampaign.objects.create(
        shop=foreign.shop,
        kind="holiday",
        name=SECRET,
        subject=SECRET,
        body=SECRET,
        send_on=NOW.date(),
        created_at=NOW,
        updated_at=NOW,
    )
    items = {
        target: RetentionItem.objects.create(
            shop=order.shop,
            customer=order.customer,
            reasons=["complaint"],
            gesture="lead_call",
            note=SECRET,
            state="open",
            created_at=NOW,
        ).pk
        for target, order in (("foreign", foreign), ("neighbour", neighbour))
    }
    return {
        "foreign_team": team.name,
        "neighbour_team": team.name,
        "foreign_tier": tier.pk,
        "neighbour_tier": tier.pk,
        "foreign_care": care.pk,
        "neighbour_care": care.pk,
        "foreign_retention": items["foreign"],
        "neighbour_retention": items["neighbour"],
    }


def survey_of(number: str) -> int:
    """A satisfaction survey to call about the case (the neighbour's is its customer's)."""
    case = Case.objects.get(number=number)
    survey_round = SurveyRound.objects.get_or_create(
        shop_id=case.shop_id,
        month="2026-10",
        defaults={"sample_rate": 1, "cooldown_days": 0, "seed": 1, "created_at": NOW},
    )[0]
    return Survey.objects.create(
        round=survey_round,
        shop_id=case.shop_id,
        case=case,
        customer_id=case.customer_id,
        kind=case.kind,
        channel="phone",
        token_salt=number,
        token_hash=number,
        state="sent",
        created_at=NOW,
        deadline_at=NOW + dt.timedelta(days=30),
        deadline_action="expire",
    ).pk


def marketplace_objects(
    other, foreign, foreign_case, other_buyer, neighbour, neighbour_case
) -> dict:
    """The marketplace's objects of the other shop (a violation and the penalty it starts, a held
    review, a dispute, an insured order and an abuse flag of its buyer) and of the neighbour (a
    review, a dispute, an insured order): each names a shop, a customer or a text with SECRET."""
    operator = make_user("op", "platform_operator")
    foreign_buyer = make_user("foreignbuyer", "customer", shop="other", customer=f"X-{SECRET}")
    violation = operator.post(
        "/violations", {"shop": "other", "kind": "counterfeit", "reason": SECRET}
    ).json()
    # the neighbour's review is positive (shown at once), so no held review of this shop names it
    reviews = {
        "foreign": rated(foreign_buyer, foreign, "negative"),
        "neighbour": rated(other_buyer, neighbour, "positive"),
    }
    # both cases were let escalate by the seller, so their buyers may open a dispute at once
    Case.objects.filter(number__in=[foreign_case, neighbour_case]).update(escalated_at=NOW)
    policy_update(actor=SYSTEM, shop=other, changes={"jury": {"size": 3, "majority": 2}})
    disputes = {
        "foreign": disputed(foreign_buyer, foreign_case),
        "neighbour": disputed(other_buyer, neighbour_case),
    }
    sent_to_a_jury(operator, disputes["foreign"])
    inspections = {
        target: inspected(operator, case_number)
        for target, case_number in (("foreign", foreign_case), ("neighbour", neighbour_case))
    }
    policy_update(actor=SYSTEM, shop=other, changes={"insurance": {"offered": True}})
    policy_update(actor=SYSTEM, shop=neighbour.shop, changes={"insurance": {"offered": True}})
    for buyer, order in [(foreign_buyer, foreign), (other_buyer, neighbour)]:
        assert buyer.post(f"/insurance/orders/{order.id}/quote").status_code == 201
        assert buyer.post(f"/insurance/orders/{order.id}/insure").status_code == 200
    policy_update(actor=SYSTEM, shop=other, changes={"insurance": {"abuse_returns": 1}})
    assert operator.post("/insurance/flags/scan?shop=other").json() == {"flags": 1}
    flag = AbuseFlag.objects.get(shop=other).pk
    return {
        "foreign_violation": violation["number"],
        "foreign_penalty": violation["penalties"][0],
        **{f"{target}_review": number for target, number in reviews.items()},
        **{f"{target}_dispute": number for target, number in disputes.items()},
        **{f"{target}_inspection": number for target, number in inspections.items()},
        "foreign_flag": flag,
        "neighbour_flag": flag,  # flags are the platform's: no customer reads one
    }


def store_of(shop, seller_id) -> int:
    """A marketplace store of ``shop`` whose name and keys hold SECRET."""
    store = store_create(
        shop=shop,
        platform="douyin",
        name=f"抖店-{SECRET}",
        credentials=Credentials(SECRET, SECRET, SECRET, seller_id=seller_id),
    )
    return store.pk


def sent_to_a_jury(operator, number):
    """The dispute before a jury of three customers of a third shop (none of the matrix's roles:
    their accounts are too new to sit), its evidence window over."""
    make_shop("jurors")
    for juror in ("J1", "J2", "J3"):
        make_order(shop="jurors", external_id=f"O{juror}", customer=juror)
        make_user(juror.lower(), "customer", shop="jurors", customer=juror)
    User.objects.filter(username__in=["j1", "j2", "j3"]).update(
        date_joined=NOW - dt.timedelta(days=100)
    )
    Dispute.objects.filter(number=number).update(state="deciding", deadline_at=None)
    response = operator.post(f"/disputes/{number}/actions/send_to_jury", {})
    assert response.status_code == 200, response.content
    assert Juror.objects.filter(draw__dispute__number=number).count() == 3


def inspected(operator, case_number) -> str:
    """The case's goods sent to the platform's inspection center (the reason names SECRET)."""
    response = operator.post("/inspections", {"case_number": case_number, "reason": SECRET})
    assert response.status_code == 201, response.content
    return response.json()["number"]


def rated(buyer, order, rating) -> str:
    response = buyer.post("/reviews", {"order_id": order.id, "rating": rating, "text": SECRET})
    assert response.status_code == 201, response.content
    return response.json()["number"]


def disputed(buyer, case_number) -> str:
    body = {
        "case_number": case_number,
        "kind": "refund",
        "dispute_class": "product",
        "statement": SECRET,
    }
    response = buyer.post("/disputes", body)
    assert response.status_code == 201, response.content
    return response.json()["number"]


def webhook_with_a_dead_delivery(shop, case_number) -> tuple[int, int]:
    """A webhook endpoint of ``shop`` (the "shop" when None) and a dead delivery of a notice about
    ``case_number`` (the neighbour's case when None) to it."""
    from aftersales.catalog.models import Shop

    shop = shop or Shop.objects.get(code="shop")
    notice = Notice.objects.filter(shop_id=shop.pk).order_by("id").first()
    endpoint = WebhookEndpoint.objects.create(
        shop=shop, url=f"https://example.com/{SECRET}", secret=SECRET, created_at=notice.created_at
    )
    delivery = Delivery.objects.create(
        notice=notice,
        shop_id=shop.pk,
        channel="webhook",
        endpoint=endpoint,
        status="dead",
        attempts=8,
        last_error=SECRET,
        next_attempt_at=notice.created_at,
        created_at=notice.created_at,
    )
    return endpoint.pk, delivery.pk


def message_with_photo(api, number) -> int:
    message = message_post(
        actor=api.principal, subject_type="case", number=number, text=SECRET, photos=[png_file()]
    )
    return message.photos.get().id


def png_file() -> SimpleUploadedFile:
    png = io.BytesIO()
    Image.new("RGB", (4, 4)).save(png, "PNG")
    return SimpleUploadedFile("x.png", png.getvalue(), content_type="image/png")


def case_body(order):
    return {
        "order_id": order.id,
        "kind": "refund_only",
        "reason": "missing_item",
        "lines": [{"order_line_id": order.lines.get().id, "quantity": 1}],
    }


def order_body(shop):
    return {
        "shop": shop,
        "external_id": "NEW",
        "customer": {"external_id": "N"},
        "lines": [
            {
                "external_id": "1",
                "sku": "S",
                "title": "t",
                "quantity": 1,
                "unit_price": "1",
                "paid_amount": "1",
            }
        ],
    }


# (openapi path, method) → how to aim it at foreign objects: (path, body or query)
def requests_for(world, target):
    order, case = world[target], world[f"{target}_case"]
    complaint = world[f"{target}_complaint"]
    endpoint, delivery = world[f"{target}_webhook"]
    shop = "other" if target == "foreign" else "shop"
    return {
        ("/api/v1/shops/{code}/webhooks", "get"): (f"/shops/{shop}/webhooks", None),
        ("/api/v1/shops/{code}/webhooks", "post"): (
            f"/shops/{shop}/webhooks",
            {"url": "https://example.com/hook"},
        ),
        ("/api/v1/shops/{code}/webhooks/{endpoint_id}", "delete"): (
            f"/shops/{shop}/webhooks/{endpoint}",
            None,
        ),
        ("/api/v1/webhook-deliveries/{delivery_id}/replay", "post"): (
            f"/webhook-deliveries/{delivery}/replay",
            None,
        ),
        ("/api/v1/shops", "post"): ("/shops", {"code": "mine", "name": "n"}),
        ("/api/v1/shops/{code}", "get"): (f"/shops/{shop}", None),
        ("/api/v1/shops/{code}/policy", "get"): (f"/shops/{shop}/policy", None),
        ("/api/v1/shops/{code}/policy", "put"): (f"/shops/{shop}/policy", {"no_reason_days": 10}),
        ("/api/v1/shops/{code}/service-centers", "get"): (f"/shops/{shop}/service-centers", None),
        ("/api/v1/shops/{code}/team", "get"): (f"/shops/{shop}/team", None),
        ("/api/v1/shops/{code}/team/{username}", "put"): (
            f"/shops/{shop}/team/agent",
            {"role": "agent"},
        ),
        ("/api/v1/shops/{code}/team/{username}", "delete"): (f"/shops/{shop}/team/agent", None),
        ("/api/v1/shops/{code}/audit", "get"): (f"/shops/{shop}/audit", None),
        ("/api/v1/shops/{code}/service-centers", "post"): (
            f"/shops/{shop}/service-centers",
            {"name": "n", "address": "a"},
        ),
        ("/api/v1/orders", "post"): ("/orders", order_body(shop)),
        ("/api/v1/orders", "get"): ("/orders", {"shop": shop, "external_id": order.external_id}),
        ("/api/v1/orders/{order_id}", "get"): (f"/orders/{order.id}", None),
        ("/api/v1/cases", "post"): ("/cases", case_body(order)),
        ("/api/v1/cases", "get"): ("/cases", {"order": order.id}),
        ("/api/v1/cases/{number}", "get"): (f"/cases/{case}", None),
        ("/api/v1/cases/{number}/label.pdf", "get"): (f"/cases/{case}/label.pdf", None),
        ("/api/v1/cases/lookup", "get"): (f"/cases/lookup?code={case}", None),
        ("/api/v1/cases/{number}/compensations", "post"): (
            f"/cases/{case}/compensations",
            {"reason": "goodwill", "kind": "coupon", "amount": "5.00"},
        ),
        ("/api/v1/cases/{number}/evidence", "post"): (f"/cases/{case}/evidence", MULTIPART),
        ("/api/v1/cases/{number}/evidence/{evidence_id}", "get"): (
            f"/cases/{case}/evidence/{world[f'{target}_evidence']}",
            None,
        ),
        ("/api/v1/skus/{code}", "get"): (f"/skus/{order.lines.get().sku.code}?shop={shop}", None),
        ("/api/v1/skus/{code}/stock", "put"): (
            f"/skus/{order.lines.get().sku.code}/stock",
            {"stock": 1, "shop": shop},
        ),
        ("/api/v1/invoices", "get"): ("/invoices", {"order": order.id}),
        ("/api/v1/invoices/export.csv", "get"): ("/invoices/export.csv", {"order": order.id}),
        ("/api/v1/shops/{code}/routing", "get"): (f"/shops/{shop}/routing", None),
        ("/api/v1/shops/{code}/routing", "put"): (f"/shops/{shop}/routing", {"auto_assign": True}),
        ("/api/v1/shops/{code}/agents", "get"): (f"/shops/{shop}/agents", None),
        ("/api/v1/shops/{code}/agents/{username}", "put"): (
            f"/shops/{shop}/agents/agent",
            {"capacity": 1},
        ),
        ("/api/v1/shops/{code}/teams", "get"): (f"/shops/{shop}/teams", None),
        ("/api/v1/shops/{code}/teams", "post"): (f"/shops/{shop}/teams", {"name": "x"}),
        ("/api/v1/shops/{code}/teams/{name}", "patch"): (
            f"/shops/{shop}/teams/{world[f'{target}_team']}",
            {"name": "x"},
        ),
        ("/api/v1/shops/{code}/teams/{name}", "delete"): (
            f"/shops/{shop}/teams/{world[f'{target}_team']}",
            None,
        ),
        ("/api/v1/me/duty", "put"): ("/me/duty", {"on_duty": False, "shops": [shop]}),
        ("/api/v1/cases/{number}/claim", "post"): (f"/cases/{case}/claim", None),
        ("/api/v1/cases/{number}/assignee", "put"): (f"/cases/{case}/assignee", {"assignee": None}),
        ("/api/v1/cases/{number}/priority", "put"): (
            f"/cases/{case}/priority",
            {"priority": "urgent"},
        ),
        ("/api/v1/cases/{number}/flag", "put"): (f"/cases/{case}/flag", {"flag": "red"}),
        ("/api/v1/complaints/{number}/claim", "post"): (f"/complaints/{complaint}/claim", None),
        **{
            (f"/api/v1/cases/{{number}}/actions/{action}", "post"): (
                f"/cases/{case}/actions/{action}",
                ACTION_BODIES.get(action, {}),
            )
            for action in USER_ACTIONS
        },
        ("/api/v1/cases/{number}/playbook", "get"): (f"/cases/{case}/playbook", None),
        ("/api/v1/cases/{number}/playbook/steps/{key}", "post"): (
            f"/cases/{case}/playbook/steps/photos",
            {"done": True},
        ),
        ("/api/v1/shops/{code}/playbooks", "get"): (f"/shops/{shop}/playbooks", None),
        ("/api/v1/shops/{code}/playbooks", "put"): (f"/shops/{shop}/playbooks", PLAYBOOK_BODY),
        ("/api/v1/playbooks/report", "get"): (f"/playbooks/report?shop={shop}", None),
        ("/api/v1/complaints", "post"): (
            "/complaints",
            {"order_id": order.id, "type": "not_as_described", "description": "x"},
        ),
        ("/api/v1/complaints", "get"): ("/complaints", {"shop": shop}),
        ("/api/v1/complaints/{number}", "get"): (f"/complaints/{complaint}", None),
        ("/api/v1/shops/{code}/business-hours", "get"): (f"/shops/{shop}/business-hours", None),
        ("/api/v1/shops/{code}/business-hours", "put"): (
            f"/shops/{shop}/business-hours",
            {"windows": {"mon": [["09:00", "18:00"]]}},
        ),
        ("/api/v1/shops/{code}/sla-targets", "get"): (f"/shops/{shop}/sla-targets", None),
        ("/api/v1/shops/{code}/sla-targets", "put"): (
            f"/shops/{shop}/sla-targets",
            {"preset": "generic"},
        ),
        ("/api/v1/sla/report", "get"): (
            f"/sla/report?shop={shop}&from=2026-11-01&to=2026-11-30",
            None,
        ),
        ("/api/v1/insights/kpis", "get"): (
            f"/insights/kpis?shop={shop}&since=2026-11-01&until=2026-11-30",
            None,
        ),
        ("/api/v1/insights/products", "get"): (
            f"/insights/products?shop={shop}&since=2026-11-01&until=2026-11-30",
            None,
        ),
        ("/api/v1/insights/kpis/cases", "get"): (
            f"/insights/kpis/cases?measure=opened&shop={shop}&since=2026-11-01&until=2026-11-30",
            None,
        ),
        ("/api/v1/insights/cases.csv", "get"): (
            f"/insights/cases.csv?shop={shop}&since=2026-11-01&until=2026-11-30",
            None,
        ),
        ("/api/v1/insights/cases.xlsx", "get"): (
            f"/insights/cases.xlsx?shop={shop}&since=2026-11-01&until=2026-11-30",
            None,
        ),
        ("/api/v1/cases/{number}/messages", "get"): (f"/cases/{case}/messages", None),
        ("/api/v1/cases/{number}/messages", "post"): (f"/cases/{case}/messages", MULTIPART),
        ("/api/v1/cases/{number}/contacts", "post"): (
            f"/cases/{case}/contacts",
            {"channel": "call", "summary": "回访", "minutes": 5},
        ),
        ("/api/v1/cases/{number}/messages/read", "post"): (f"/cases/{case}/messages/read", {}),
        ("/api/v1/complaints/{number}/messages", "get"): (
            f"/complaints/{complaint}/messages",
            None,
        ),
        ("/api/v1/complaints/{number}/messages", "post"): (
            f"/complaints/{complaint}/messages",
            MULTIPART,
        ),
        ("/api/v1/complaints/{number}/messages/read", "post"): (
            f"/complaints/{complaint}/messages/read",
            {},
        ),
        ("/api/v1/messages/photos/{photo_id}", "get"): (
            f"/messages/photos/{world[f'{target}_photo']}",
            None,
        ),
        ("/api/v1/me/notices", "get"): ("/me/notices", {"unread": "true"}),
        ("/api/v1/me/notices/read", "post"): (
            "/me/notices/read",
            {"ids": [world[f"{target}_notice"]]},
        ),
        ("/api/v1/me/views", "get"): ("/me/views", {}),
        ("/api/v1/me/views", "post"): ("/me/views", {"name": "x", "query": {"shop": shop}}),
        ("/api/v1/me/views/{view_id}", "delete"): (f"/me/views/{world[f'{target}_view']}", None),
        ("/api/v1/cases/export.csv", "get"): ("/cases/export.csv", {"q": case}),
        **{
            (f"/api/v1/complaints/{{number}}/actions/{action}", "post"): (
                f"/complaints/{complaint}/actions/{action}",
                COMPLAINT_BODIES.get(action, {}),
            )
            for action in COMPLAINT_ACTIONS
        },
        **marketplace_requests(world, target),
        **store_requests(world, target),
    }


def store_requests(world, target):
    """The marketplace stores' endpoints (a store of the other shop, or of this one)."""
    shop = "other" if target == "foreign" else "shop"
    store = f"/stores/{world[f'{target}_store']}"
    keys = {"app_key": "k", "app_secret": "s", "access_token": "t"}
    return {
        ("/api/v1/shops/{code}/stores", "get"): (f"/shops/{shop}/stores", None),
        ("/api/v1/shops/{code}/stores", "post"): (
            f"/shops/{shop}/stores",
            {"platform": "jd", "name": "n", "seller_id": "new", **keys},
        ),
        ("/api/v1/stores/{store_id}", "get"): (store, None),
        ("/api/v1/stores/{store_id}", "patch"): (store, {"name": "n", "write_enabled": True}),
        ("/api/v1/stores/{store_id}", "delete"): (store, None),
        ("/api/v1/stores/{store_id}/test", "post"): (f"{store}/test", None),
        ("/api/v1/stores/{store_id}/pause", "post"): (f"{store}/pause", None),
        ("/api/v1/stores/{store_id}/resume", "post"): (f"{store}/resume", None),
        ("/api/v1/stores/{store_id}/sync", "post"): (f"{store}/sync", None),
        ("/api/v1/stores/{store_id}/keys", "put"): (f"{store}/keys", keys),
    }


def marketplace_requests(world, target):
    """The violations', the insurance's, the reviews' and the disputes' endpoints."""
    order, case = world[target], world[f"{target}_case"]
    shop = "other" if target == "foreign" else "shop"
    # violations and penalties are the shop's: the neighbour's are the other shop's as well
    violation, penalty = world["foreign_violation"], world["foreign_penalty"]
    review, dispute, flag = (world[f"{target}_{name}"] for name in ("review", "dispute", "flag"))
    inspection = world[f"{target}_inspection"]
    cover = f"/insurance/orders/{order.id}"
    return {
        ("/api/v1/violations", "post"): (
            "/violations",
            {"shop": shop, "kind": "late_shipment", "reason": "x"},
        ),
        ("/api/v1/violations", "get"): ("/violations", {"shop": shop}),
        ("/api/v1/violations/{number}", "get"): (f"/violations/{violation}", None),
        **{
            (f"/api/v1/violations/{{number}}/actions/{action}", "post"): (
                f"/violations/{violation}/actions/{action}",
                body,
            )
            for action, body in APPEAL_BODIES.items()
        },
        ("/api/v1/penalties", "get"): ("/penalties", {"shop": shop}),
        ("/api/v1/penalties/{number}", "get"): (f"/penalties/{penalty}", None),
        **{
            (f"/api/v1/penalties/{{number}}/actions/{action}", "post"): (
                f"/penalties/{penalty}/actions/{action}",
                body,
            )
            for action, body in APPEAL_BODIES.items()
        },
        ("/api/v1/shops/{code}/standing", "get"): (f"/shops/{shop}/standing", None),
        ("/api/v1/shops/{code}/refund-rate", "get"): (f"/shops/{shop}/refund-rate", None),
        ("/api/v1/shops/{code}/survey-rounds", "post"): (
            f"/shops/{shop}/survey-rounds",
            {"month": "2026-10", "rate": 1, "cooldown_days": 0},
        ),
        ("/api/v1/shops/{code}/survey-rounds", "get"): (f"/shops/{shop}/survey-rounds", None),
        ("/api/v1/shops/{code}/survey-results", "get"): (f"/shops/{shop}/survey-results", None),
        ("/api/v1/surveys/{survey_id}/answer", "post"): (
            f"/surveys/{world[f'{target}_survey']}/answer",
            {"score": 5},
        ),
        **crm_requests(world, target, shop),
        ("/api/v1/insurance/orders/{order_id}/quote", "post"): (f"{cover}/quote", None),
        ("/api/v1/insurance/orders/{order_id}", "get"): (cover, None),
        ("/api/v1/insurance/orders/{order_id}/insure", "post"): (f"{cover}/insure", None),
        ("/api/v1/insurance/orders/{order_id}/claims", "post"): (
            f"{cover}/claims",
            {"case_number": case, "postage": "8.00", "sender_address": "x"},
        ),
        ("/api/v1/insurance/orders/{order_id}/claims/{case_number}/postage", "put"): (
            f"{cover}/claims/{case}/postage",
            {"actual_postage": "8.00"},
        ),
        # the abuse flags are the platform's: every shop role is refused the list itself
        ("/api/v1/insurance/flags", "get"): (f"/insurance/flags?shop={shop}", None),
        ("/api/v1/insurance/flags/scan", "post"): (f"/insurance/flags/scan?shop={shop}", None),
        ("/api/v1/insurance/flags/{flag_id}", "get"): (f"/insurance/flags/{flag}", None),
        ("/api/v1/insurance/flags/{flag_id}/clear", "post"): (
            f"/insurance/flags/{flag}/clear",
            {"reason": "x"},
        ),
        ("/api/v1/insurance/flags/{flag_id}/confirm", "post"): (
            f"/insurance/flags/{flag}/confirm",
            {"reason": "x"},
        ),
        ("/api/v1/reviews", "post"): (
            "/reviews",
            {"order_id": order.id, "rating": "positive", "text": "x"},
        ),
        ("/api/v1/reviews", "get"): ("/reviews", {"order_id": order.id}),
        ("/api/v1/reviews/summary", "get"): (f"/reviews/summary?shop={shop}", None),
        ("/api/v1/reviews/follow-up", "get"): ("/reviews/follow-up", {}),
        ("/api/v1/reviews/{number}", "get"): (f"/reviews/{review}", None),
        **{
            (f"/api/v1/reviews/{{number}}/actions/{action}", "post"): (
                f"/reviews/{review}/actions/{action}",
                body,
            )
            for action, body in REVIEW_BODIES.items()
        },
        ("/api/v1/disputes", "post"): (
            "/disputes",
            {"case_number": case, "kind": "refund", "dispute_class": "product", "statement": "x"},
        ),
        ("/api/v1/disputes", "get"): ("/disputes", {"shop": shop}),
        ("/api/v1/disputes/{number}", "get"): (f"/disputes/{dispute}", None),
        **{
            (f"/api/v1/disputes/{{number}}/actions/{action}", "post"): (
                f"/disputes/{dispute}/actions/{action}",
                body,
            )
            for action, body in DISPUTE_BODIES.items()
        },
        ("/api/v1/jury/disputes", "get"): ("/jury/disputes", {}),
        ("/api/v1/jury/disputes/{number}", "get"): (f"/jury/disputes/{dispute}", None),
        ("/api/v1/jury/disputes/{number}/vote", "post"): (
            f"/jury/disputes/{dispute}/vote",
            {"side": "buyer"},
        ),
        ("/api/v1/shops/{code}/service-score", "get"): (f"/shops/{shop}/service-score", None),
        ("/api/v1/shops/{code}/service-score", "put"): (
            f"/shops/{shop}/service-score",
            {"score": "1.00", "reason": "x"},
        ),
        ("/api/v1/inspections", "post"): ("/inspections", {"case_number": case, "reason": "x"}),
        ("/api/v1/inspections", "get"): ("/inspections", {"shop": shop}),
        ("/api/v1/inspections/{number}", "get"): (f"/inspections/{inspection}", None),
        **{
            (f"/api/v1/inspections/{{number}}/actions/{action}", "post"): (
                f"/inspections/{inspection}/actions/{action}",
                body,
            )
            for action, body in INSPECTION_BODIES.items()
        },
    }


def crm_requests(world, target, shop):
    """The customers' endpoints: profiles, preferences, export, erasure, tiers, retention."""
    customer = f"/customers/{world[target].customer_id}"
    tier, item = world[f"{target}_tier"], world[f"{target}_retention"]
    tier_body = {"name": "t", "rank": 2}
    care = f"/care-campaigns/{world[f'{target}_care']}"
    care_body = {
        "kind": "holiday",
        "name": "n",
        "subject": "s",
        "body": "b",
        "send_on": "2026-12-01",
    }
    return {
        ("/api/v1/customers/{customer_id}/profile", "get"): (f"{customer}/profile", None),
        ("/api/v1/customers/{customer_id}/preferences", "put"): (
            f"{customer}/preferences",
            {"sms_opt_out": True},
        ),
        ("/api/v1/customers/{customer_id}/classification", "get"): (
            f"{customer}/classification",
            None,
        ),
        ("/api/v1/customers/{customer_id}/export", "get"): (f"{customer}/export", None),
        ("/api/v1/customers/{customer_id}/erase", "post"): (f"{customer}/erase", None),
        ("/api/v1/shops/{code}/tiers", "get"): (f"/shops/{shop}/tiers", None),
        ("/api/v1/shops/{code}/tiers", "post"): (f"/shops/{shop}/tiers", tier_body),
        ("/api/v1/shops/{code}/tiers/{tier_id}", "put"): (
            f"/shops/{shop}/tiers/{tier}",
            tier_body,
        ),
        ("/api/v1/shops/{code}/tiers/{tier_id}", "delete"): (f"/shops/{shop}/tiers/{tier}", None),
        ("/api/v1/shops/{code}/retention", "get"): (f"/shops/{shop}/retention", None),
        ("/api/v1/retention/{item_id}/resolve", "post"): (
            f"/retention/{item}/resolve",
            {"outcome": "contacted"},
        ),
        ("/api/v1/shops/{code}/care-campaigns", "get"): (f"/shops/{shop}/care-campaigns", None),
        ("/api/v1/shops/{code}/care-campaigns", "post"): (
            f"/shops/{shop}/care-campaigns",
            care_body,
        ),
        ("/api/v1/care-campaigns/{campaign_id}", "patch"): (care, {"name": "x"}),
        ("/api/v1/care-campaigns/{campaign_id}", "delete"): (care, None),
        ("/api/v1/care-campaigns/{campaign_id}/sends", "get"): (f"{care}/sends", None),
    }


# A body each action would take (the matrix must be refused for who asks, never for the body).
ACTION_BODIES = {
    "reject": {"reason": "x"},
    "ship_return": {"carrier": "SF", "tracking_number": "SF1"},
    "refund": {"idempotency_key": "k"},
    "convert": {"kind": "exchange", "reason": "x"},
    "ship_replacement": {"carrier": "SF", "tracking_number": "SF2"},
    "offer": {"note": "x"},
    "diagnose": {"diagnosed_by": "shop", "fault_code": "F"},
    "ship_back": {"carrier": "SF", "tracking_number": "SF3"},
}
COMPLAINT_BODIES = {
    "acknowledge": {"channel": "call"},
    "analyse": {"root_cause": "x"},
    "decide": {"solution_kind": "coupon", "solution": "x"},
    "execute": {"outcome": "x"},
    "answer": {"answer": "satisfied"},
    "assign": {"owner": "agent"},
    "link": {"order_number": "MINE"},
}
APPEAL_BODIES = {"appeal": {"text": "x"}, "uphold": {"reason": "x"}, "withdraw": {"reason": "x"}}
REVIEW_BODIES = {
    "rate": {"rating": "positive", "text": "x"},
    "change": {"rating": "positive", "text": "x"},
    "delete": {},
    "contact": {"channel": "call", "note": "x"},
    "reply": {"reply": "x"},
}
DISPUTE_BODIES = {
    "add_evidence": {"kind": "text", "text": "x"},
    "withdraw": {"reason": "x"},
    "send_to_jury": {},
    "decide": {"outcome": "reject", "reason": "x"},
    "accept": {},
    "appeal": {"reason": "x"},
    "review": {"result": "upheld", "reason": "x"},
}
INSPECTION_BODIES = {
    "ship": {"carrier": "SF", "tracking_number": "SF4"},
    "receive": {"label": "x"},
    "verdict": {"verdict": "genuine", "report": "x"},
    "cancel": {"reason": "x"},
}
PLAYBOOK_BODY = {
    "key": "k",
    "title": {"en": "x"},
    "steps": [{"key": "a", "type": "check", "title": {"en": "x"}}],
}
PUBLIC = {("/api/v1/auth/token", "post")}
MULTIPART = {"__multipart__": True}


def send(api, method, url, body):
    """One request of the matrix, as its endpoint expects it."""
    if body is MULTIPART:
        upload = png_file()
        return api.client.post(f"/api/v1{url}", {"file": upload, "photos": png_file()})
    if method == "delete":
        return api.client.delete(f"/api/v1{url}")
    if method == "get":
        return api.get(url, **(body or {}))
    if method == "delete":
        return api.client.delete(f"/api/v1{url}")
    return getattr(api, method)(url, body)


# Lists a customer may not read at all (the shop's violation points, the shop's follow-up queue of
# held reviews): refused outright.
NOT_A_CUSTOMERS_LIST = {"/api/v1/violations", "/api/v1/penalties", "/api/v1/reviews/follow-up"}


def assert_lists_nothing(response, role, path):
    """A list aimed at foreign objects answers no rows (or, where the role reads no such list at
    all, a refusal)."""
    if role == "customer" and path in NOT_A_CUSTOMERS_LIST:
        assert response.status_code == 403, (role, path, response.status_code)
        assert set(response.json()) >= {"code", "detail"}
        return
    assert response.status_code == 200, (role, path, response.status_code)
    assert listed(response) == [], (role, path)


def listed(response) -> list:
    """The rows of a list's answer: its ``items``, or the list itself (the follow-up queue)."""
    body = response.json()
    return body if isinstance(body, list) else body["items"]


# What each role may legitimately do inside its own shop, where "neighbour" objects belong to the
# same shop: staff see them (it is their shop), a customer must not.
SAME_SHOP_STAFF_SEE = {"shop_admin", "agent", "finance"}


STATEFUL = (Case, Violation, Penalty, Review, Dispute, Cover, AbuseFlag, Inspection)


def states() -> dict:
    """The state of every case and marketplace object, every store, and the stores' queued
    syncs (the matrix must change none)."""
    return {
        **{model.__name__: sorted(model.objects.values_list("id", "state")) for model in STATEFUL},
        "Store": sorted(Store.objects.values_list(*STORE_FIELDS)),
        "syncs": DBTaskResult.objects.filter(task_path=sync_store.module_path).count(),
        "Team": sorted(Team.objects.values_list("id", "shop_id", "name")),
    }


STORE_FIELDS = ("id", "name", "sealed_keys", "paused", "write_enabled", "auto_refund_cap")


def openapi_operations(client) -> set[tuple[str, str]]:
    schema = client.get("/api/v1/openapi.json").json()
    return {(path, method) for path, methods in schema["paths"].items() for method in methods}


def test_the_matrix_covers_every_endpoint(world):
    covered = set(requests_for(world, "foreign")) | PUBLIC
    assert openapi_operations(Client()) == covered


@pytest.mark.parametrize("role", ["shop_admin", "agent", "finance", "customer"])
def test_foreign_objects_are_invisible_to_every_role(world, role):
    api = world["roles"][role]
    states_before = states()
    for (path, method), (url, body) in requests_for(world, "foreign").items():
        response = send(api, method, url, body)
        assert SECRET.encode() not in response.content, (role, method, path, response.content[:200])
        if url.endswith(".csv"):  # an export: answers with its header line only
            assert response.status_code == 200, (role, path)
            assert response.content.decode("utf-8-sig").strip().count("\n") == 0, (role, path)
        elif method == "get" and body is not None and body is not MULTIPART:  # a list
            assert_lists_nothing(response, role, path)
        else:
            assert response.status_code in (403, 404), (role, method, path, response.status_code)
            assert set(response.json()) >= {"code", "detail"}
    assert states() == states_before


def test_a_customer_cannot_reach_another_customer_of_the_same_shop(world):
    api = world["roles"]["customer"]
    states_before = states()
    for (path, method), (url, body) in requests_for(world, "neighbour").items():
        if path.startswith(("/api/v1/shops", "/api/v1/insurance/shops")):
            continue  # the shop itself is the customer's own shop
        response = send(api, method, url, body)
        assert SECRET.encode() not in response.content, (method, path, response.content[:200])
        if url.endswith(".csv"):
            assert response.content.decode("utf-8-sig").strip().count("\n") == 0
        elif method == "get" and body is not None and body is not MULTIPART:
            assert_lists_nothing(response, "customer", path)
        else:
            assert response.status_code in (403, 404), (method, path, response.status_code)
    assert states() == states_before


@pytest.mark.parametrize(
    "header", [None, "Bearer ", "Bearer as_nope", "Basic dXNlcjpwdw==", "bearer"]
)
def test_every_endpoint_wants_a_valid_token(world, header):
    client = Client(HTTP_AUTHORIZATION=header) if header is not None else Client()
    for (_path, method), (url, body) in requests_for(world, "foreign").items():
        if method == "get":
            response = client.get(f"/api/v1{url}", body or {})
        else:
            response = getattr(client, method)(
                f"/api/v1{url}", body or {}, content_type="application/json"
            )
        assert response.status_code == 401, (method, url)
        assert response.json()["code"] == "unauthenticated"


def test_a_revoked_token_is_refused_everywhere(world):
    api = world["roles"]["agent"]
    token_revoke(token=api.token)
    for (_path, method), (url, body) in requests_for(world, "foreign").items():
        response = send(api, method, url, body)
        assert response.status_code == 401, (method, url)
