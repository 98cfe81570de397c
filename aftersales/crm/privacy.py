"""A customer's personal data on request (PIPL): exported whole, or erased without breaking the
ledger; each export and erasure is logged (``DataAccessLog``).

Erasure replaces what identifies the person (name, phone, e-mail, the platform's buyer id,
birthday, and the free text they wrote or that was written about them) with placeholders, and
keeps every order, case, refund entry, compensation and amount: the refund ledger and the shop's
accounts stay whole. Invoices keep their titles (tax records the shop must keep). A customer
with an open case or complaint is refused (409): their request is still being handled.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from aftersales.cases.choices import FINAL_STATES
from aftersales.cases.models import Case, Compensation, RefundEntry
from aftersales.catalog.models import Customer
from aftersales.complaints.choices import FINAL_STATES as COMPLAINT_FINAL_STATES
from aftersales.complaints.models import Complaint
from aftersales.conversations.models import Direction, Message
from aftersales.core import clock
from aftersales.core.actors import Principal, Role
from aftersales.core.errors import Conflict
from aftersales.core.models import Event
from aftersales.crm.access import ERASE, EXPORT, customer_for
from aftersales.crm.models import (
    CustomerPreference,
    CustomerProfile,
    DataAccessKind,
    DataAccessLog,
    RetentionItem,
)
from aftersales.crm.profiles import customer_profile
from aftersales.feedback.models import Rating, Survey
from aftersales.team.models import ContactLog, Note

ERASED_NAME = "[erased]"
ERASED_TEXT = "[erased]"


def _log(actor: Principal, customer: Customer, kind: str, what: dict) -> None:
    DataAccessLog.objects.create(
        shop_id=customer.shop_id,
        customer_id=customer.pk,
        kind=kind,
        actor_id=actor.user_id,
        actor_name=actor.username,
        what=what,
        at=clock.now(),
    )


def _subjects(customer: Customer) -> Q:
    case_ids = list(Case.objects.filter(customer=customer).values_list("id", flat=True))
    complaint_ids = list(Complaint.objects.filter(customer=customer).values_list("id", flat=True))
    return Q(subject_type=ContentType.objects.get_for_model(Case), subject_id__in=case_ids) | Q(
        subject_type=ContentType.objects.get_for_model(Complaint), subject_id__in=complaint_ids
    )


def _timelines(customer: Customer) -> Q:
    """The timelines of everything the customer is the subject of: cases, complaints, surveys,
    retention items."""
    surveys = list(Survey.objects.filter(customer=customer).values_list("id", flat=True))
    items = list(RetentionItem.objects.filter(customer=customer).values_list("id", flat=True))
    return (
        _subjects(customer)
        | Q(subject_type=ContentType.objects.get_for_model(Survey), subject_id__in=surveys)
        | Q(subject_type=ContentType.objects.get_for_model(RetentionItem), subject_id__in=items)
    )


@transaction.atomic
def customer_export(*, actor: Principal, customer_id: int) -> dict:
    """Everything the product holds about the customer, unmasked, as one document; logged."""
    customer = customer_for(actor=actor, customer_id=customer_id, action=EXPORT)
    profile = customer_profile(actor=actor, customer_id=customer_id)
    profile.update(phone=customer.phone, email=customer.email, masked=False)
    messages = Message.objects.filter(_subjects(customer)).order_by("id")
    document = {
        **profile,
        "language": customer.language,
        "messages": [
            {
                "direction": m.direction,
                "author": m.author_name,
                "text": m.text,
                "at": m.created_at.isoformat(),
            }
            for m in messages
        ],
        "refunds": [
            {
                "case": entry.case.number,
                "order_line": entry.order_line_id,
                "amount": str(entry.amount),
                "at": entry.created_at.isoformat(),
            }
            for entry in RefundEntry.objects.filter(case__customer=customer)
            .select_related("case")
            .order_by("id")
        ],
        "compensations": [
            {"kind": c.kind, "amount": str(c.amount), "at": c.created_at.isoformat()}
            for c in Compensation.objects.filter(customer=customer).order_by("id")
        ],
    }
    _log(actor, customer, DataAccessKind.EXPORT, {"sections": sorted(document)})
    return document


@transaction.atomic
def customer_erase(*, actor: Principal, customer_id: int) -> Customer:
    """Erase the customer's personal data (irreversible). Refused while a case or complaint of
    theirs is open."""
    customer = customer_for(actor=actor, customer_id=customer_id, action=ERASE)
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    open_cases = Case.objects.filter(customer=customer).exclude(state__in=FINAL_STATES)
    open_complaints = Complaint.objects.filter(customer=customer).exclude(
        state__in=COMPLAINT_FINAL_STATES
    )
    if open_cases.exists() or open_complaints.exists():
        raise Conflict(
            _(
                "This customer still has open cases or complaints: finish them before erasing "
                "the customer's data."
            ),
            code="customer_has_open_cases",
        )
    now = clock.now()
    subjects = _subjects(customer)
    counts = {
        "messages": Message.objects.filter(subjects, direction=Direction.IN).update(
            text=ERASED_TEXT
        ),
        "contact_log": ContactLog.objects.filter(subjects).update(summary=ERASED_TEXT),
        "notes": Note.objects.filter(subjects).update(text=ERASED_TEXT),
        "cases": Case.objects.filter(customer=customer).update(description=ERASED_TEXT),
        "complaints": Complaint.objects.filter(customer=customer).update(
            description=ERASED_TEXT, answer_note=""
        ),
        "ratings": Rating.objects.filter(case__customer=customer).update(comment=""),
        "surveys": Survey.objects.filter(customer=customer).update(comment=""),
        "retention": RetentionItem.objects.filter(customer=customer).update(note=""),
        # The customer's own name where the timelines and the conversations say who acted or
        # wrote (their portal account's, or their name on a survey's link).
        "timeline_names": Event.objects.filter(_timelines(customer), role=Role.CUSTOMER).update(
            actor_name=ERASED_NAME
        ),
        "message_authors": Message.objects.filter(subjects, direction=Direction.IN).update(
            author_name=ERASED_NAME
        ),
    }
    # The customer's portal accounts keep no name or address either (they can no longer sign in).
    get_user_model().objects.filter(membership__customer=customer).update(
        first_name="", last_name="", email="", is_active=False
    )
    customer.name = ERASED_NAME
    customer.phone = ""
    customer.email = ""
    customer.external_id = f"erased-{customer.pk}"
    customer.save(update_fields=["name", "phone", "email", "external_id", "updated_at"])
    profile, _created = CustomerProfile.objects.get_or_create(
        customer=customer, defaults={"shop_id": customer.shop_id}
    )
    profile.birthday = None
    profile.erased_at = now
    profile.save(update_fields=["birthday", "erased_at"])
    # No care message ever again to someone who asked to be forgotten.
    CustomerPreference.objects.update_or_create(
        customer=customer,
        defaults={
            "shop_id": customer.shop_id,
            "email_opt_out": True,
            "sms_opt_out": True,
            "care_opt_out": True,
            "updated_at": now,
            "updated_by_id": actor.user_id,
        },
    )
    _log(actor, customer, DataAccessKind.ERASURE, counts)
    return customer
