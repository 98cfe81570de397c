"""A customer's profile: everything the shop's after-sales knows of them in one read (orders,
cases, complaints, the contact log, ratings and surveys, preferences, birthday, tier and class),
the customer list with its search, and the writes of preferences and birthday."""

from __future__ import annotations

import datetime as dt

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from aftersales.cases.choices import CaseKind, CaseState
from aftersales.cases.models import Case
from aftersales.catalog.models import Customer, CustomerLanguage, OrderStatus
from aftersales.complaints.choices import ComplaintState, ComplaintType
from aftersales.complaints.models import Complaint
from aftersales.core import clock
from aftersales.core.actors import Principal
from aftersales.core.errors import InvalidInput
from aftersales.crm.access import MANAGE, VIEW, contact_of, customer_for, customers_reachable
from aftersales.crm.models import (
    CustomerPreference,
    CustomerProfile,
    RetentionItem,
    RetentionReason,
    RetentionState,
    Segment,
)
from aftersales.feedback.models import Rating, Survey, SurveyStatus
from aftersales.team.models import ContactChannel, ContactLog

LIST_LIMIT = 100
BIRTHDAY_EARLIEST = dt.date(1900, 1, 1)


def _label(choices, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def preferences_of(customer: Customer) -> dict:
    preference = CustomerPreference.objects.filter(customer=customer).first()
    return {
        "email_opt_out": bool(preference and preference.email_opt_out),
        "sms_opt_out": bool(preference and preference.sms_opt_out),
        "care_opt_out": bool(preference and preference.care_opt_out),
        "language": customer.language,
    }


def classification_of(customer: Customer) -> dict:
    profile = CustomerProfile.objects.select_related("tier").filter(
        customer=customer
    ).first() or CustomerProfile(customer=customer, shop_id=customer.shop_id)
    return {
        "tier": profile.tier.name if profile.tier else None,
        "tier_benefits": profile.tier.benefits if profile.tier else "",
        "tier_until": profile.tier_until if profile.tier else None,
        "segment": profile.segment or None,
        "segment_label": _label(Segment, profile.segment) if profile.segment else "",
        "recency_days": profile.recency_days,
        "frequency": profile.frequency,
        "monetary": profile.monetary,
        "average_order_value": profile.average_order_value,
        "recency_score": profile.recency_score,
        "frequency_score": profile.frequency_score,
        "monetary_score": profile.monetary_score,
        "classified_at": profile.classified_at,
        "birthday": profile.birthday,
        "erased_at": profile.erased_at,
    }


def customer_profile(*, actor: Principal, customer_id: int) -> dict:
    """The customer ``customer_id`` of one of the caller's shops, whole (404 otherwise); phone
    and e-mail masked unless the caller may contact customers."""
    customer = customer_for(actor=actor, customer_id=customer_id, action=VIEW)
    cases = list(
        Case.objects.filter(customer=customer).select_related("order").order_by("-created_at")
    )
    complaints = list(Complaint.objects.filter(customer=customer).order_by("-created_at"))
    case_type = ContentType.objects.get_for_model(Case)
    complaint_type = ContentType.objects.get_for_model(Complaint)
    contacts = ContactLog.objects.filter(
        Q(subject_type=case_type, subject_id__in=[c.pk for c in cases])
        | Q(subject_type=complaint_type, subject_id__in=[c.pk for c in complaints])
    ).order_by("-created_at", "-id")
    case_numbers = {c.pk: c.number for c in cases}
    complaint_numbers = {c.pk: c.number for c in complaints}
    classification = classification_of(customer)
    return {
        "id": customer.pk,
        "shop": customer.shop.code,
        "shop_id": customer.shop_id,
        "shop_timezone": customer.shop.timezone,
        "external_id": customer.external_id,
        "name": customer.name,
        **contact_of(actor, customer),
        "birthday": classification.pop("birthday"),
        "erased_at": classification.pop("erased_at"),
        "preferences": preferences_of(customer),
        "classification": classification,
        "orders": [
            {
                "id": order.pk,
                "external_id": order.external_id,
                "status": order.status,
                "status_label": _label(OrderStatus, order.status),
                "paid_at": order.paid_at,
                "total_amount": order.total_amount,
            }
            for order in customer.orders.order_by("-paid_at", "-id")
        ],
        "cases": [
            {
                "number": case.number,
                "order": case.order.external_id,
                "kind": case.kind,
                "kind_label": _label(CaseKind, case.kind),
                "state": case.state,
                "state_label": _label(CaseState, case.state),
                "opened_at": case.created_at,
                "resolved_at": case.resolved_at,
                "refunded_amount": case.refunded_amount,
            }
            for case in cases
        ],
        "complaints": [
            {
                "number": complaint.number,
                "type": complaint.type,
                "type_label": _label(ComplaintType, complaint.type),
                "state": complaint.state,
                "state_label": _label(ComplaintState, complaint.state),
                "filed_at": complaint.created_at,
            }
            for complaint in complaints
        ],
        "contacts": [
            {
                "subject": case_numbers.get(row.subject_id)
                if row.subject_type_id == case_type.pk
                else complaint_numbers.get(row.subject_id),
                "channel": row.channel,
                "channel_label": _label(ContactChannel, row.channel),
                "summary": row.summary,
                "by": row.by_name,
                "at": row.created_at,
            }
            for row in contacts
        ],
        "ratings": [
            {
                "case": rating.case.number,
                "score": rating.score,
                "comment": rating.comment,
                "at": rating.created_at,
                "self_selected": True,
            }
            for rating in Rating.objects.filter(case__customer=customer)
            .select_related("case")
            .order_by("-created_at")
        ],
        "surveys": [
            {
                "case": survey.case.number,
                "score": survey.score,
                "comment": survey.comment,
                "at": survey.answered_at,
                "self_selected": False,
            }
            for survey in Survey.objects.filter(customer=customer, state=SurveyStatus.ANSWERED)
            .select_related("case")
            .order_by("-answered_at")
        ],
        "retention": [
            {
                "id": item.pk,
                "reasons": item.reasons,
                "reason_labels": [_label(RetentionReason, r) for r in item.reasons],
                "gesture": item.gesture,
                "state": item.state,
                "state_label": _label(RetentionState, item.state),
                "created_at": item.created_at,
            }
            for item in RetentionItem.objects.filter(customer=customer).order_by("-id")
        ],
    }


def customer_search(*, actor: Principal, query: str = "", shop_id: int | None = None) -> list:
    """The caller's customers matching ``query`` (a name, a platform id, or the last digits of
    a phone number), newest first, at most ``LIST_LIMIT``."""
    customers = customers_reachable(actor, VIEW).select_related("shop")
    if shop_id is not None:
        customers = customers.filter(shop_id=shop_id)
    query = query.strip()
    if query:
        match = Q(name__icontains=query) | Q(external_id__icontains=query)
        if query.isdigit() and len(query) >= 4:
            match |= Q(phone__endswith=query)
        customers = customers.filter(match)
    customers = list(customers.order_by("-id")[:LIST_LIMIT])
    profiles = {
        p.customer_id: p
        for p in CustomerProfile.objects.filter(customer__in=customers).select_related("tier")
    }
    rows = []
    for customer in customers:
        profile = profiles.get(customer.pk)
        rows.append(
            {
                "customer": customer,
                **contact_of(actor, customer),
                "tier": profile.tier.name if profile and profile.tier else "",
                "segment_label": _label(Segment, profile.segment)
                if profile and profile.segment
                else "",
            }
        )
    return rows


@transaction.atomic
def preferences_update(
    *,
    actor: Principal,
    customer_id: int,
    email_opt_out: bool | None = None,
    sms_opt_out: bool | None = None,
    care_opt_out: bool | None = None,
    language: str | None = None,
    birthday: dt.date | None = None,
    clear_birthday: bool = False,
) -> Customer:
    """Record what the customer asked for (only the fields given change). The language is the
    customer's own (``catalog.Customer.language``), which every notice to them is written in."""
    customer = customer_for(actor=actor, customer_id=customer_id, action=MANAGE)
    now = clock.now()
    preference, _created = CustomerPreference.objects.select_for_update().get_or_create(
        customer=customer, defaults={"shop_id": customer.shop_id, "updated_at": now}
    )
    changes = {"email_opt_out": email_opt_out, "sms_opt_out": sms_opt_out}
    changes["care_opt_out"] = care_opt_out
    for name, value in changes.items():
        if value is not None:
            setattr(preference, name, value)
    preference.updated_at = now
    preference.updated_by_id = actor.user_id
    preference.save()
    if language is not None:
        if language not in CustomerLanguage.values:
            raise InvalidInput(_("Unknown language."), code="invalid_language", field="language")
        if customer.language != language:
            customer.language = language
            customer.save(update_fields=["language", "updated_at"])
    if birthday is not None or clear_birthday:
        if birthday is not None and not (BIRTHDAY_EARLIEST <= birthday <= now.date()):
            raise InvalidInput(
                _("A birthday lies between 1900 and today."), code="invalid_birthday"
            )
        profile, _created = CustomerProfile.objects.get_or_create(
            customer=customer, defaults={"shop_id": customer.shop_id}
        )
        profile.birthday = None if clear_birthday else birthday
        profile.save(update_fields=["birthday"])
    return customer
