"""The shop's reply templates (话术) filled from a case: a template is never sent with a blank
where a value belongs. The messages themselves are the conversations' (``aftersales.conversations``,
which checks a template here before sending it)."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftersales.cases.models import Case
from aftersales.cases.timeline import readable_time
from aftersales.core.errors import InvalidInput
from aftersales.team.models import ReplyTemplate

# The variables a reply template may use, in words (a template that cannot be filled names them).
TEMPLATE_VARIABLES = {
    "customer_name": gettext_lazy("the customer's name"),
    "case_number": gettext_lazy("the case number"),
    "order_number": gettext_lazy("the order number"),
    "deadline": gettext_lazy("the deadline"),
    "return_address": gettext_lazy("the return address (known once the case is approved)"),
    "shop_name": gettext_lazy("the shop's name"),
    "amount": gettext_lazy("the amount"),
}
VARIABLE = re.compile(r"\{(\w+)\}")


# Work a higher app does before the shop's message about a subject (a case, a complaint) is
# written, outside its transaction: on a marketplace's case it goes to the platform first
# (``connectors.writeback``), and a refusal there refuses the message. Called with ``actor``,
# ``subject_type``, ``subject`` and ``text``.
BeforeShopMessage = Callable[..., None]
_BEFORE_SHOP_MESSAGE: list[BeforeShopMessage] = []


def register_before_shop_message(hook: BeforeShopMessage) -> BeforeShopMessage:
    """Called once by a higher app at its start."""
    if hook not in _BEFORE_SHOP_MESSAGE:
        _BEFORE_SHOP_MESSAGE.append(hook)
    return hook


def before_shop_message(*, actor, subject_type: str, subject, text: str) -> None:
    for hook in _BEFORE_SHOP_MESSAGE:
        hook(actor=actor, subject_type=subject_type, subject=subject, text=text)


def template_variables(case: Case) -> dict[str, str]:
    deadline = readable_time(case.deadline_at, case.shop.timezone) if case.deadline_at else ""
    address = case.return_address
    return {
        "customer_name": case.customer.name or case.customer.external_id,
        "case_number": case.number,
        "order_number": case.order.external_id,
        "deadline": deadline,
        "return_address": f"{address.address} {address.name} {address.phone}" if address else "",
        "shop_name": case.shop.name,
        "amount": str(case.approved_amount or case.requested_amount),
    }


def template_missing(body: str, case: Case) -> list[str]:
    """The variables ``body`` uses that this case cannot fill now, in words."""
    values = template_variables(case)
    used = dict.fromkeys(VARIABLE.findall(body))
    return [str(TEMPLATE_VARIABLES[name]) for name in used if name in values and not values[name]]


def template_render(body: str, case: Case) -> str:
    """Fill ``{variable}``s; unknown ones are left as written (never an error, never code)."""
    values = template_variables(case)
    return VARIABLE.sub(lambda m: values.get(m.group(1), m.group(0)), body)


def templates_for(case: Case, *, language: str) -> list[ReplyTemplate]:
    """The shop's reply templates in a language, each with what this case still lacks for it
    (``missing``: empty when it can be sent now)."""
    templates = list(
        ReplyTemplate.objects.filter(shop=case.shop, language=language).order_by("title")
    )
    for template in templates:
        template.missing = template_missing(template.body, case)
    return templates


def template_check(case: Case, template_id: int) -> ReplyTemplate:
    """The shop's reply template a message is sent from, refused while the case cannot fill its
    variables (the customer would read a blank where a value belongs)."""
    template = ReplyTemplate.objects.filter(shop_id=case.shop_id, pk=template_id).first()
    if template is None:
        raise InvalidInput(_("No such reply template."), code="template_not_found")
    missing = template_missing(template.body, case)
    if missing:
        raise InvalidInput(
            _("This reply needs %(missing)s, which this case does not have yet.")
            % {"missing": ", ".join(missing)},
            code="template_variables_missing",
            field="text",
            missing=missing,
        )
    return template
