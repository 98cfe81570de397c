"""Care campaigns: the messages a shop sends its customers on an occasion — a birthday, a
holiday, after using what they bought, a reminder to buy again, new arrivals — through the
notices (e-mail, text message), with the customer's opt-outs honoured.

=============  =====================================================  =========================
kind           due                                                    occasion (once each)
=============  =====================================================  =========================
birthday       from ``days`` before the birthday to the day itself    ``birthday:<year>``
holiday        on ``send_on``, up to ``LATE_LIMIT`` late              ``holiday:<date>``
new_arrival    on ``send_on``, up to ``LATE_LIMIT`` late              ``new_arrival:<date>``
after_use      ``days`` after an order was signed for (up to late)    ``after_use:<order id>``
repurchase     ``days`` after the last paid order (up to late)        ``repurchase:<order id>``
=============  =====================================================  =========================

Days are the shop's days (its time zone). A ``CareSend`` per customer and occasion (unique)
makes a message go once, ever. The worker's ``care`` step (``care_due``) writes the notices;
the deliveries' filter (``care_withheld``, registered at the app's start) withholds the e-mail
or the text message of a care notice when the customer opted out of that channel, or of care.
"""

from __future__ import annotations

import datetime as dt
import re
import string
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import CharField, Exists, OuterRef, Q, Subquery, Value
from django.db.models.functions import Cast, Concat
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftersales.catalog.models import Customer, Order, OrderStatus, Shop
from aftersales.core import clock
from aftersales.core.actors import Principal
from aftersales.core.errors import InvalidInput, NotFound
from aftersales.core.models import Audience, Notice
from aftersales.core.notices import (
    NoticeKind,
    notice_build,
    notice_kinds,
    notices_save,
    register_composer,
)
from aftersales.core.permissions import require, shops_permitted
from aftersales.crm.models import (
    CareCampaign,
    CareKind,
    CareSend,
    CustomerPreference,
    CustomerProfile,
    MembershipTier,
    RetentionCursor,
    Segment,
)

MANAGE = "care.manage"
CURSOR = "care"
# The worker looks at most this often: the occasions are days, not minutes.
SWEEP_EVERY = dt.timedelta(minutes=15)
# A message more than this late (the worker was down) is not sent: a greeting a week after
# the holiday does more harm than none.
LATE_LIMIT = dt.timedelta(days=3)
BIRTHDAY_DAYS_MAX = 30
DAYS_MAX = 365
PLACEHOLDERS = ("name", "shop", "tier")
DATED = (CareKind.HOLIDAY, CareKind.NEW_ARRIVAL)
# The channels a delivery filter speaks of (notify's ``Channel`` values).
EMAIL, SMS = "email", "sms"

KIND_CODES = {kind: f"care_{kind}" for kind in CareKind.values}
notice_kinds(
    NoticeKind(
        KIND_CODES[CareKind.BIRTHDAY],
        Audience.CUSTOMER,
        gettext_lazy("Happy birthday from us"),
        gettext_lazy("A birthday greeting was sent to the customer"),
    ),
    NoticeKind(
        KIND_CODES[CareKind.HOLIDAY],
        Audience.CUSTOMER,
        gettext_lazy("Season's greetings from us"),
        gettext_lazy("A holiday greeting was sent to the customer"),
    ),
    NoticeKind(
        KIND_CODES[CareKind.AFTER_USE],
        Audience.CUSTOMER,
        gettext_lazy("How is your purchase working for you?"),
        gettext_lazy("After-use care was sent to the customer"),
    ),
    NoticeKind(
        KIND_CODES[CareKind.REPURCHASE],
        Audience.CUSTOMER,
        gettext_lazy("Time to stock up again?"),
        gettext_lazy("A repurchase reminder was sent to the customer"),
    ),
    NoticeKind(
        KIND_CODES[CareKind.NEW_ARRIVAL],
        Audience.CUSTOMER,
        gettext_lazy("New arrivals you may like"),
        gettext_lazy("News of new arrivals was sent to the customer"),
    ),
)
CARE_CODES = frozenset(KIND_CODES.values())


