"""The routing's refusals of bad input, in words: a strategy, a capacity, skills outside their
choices (case kinds, reasons, customer languages, and the shop's own product categories), a
team's name."""

from __future__ import annotations

import unicodedata

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftersales.cases.choices import CaseKind, Reason
from aftersales.catalog.models import CustomerLanguage, Product, Shop
from aftersales.core.errors import InvalidInput
from aftersales.routing.choices import MAX_CAPACITY, TEAM_NAME_LENGTH, Strategy

SKILL_LABELS = {
    "kinds": gettext_lazy("Case kinds"),
    "reasons": gettext_lazy("Reasons"),
    "categories": gettext_lazy("Product categories"),
    "languages": gettext_lazy("Languages"),
}


def validated_strategy(value: str) -> str:
    if value not in Strategy.values:
        raise InvalidInput(
            _("The strategy must be one of: %(choices)s.")
            % {"choices": " / ".join(str(label) for _value, label in Strategy.choices)},
            code="invalid_strategy",
            field="strategy",
        )
    return value


def validated_capacity(value: int, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_CAPACITY:
        raise InvalidInput(
            _("The capacity must be a whole number from 0 to %(most)s.") % {"most": MAX_CAPACITY},
            code="invalid_capacity",
            field=field,
        )
    return value


def shop_categories(shop: Shop) -> list[str]:
    """The product categories of a shop's catalogue, the choices of a category skill."""
    return sorted(
        set(
            Product.objects.filter(shop=shop)
            .exclude(category="")
            .values_list("category", flat=True)
            .distinct()
        )
    )


def skill_choices(shop: Shop) -> dict[str, list[str]]:
    return {
        "kinds": list(CaseKind.values),
        "reasons": list(Reason.values),
        "categories": shop_categories(shop),
        "languages": list(CustomerLanguage.values),
    }


def validated_skills(shop: Shop, skills: dict[str, list[str] | None]) -> dict[str, list[str]]:
    """The skills given (``None`` leaves a list as it is), each checked against its choices and
    kept in the order of those choices without repeats."""
    unknown_names = set(skills) - set(SKILL_LABELS)
    if unknown_names:
        raise InvalidInput(
            _("Skills are: %(names)s.")
            % {"names": ", ".join(str(v) for v in SKILL_LABELS.values())},
            code="invalid_skills",
            field="skills",
        )
    choices = skill_choices(shop)
    cleaned = {}
    for name, values in skills.items():
        if values is None:
            continue
        wrong = [value for value in values if value not in choices[name]]
        if wrong:
            raise InvalidInput(
                _("Not a choice for %(field)s: %(values)s.")
                % {"field": SKILL_LABELS[name], "values": ", ".join(map(str, wrong))},
                code=f"invalid_{name}",
                field=f"skills.{name}",
            )
        cleaned[name] = [choice for choice in choices[name] if choice in set(values)]
    return cleaned


# Control, format, private and unassigned characters, line and paragraph separators: a team's
# name shows as it was typed, on one line.
INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def _is_invisible(character: str) -> bool:
    return unicodedata.category(character) in INVISIBLE


def validated_team_name(value: str, field: str = "name") -> str:
    """The name without its leading and trailing spaces: 1 to 60 characters, no control
    characters, and no ``/`` (the name is the last part of the team's address in the API)."""
    name = value.strip() if isinstance(value, str) else ""
    if not name or len(name) > TEAM_NAME_LENGTH or "/" in name or any(map(_is_invisible, name)):
        raise InvalidInput(
            _("A team's name has 1 to %(most)s characters, without a slash or control characters.")
            % {"most": TEAM_NAME_LENGTH},
            code="invalid_team_name",
            field=field,
        )
    return name
