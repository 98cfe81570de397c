"""``docs/roles.md`` written from the one matrix (``core.permissions``): the roles, the scopes
and the table of role × action, in words (the language active when it is written; the product
ships the English page). ``aftersales roles_doc`` writes it; a test fails when the page and the
matrix differ."""

from __future__ import annotations

from django.utils.translation import gettext as _

from aftersales.core.actors import INSTALLATION_ROLES, STAFF_ROLES, Role
from aftersales.core.permissions import LEAD_GRANTS, MATRIX, Scope, label

ROLE_ORDER = tuple(Role.values)


def _subject(action: str) -> str:
    subject_type = MATRIX[action].subject_type
    if subject_type == "case":
        return _("Case")
    if subject_type == "complaint":
        return _("Complaint")
    if subject_type == "review":
        return _("Review")
    if subject_type == "dispute":
        return _("Dispute")
    if subject_type == "inspection":
        return _("Inspection")
    return ""


def _tied_to(role: str) -> str:
    if role == Role.CUSTOMER:
        return _("one customer of one shop")
    if role in STAFF_ROLES and role in INSTALLATION_ROLES:
        return _("shops (a role in each), or no shop: the whole installation")
    if role in STAFF_ROLES:
        return _("shops (a role in each)")
    return _("no shop: the whole installation")


def _cell(action: str, role: str) -> str:
    scope = MATRIX[action].grants.get(role)
    return str(Scope(scope).label) if scope else "—"


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def roles_markdown() -> str:
    lines = [
        "# " + _("Roles and what they may do"),
        "",
        "<!-- "
        + _(
            "Written by `aftersales roles_doc` from aftersales/core/permissions.py; "
            "do not edit by hand."
        )
        + " -->",
        "",
        _(
            "One matrix decides who may do what: the API, the pages and the lifecycle tables "
            "ask it alike. A member of several shops holds a role in each, and a check about a "
            "case or a complaint uses the role held in its shop."
        ),
        "",
        "## " + _("Roles"),
        "",
        _row([_("Role"), _("Code"), _("Tied to")]),
        _row(["---"] * 3),
    ]
    lines += [_row([str(Role(r).label), f"`{r}`", _tied_to(r)]) for r in ROLE_ORDER]
    lines += [
        "",
        "## " + _("Scopes"),
        "",
        _row([_("Scope"), _("Reaches")]),
        _row(["---"] * 2),
        _row([str(Scope.OWN.label), _("the customer's own cases, complaints and invoices")]),
        _row(
            [
                str(Scope.SHOP.label),
                _(
                    "what belongs to the shops the member works for, with the role held there "
                    "(a member tied to no shop: every shop)"
                ),
            ]
        ),
        _row(
            [
                str(Scope.ALL.label),
                _("every shop, for a member tied to no shop only"),
            ]
        ),
        "",
        "## " + _("Who may do what"),
        "",
        _row([_("Action"), *(str(Role(r).label) for r in ROLE_ORDER)]),
        _row(["---"] * (len(ROLE_ORDER) + 1)),
    ]
    for action in MATRIX:
        subject = _subject(action)
        words = f"{subject}: {label(action)}" if subject else label(action)
        lines.append(_row([f"{words} (`{action}`)", *(_cell(action, r) for r in ROLE_ORDER)]))
    lines += [
        "",
        _(
            "A team lead gives and takes back these roles in their shops: %(roles)s; an "
            "administrator any role in a shop. A shop keeps its last administrator. Every "
            "change is on the shop's audit log (docs/team.md)."
        )
        % {"roles": ", ".join(str(Role(r).label) for r in ROLE_ORDER if r in LEAD_GRANTS)},
        "",
    ]
    return "\n".join(lines)