# --- the campaigns -------------------------------------------------------------------------


def _check_template(text: str, field: str, name_of_field: str) -> None:
    """Only ``{name}``, ``{shop}`` and ``{tier}``, without formats or attributes; ``{{`` and
    ``}}`` write a brace. ``field`` is the field's words, ``name_of_field`` its name (the
    error's ``field``, where the desk's form shows it)."""
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError:
        raise InvalidInput(
            _("The %(field)s has an unmatched brace.") % {"field": field},
            code="invalid_template",
            field=name_of_field,
        ) from None
    for _literal, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in PLACEHOLDERS or spec or conversion:
            raise InvalidInput(
                _("The %(field)s may use only {name}, {shop} and {tier}.") % {"field": field},
                code="invalid_template",
                field=name_of_field,
            )


def _check(shop: Shop, fields: dict) -> dict:
    name = fields["name"].strip()
    subject = fields["subject"].strip()
    body = fields["body"].strip()
    empty = next(
        (k for k, v in (("name", name), ("subject", subject), ("body", body)) if not v), ""
    )
    if empty:
        raise InvalidInput(
            _("Give the campaign a name, a subject and a message."), code="empty", field=empty
        )
    _check_template(subject, _("subject"), "subject")
    _check_template(body, _("message"), "body")
    kind = fields["kind"]
    if kind not in CareKind.values:
        raise InvalidInput(_("Unknown kind of care."), code="invalid_kind", field="kind")
    days, send_on = fields.get("days"), fields.get("send_on")
    if kind in DATED:
        if send_on is None:
            raise InvalidInput(
                _("Choose the day to send on."), code="send_on_required", field="send_on"
            )
        days = None
    else:
        send_on = None
        low, high = (0, BIRTHDAY_DAYS_MAX) if kind == CareKind.BIRTHDAY else (1, DAYS_MAX)
        if days is None or not low <= days <= high:
            raise InvalidInput(
                _("Choose a number of days from %(low)s to %(high)s.") % {"low": low, "high": high},
                code="invalid_days",
                field="days",
            )
    tier_ids = sorted(set(fields.get("tier_ids") or []))
    found = set(
        MembershipTier.objects.filter(shop=shop, pk__in=tier_ids).values_list("pk", flat=True)
    )
    if len(found) != len(tier_ids):
        raise InvalidInput(_("No such tier in this shop."), code="tier_not_found", field="tier_ids")
    segments = sorted(set(fields.get("segments") or []))
    if any(segment not in Segment.values for segment in segments):
        raise InvalidInput(_("Unknown customer class."), code="invalid_segment", field="segments")
    return {
        "kind": kind,
        "name": name[:100],
        "subject": subject[:200],
        "body": body,
        "tier_ids": tier_ids,
        "segments": segments,
        "days": days,
        "send_on": send_on,
        "is_active": bool(fields.get("is_active", True)),
    }


def campaigns_of(*, actor: Principal, shop: Shop) -> list[CareCampaign]:
    require(actor, MANAGE, shop)
    return list(CareCampaign.objects.filter(shop=shop).order_by("-is_active", "id"))


@transaction.atomic
def campaign_create(*, actor: Principal, shop: Shop, fields: dict) -> CareCampaign:
    require(actor, MANAGE, shop)
    now = clock.now()
    return CareCampaign.objects.create(
        shop=shop, created_at=now, updated_at=now, **_check(shop, fields)
    )


def campaign_for(*, actor: Principal, campaign_id: int, lock: bool = False) -> CareCampaign:
    """The campaign if it is of a shop where the caller manages care; any other is 404."""
    require(actor, MANAGE)
    shops = shops_permitted(actor, MANAGE)
    campaigns = CareCampaign.objects.select_related("shop")
    if lock:
        campaigns = campaigns.select_for_update(of=("self",))
    if shops is not None:
        campaigns = campaigns.filter(shop_id__in=shops)
    campaign = campaigns.filter(pk=campaign_id).first()
    if campaign is None:
        raise NotFound(_("No such care campaign."), code="care_campaign_not_found")
    return campaign


