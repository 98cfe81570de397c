"""A case's steps in the customer's words, with dates (for the API and the portal).

Each step is a state the case entered, plus the moments a customer should hear about without a
change of state (a repair quote's reminder, an offer while the replacement is out of stock), each
with a short detail: the service center at work, the quote, the parcel's tracking number.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from aftersales.cases.choices import Action, CaseKind
from aftersales.cases.timeline import VISIBILITY, visible_events
from aftersales.cases.wording import carrier_label, state_label
from aftersales.core.actors import Principal

# Steps are the customer's account of the case, whoever reads them.
CUSTOMER_VIEW = Principal(user_id=None, username="", role="customer")

# Same-state moves the customer is told about.
VISIBLE_ACTIONS = frozenset({Action.REMIND, Action.OFFER})


def _detail(action: str, data: dict, currency: str) -> str:
    if action == Action.DIAGNOSE:
        parts = []
        if data.get("service_center"):
            parts.append(_("At the service center: %(name)s") % {"name": data["service_center"]})
        if data.get("under_warranty"):
            parts.append(_("Under warranty: free of charge"))
        if data.get("quote"):
            parts.append(
                _("Quote: %(amount)s %(currency)s")
                % {"amount": data["quote"], "currency": currency}
            )
        if data.get("repairable") is False:
            parts.append(_("Cannot be repaired"))
        return "; ".join(parts)
    if action == Action.CONVERT:
        return _("Now: %(kind)s") % {"kind": CaseKind(data["to_kind"]).label}
    if action == Action.REMIND:
        return _("Please accept or decline the repair quote.")
    if action == Action.OFFER:
        return data.get("note", "")
    if data.get("tracking_number"):
        return f"{carrier_label(data.get('carrier', ''))} {data['tracking_number']}".strip()
    if data.get("refunded"):
        return _("%(amount)s %(currency)s refunded") % {
            "amount": data["refunded"],
            "currency": currency,
        }
    return ""


def steps(case) -> list[dict]:
    """The case's steps, oldest first, as the customer may see them (the timeline's visibility
    rule, ``timeline.visible_events``); reads the prefetched timeline."""
    currency = case.shop.currency
    result = []
    labels: dict[str, str] = {}  # each state's words once per read
    for event, data in visible_events(CUSTOMER_VIEW, case.events.all(), visibility=VISIBILITY):
        moved = event.to_state and event.to_state != event.from_state
        if not moved and event.action not in VISIBLE_ACTIONS:
            continue
        state = event.to_state or case.state
        if event.action == Action.REMIND:
            label = str(_("Reminder: the repair quote is waiting for you"))
        elif event.action == Action.OFFER:
            label = str(_("The shop offers an alternative"))
        else:
            label = labels.get(state)
            if label is None:
                label = labels[state] = str(state_label(state, case.kind))
        result.append(
            {
                "state": state,
                "label": label,
                "at": event.at,
                "detail": str(_detail(event.action, data, currency)),
            }
        )
    return result