EDITABLE = ("name", "subject", "body", "tier_ids", "segments", "days", "send_on", "is_active")


@transaction.atomic
def campaign_update(*, actor: Principal, campaign_id: int, changes: dict) -> CareCampaign:
    """Change the given fields (the kind stays: the occasions already sent depend on it)."""
    campaign = campaign_for(actor=actor, campaign_id=campaign_id, lock=True)
    fields = {name: getattr(campaign, name) for name in EDITABLE}
    fields.update({k: v for k, v in changes.items() if k in EDITABLE})
    for name, value in _check(campaign.shop, {**fields, "kind": campaign.kind}).items():
        setattr(campaign, name, value)
    campaign.updated_at = clock.now()
    campaign.save()
    return campaign


@transaction.atomic
def campaign_delete(*, actor: Principal, campaign_id: int) -> None:
    """Remove a campaign and its record of sends (the notices already written stay)."""
    campaign_for(actor=actor, campaign_id=campaign_id, lock=True).delete()


def sends_of(*, actor: Principal, campaign_id: int, page: int, size: int):
    """(a page of the campaign's sends, newest first, and how many there are)."""
    campaign = campaign_for(actor=actor, campaign_id=campaign_id)
    sends = CareSend.objects.filter(campaign=campaign).select_related("customer", "notice")
    start = (page - 1) * size
    return list(sends.order_by("-created_at", "-id")[start : start + size]), sends.count()


# --- who is due ----------------------------------------------------------------------------


def render(template: str, *, customer: Customer, shop: Shop, tier: str) -> str:
    values = {"name": customer.name or _("customer"), "shop": shop.name, "tier": tier}
    return template.format_map(values)


def _audience(campaign: CareCampaign):
    """The shop's customers this campaign may write to: in its tiers and segments, not erased,
    not opted out of care or of every channel, with an address."""
    customers = Customer.objects.filter(shop_id=campaign.shop_id).exclude(email="", phone="")
    if campaign.tier_ids:
        customers = customers.filter(crm_profile__tier_id__in=campaign.tier_ids)
    if campaign.segments:
        customers = customers.filter(crm_profile__segment__in=campaign.segments)
    erased = CustomerProfile.objects.filter(customer=OuterRef("pk"), erased_at__isnull=False)
    opted_out = CustomerPreference.objects.filter(customer=OuterRef("pk")).filter(
        Q(care_opt_out=True) | Q(email_opt_out=True, sms_opt_out=True)
    )
    return customers.exclude(Exists(erased)).exclude(Exists(opted_out))


def _birthdays(today: dt.date, days: int) -> dict[int, Q]:
    """The birthdays that fall from ``today`` to ``today + days``, by the year they fall in
    (29 February on the 28th in a common year)."""
    wanted: dict[int, Q] = {}
    for offset in range(days + 1):
        day = today + dt.timedelta(days=offset)
        on = Q(crm_profile__birthday__month=day.month, crm_profile__birthday__day=day.day)
        if (day.month, day.day) == (2, 28) and not _leap(day.year):
            on |= Q(crm_profile__birthday__month=2, crm_profile__birthday__day=29)
        wanted[day.year] = wanted[day.year] | on if day.year in wanted else on
    return wanted


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


PAID = Q(paid_at__isnull=False) & ~Q(status__in=[OrderStatus.UNPAID, OrderStatus.CANCELLED])


def _due(campaign: CareCampaign, now: dt.datetime, limit: int) -> list[tuple[Customer, str]]:
    """Up to ``limit`` (customer, occasion) the campaign owes now and has not sent."""
    today = now.astimezone(ZoneInfo(campaign.shop.timezone)).date()
    customers = _audience(campaign).select_related("crm_profile__tier").order_by("pk")
    sent = CareSend.objects.filter(campaign=campaign, customer=OuterRef("pk"))
    kind = campaign.kind
    if kind in DATED:
        if not campaign.send_on <= today <= campaign.send_on + LATE_LIMIT:
            return []
        occasion = f"{kind}:{campaign.send_on.isoformat()}"
        return [
            (customer, occasion)
            for customer in customers.exclude(Exists(sent.filter(occasion=occasion)))[:limit]
        ]
    if kind == CareKind.BIRTHDAY:
        due: list[tuple[Customer, str]] = []
        for year, falls in _birthdays(today, campaign.days).items():
            occasion = f"birthday:{year}"
            rows = customers.filter(falls).exclude(Exists(sent.filter(occasion=occasion)))
            due += [(customer, occasion) for customer in rows[: limit - len(due)]]
        return due
    latest = now - dt.timedelta(days=campaign.days)
    if kind == CareKind.AFTER_USE:
        # the earliest order signed for in the window (a later one is the next round's)
        orders = Order.objects.filter(
            customer_id=OuterRef("pk"), signed_at__lte=latest, signed_at__gt=latest - LATE_LIMIT
        ).exclude(status=OrderStatus.CANCELLED)
        orders = orders.exclude(
            Exists(
                CareSend.objects.filter(
                    campaign=campaign,
                    customer_id=OuterRef("customer_id"),
                    occasion=Concat(Value(f"{kind}:"), Cast(OuterRef("pk"), CharField())),
                )
            )
        ).order_by("signed_at", "pk")
    else:  # repurchase: the last paid order, when it is that old
        last = Order.objects.filter(PAID, customer_id=OuterRef(OuterRef("pk")))
        orders = Order.objects.filter(
            pk=Subquery(last.order_by("-paid_at", "-pk").values("pk")[:1]),
            paid_at__lte=latest,
            paid_at__gt=latest - LATE_LIMIT,
        )
    rows = customers.annotate(order_id=Subquery(orders.values("pk")[:1])).filter(
        order_id__isnull=False
    )
    occasion = Concat(Value(f"{kind}:"), Cast(OuterRef("order_id"), CharField()))
    rows = rows.exclude(Exists(sent.filter(occasion=occasion)))
    return [(customer, f"{kind}:{customer.order_id}") for customer in rows[:limit]]


# --- the worker's step ---------------------------------------------------------------------


def _send_batch(campaign: CareCampaign, due: list[tuple[Customer, str]], now) -> int:
    """The sends and their notices, in one transaction."""
    code = KIND_CODES[campaign.kind]
    with transaction.atomic():
        sends = CareSend.objects.bulk_create(
            [
                CareSend(
                    campaign=campaign,
                    shop_id=campaign.shop_id,
                    customer=customer,
                    occasion=occasion,
                    created_at=now,
                )
                for customer, occasion in due
            ]
        )
        notices = []
        for send in sends:
            customer = send.customer
            profile = getattr(customer, "crm_profile", None)
            tier = profile.tier.name if profile is not None and profile.tier else ""
            words = {"customer": customer, "shop": campaign.shop, "tier": tier}
            payload = {
                "number": campaign.name,
                "customer": customer.pk,
                "campaign": campaign.pk,
                "occasion": send.occasion,
                "subject": render(campaign.subject, **words),
                "body": render(campaign.body, **words),
            }
            notices.append(notice_build(send, code, payload))
        notices_save(notices)
        for send, notice in zip(sends, notices, strict=True):
            send.notice_id = notice.pk
        CareSend.objects.bulk_update(sends, ["notice"])
    return len(sends)


def care_sweep(*, now: dt.datetime | None = None, batch_size: int = 200) -> int:
    """Write the care each active campaign owes now, a batch of ``batch_size`` recipients per
    transaction; returns how many messages it wrote."""
    now = now or clock.now()
    written = 0
    campaigns = CareCampaign.objects.filter(is_active=True).select_related("shop")
    for campaign in campaigns.order_by("pk"):
        while True:
            due = _due(campaign, now, batch_size)
            if due:
                written += _send_batch(campaign, due, now)
            if len(due) < batch_size:
                break
    with transaction.atomic():
        RetentionCursor.objects.update_or_create(name=CURSOR, defaults={"read_until": now})
    return written


def care_due(*, now: dt.datetime | None = None, batch_size: int = 200) -> int:
    """The worker's step: ``care_sweep`` when ``SWEEP_EVERY`` has passed since the last."""
    now = now or clock.now()
    last = RetentionCursor.objects.filter(name=CURSOR).values_list("read_until", flat=True).first()
    if last is not None and now - last < SWEEP_EVERY:
        return 0
    return care_sweep(now=now, batch_size=batch_size)


# --- the deliveries: opt-outs, the e-mail, the text message ---------------------------------

# The reasons a withheld delivery records (``Delivery.last_error``; the desk puts them in words).
OPTED_OUT_BY_EMAIL = "the customer opted out of care by e-mail"
OPTED_OUT_BY_SMS = "the customer opted out of care by text message"


def care_withheld(notices: Sequence[Notice]) -> dict[tuple[int, str], str]:
    """The deliveries of care notices to withhold (``notify.deliveries`` filter): the channels
    the customer opted out of, every channel when they opted out of care or were erased. Other
    notices (a case's, owed) are not this filter's concern."""
    care = [n for n in notices if n.kind in CARE_CODES and n.payload.get("customer")]
    if not care:
        return {}
    ids = {n.payload["customer"] for n in care}
    preferences = {p.customer_id: p for p in CustomerPreference.objects.filter(customer_id__in=ids)}
    erased = set(
        CustomerProfile.objects.filter(customer_id__in=ids, erased_at__isnull=False).values_list(
            "customer_id", flat=True
        )
    )
    withheld: dict[tuple[int, str], str] = {}
    for notice in care:
        customer = notice.payload["customer"]
        preference = preferences.get(customer)
        everything = customer in erased or (preference is not None and preference.care_opt_out)
        if everything or (preference is not None and preference.email_opt_out):
            withheld[(notice.pk, EMAIL)] = OPTED_OUT_BY_EMAIL
        if everything or (preference is not None and preference.sms_opt_out):
            withheld[(notice.pk, SMS)] = OPTED_OUT_BY_SMS
    return withheld


def care_email(notice: Notice, sends: dict[int, CareSend]):
    send = sends.get(notice.subject_id)
    if send is None or not send.customer.email:
        return None
    customer, shop = send.customer, send.shop
    with translation.override(customer.language):
        context = {
            "language": translation.get_language(),
            "subject": notice.payload.get("subject", ""),
            "paragraphs": [
                line.strip() for line in notice.payload.get("body", "").split("\n") if line.strip()
            ],
            "signature": shop.name,
        }
        text = render_to_string("crm/care_email.txt", context)
        html = render_to_string("crm/care_email.html", context)
    plain = re.sub(r"\n{3,}", "\n\n", "\n".join(line.rstrip() for line in text.strip().split("\n")))
    message = EmailMultiAlternatives(context["subject"], plain + "\n", to=[customer.email])
    message.attach_alternative(html, "text/html")
    return message


class CareComposer:
    """The e-mails and text messages of care notices: the shop's words, as rendered when the
    notice was written."""

    def prepare(self, notices: Sequence[Notice]) -> dict[int, CareSend]:
        ids = {notice.subject_id for notice in notices}
        return CareSend.objects.select_related("shop", "customer").in_bulk(ids)

    def email(self, notice: Notice, prepared: dict[int, CareSend]):
        return care_email(notice, prepared)

    def sms_text(self, notice: Notice) -> str:
        return notice.payload.get("subject", "")


register_composer(CareSend, CareComposer())
