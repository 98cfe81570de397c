"""Who may do what: ONE matrix of role × action × scope, and the one question everything asks
of it, ``permitted(principal, action, subject_or_shop)``.

The actions are the person actions of the lifecycle tables (``case.approve``,
``complaint.decide``: the kernel's ``Move.roles`` are read from here, see ``roles_for``) and
the operations beside them (the policy, the team, stock, invoices, compensation, evidence…). A
role's scope says where its grant reaches:

- ``own``: the customer's own subjects (their cases, complaints, invoices);
- ``shop``: the subjects of the shops the member works for, with the role they hold in that shop
  (an agent of shop A may be the lead of shop B); a member tied to no shop reaches every shop;
- ``all``: every shop, for the members tied to no shop only (the installation admin, the
  platform operator).

The API, the pages and the kernel ask the same function; ``docs/roles.md`` is written from this
table (``aftersales roles_doc``) and a test fails when the two differ.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftersales.core.actors import Principal, Role
from aftersales.core.errors import PermissionDenied
from aftersales.core.lifecycle import lifecycle_for


class Scope(models.TextChoices):
    OWN = "own", gettext_lazy("own")
    SHOP = "shop", gettext_lazy("their shops")
    ALL = "all", gettext_lazy("all shops")


@dataclass(frozen=True)
class Permission:
    """A row of the matrix: an action and, per role, how far the role's grant reaches. A
    lifecycle action takes its words from its lifecycle (``label`` is ``None``)."""

    action: str
    grants: Mapping[str, str]
    label: str | Promise | None = None

    @property
    def subject_type(self) -> str | None:
        """``case`` for ``case.approve``: the lifecycle whose table has this action."""
        subject_type, _dot, _action = self.action.partition(".")
        return subject_type if subject_type in LIFECYCLE_SUBJECTS else None


LIFECYCLE_SUBJECTS = ("case", "complaint", "review", "dispute", "inspection")

OWN, SHOP, ALL = Scope.OWN, Scope.SHOP, Scope.ALL
ADMIN, LEAD, AGENT, FINANCE = Role.ADMIN, Role.LEAD, Role.AGENT, Role.FINANCE
LOGISTICS, TECHNICIAN = Role.LOGISTICS, Role.TECHNICIAN
OPERATOR, CUSTOMER = Role.PLATFORM_OPERATOR, Role.CUSTOMER


def _shop(*roles: str) -> dict[str, str]:
    return dict.fromkeys(roles, SHOP)


# Who handles a case day to day: the agent, the lead (everything an agent can, and more) and a
# shop's administrator.
HANDLERS = (ADMIN, LEAD, AGENT)
STAFF = (ADMIN, LEAD, AGENT, FINANCE, LOGISTICS, TECHNICIAN)


def _rows(*rows: Permission) -> dict[str, Permission]:
    return {row.action: row for row in rows}


MATRIX: dict[str, Permission] = _rows(
    # --- the case's table (its person actions) -------------------------------------------------
    Permission("case.open", {CUSTOMER: OWN, **_shop(*HANDLERS)}),
    Permission("case.approve", _shop(*HANDLERS)),
    Permission("case.reject", _shop(*HANDLERS)),
    Permission("case.cancel", {CUSTOMER: OWN}),
    Permission("case.modify", {CUSTOMER: OWN}),
    Permission("case.ship_return", {CUSTOMER: OWN}),
    # The warehouse takes returns in and grades them.
    Permission("case.receive", _shop(*HANDLERS, LOGISTICS)),
    Permission("case.inspect", _shop(*HANDLERS, LOGISTICS)),
    # Money leaves the shop by finance (or its administrator).
    Permission("case.refund", _shop(ADMIN, FINANCE)),
    Permission("case.ship_replacement", _shop(*HANDLERS, LOGISTICS)),
    Permission("case.offer", _shop(*HANDLERS)),
    Permission("case.confirm_receipt", {CUSTOMER: OWN}),
    # The workshop diagnoses (and quotes), repairs and sends the goods back.
    Permission("case.diagnose", _shop(*HANDLERS, TECHNICIAN)),
    Permission("case.accept_quote", {CUSTOMER: OWN}),
    Permission("case.decline_quote", {CUSTOMER: OWN}),
    Permission("case.ship_back", _shop(*HANDLERS, LOGISTICS, TECHNICIAN)),
    Permission("case.convert", _shop(*HANDLERS)),
    # --- the complaint's table -----------------------------------------------------------------
    Permission("complaint.file", {CUSTOMER: OWN, **_shop(*HANDLERS)}),
    Permission("complaint.acknowledge", _shop(*HANDLERS)),
    Permission("complaint.analyse", _shop(*HANDLERS)),
    Permission("complaint.decide", _shop(*HANDLERS)),
    Permission("complaint.execute", _shop(*HANDLERS)),
    Permission("complaint.answer", {CUSTOMER: OWN, **_shop(*HANDLERS)}),
    Permission("complaint.withdraw", {CUSTOMER: OWN}),
    Permission("complaint.assign", _shop(*HANDLERS)),
    Permission("complaint.link", _shop(*HANDLERS)),
    # --- the review's table (评价) ---------------------------------------------------------------
    Permission("review.rate", {CUSTOMER: OWN}),
    Permission("review.change", {CUSTOMER: OWN}),
    Permission("review.delete", {CUSTOMER: OWN}),
    # The shop follows a neutral or negative review up and answers it in public.
    Permission("review.contact", _shop(*HANDLERS)),
    Permission("review.reply", _shop(*HANDLERS)),
    # --- the dispute's table (维权 / 平台介入): the buyer opens, both sides add evidence, the
    # platform decides, the shop may appeal once ------------------------------------------------
    Permission("dispute.open", {CUSTOMER: OWN}),
    Permission("dispute.add_evidence", {CUSTOMER: OWN, **_shop(*HANDLERS)}),
    Permission("dispute.withdraw", {CUSTOMER: OWN}),
    Permission("dispute.decide", {OPERATOR: ALL}),
    Permission("dispute.send_to_jury", {OPERATOR: ALL}),
    Permission("dispute.accept", _shop(ADMIN, LEAD)),
    Permission("dispute.appeal", _shop(ADMIN, LEAD)),
    Permission("dispute.review", {OPERATOR: ALL}),
    # --- the inspection's table (鉴定中心, 假一赔十): the platform sends the goods, the buyer or
    # the shop ships them (whoever holds them), the center receives them and gives the verdict ----
    Permission("inspection.open", {OPERATOR: ALL}),
    Permission("inspection.ship", {CUSTOMER: OWN, **_shop(*HANDLERS, LOGISTICS)}),
    Permission("inspection.receive", {OPERATOR: ALL}),
    Permission("inspection.verdict", {OPERATOR: ALL}),
    Permission("inspection.cancel", {OPERATOR: ALL}),
    # --- beside the tables ---------------------------------------------------------------------
    Permission(
        "inspection.read",
        {CUSTOMER: OWN, **_shop(*STAFF), OPERATOR: ALL},
        gettext_lazy("Read inspections, their verdicts and reports"),
    ),
    Permission(
        "dispute.read",
        {CUSTOMER: OWN, **_shop(*STAFF), OPERATOR: ALL},
        gettext_lazy("Read disputes and their evidence"),
    ),
    Permission(
        "jury.vote",
        {CUSTOMER: OWN},
        gettext_lazy("Vote as a juror (only on the disputes one was drawn for)"),
    ),
    Permission(
        "desk.use",
        {**_shop(*STAFF), OPERATOR: ALL},
        gettext_lazy("Work in the desk (read the shop's cases and complaints)"),
    ),
    Permission(
        "note.write", _shop(*STAFF), gettext_lazy("Write internal notes and the contact log")
    ),
    Permission("case.flag", _shop(*STAFF), gettext_lazy("Flag cases")),
    Permission(
        "case.priority",
        _shop(*HANDLERS),
        gettext_lazy("Set a case's priority (it chooses the service-level targets)"),
    ),
    Permission(
        # Finance reads the conversation; those who handle the goods and the case answer.
        "case.message",
        _shop(*HANDLERS, LOGISTICS, TECHNICIAN),
        gettext_lazy("Message the customer (with the reply templates)"),
    ),
    Permission(
        "playbook.tick",
        _shop(*HANDLERS, LOGISTICS, TECHNICIAN),
        gettext_lazy("Tick the steps of a case's playbook"),
    ),
    Permission("playbook.write", _shop(ADMIN, LEAD), gettext_lazy("Write the shop's playbooks")),
    Permission("assign", _shop(*HANDLERS), gettext_lazy("Assign work to colleagues")),
    Permission(
        "case.receiving_desk",
        _shop(*HANDLERS, LOGISTICS),
        gettext_lazy("Use the receiving desk (scan returns)"),
    ),
    Permission(
        "evidence.upload",
        {CUSTOMER: OWN, **_shop(*HANDLERS, LOGISTICS, TECHNICIAN)},
        gettext_lazy("Add photos and videos to a case"),
    ),
    Permission(
        "evidence.inspection",
        _shop(*HANDLERS, LOGISTICS, TECHNICIAN),
        gettext_lazy("Add inspection photos"),
    ),
    Permission(
        # Finance pays what the policy owes; a gesture is the handler's (finance does not grant).
        "compensation.grant",
        _shop(*HANDLERS),
        gettext_lazy("Grant a coupon or store credit within the policy"),
    ),
    Permission(
        "compensation.counterfeit",
        _shop(ADMIN, LEAD),
        gettext_lazy("Grant ten-fold compensation for a proven counterfeit"),
    ),
    Permission(
        "invoice.read",
        {CUSTOMER: OWN, **_shop(*HANDLERS, FINANCE), OPERATOR: ALL},
        gettext_lazy("Read invoices and credit notes, and export them"),
    ),
    Permission("order.import", _shop(*HANDLERS), gettext_lazy("Import and update orders")),
    Permission("stock.read", _shop(*STAFF), gettext_lazy("Read SKUs and their stock")),
    Permission("stock.write", _shop(*HANDLERS, LOGISTICS), gettext_lazy("Set the stock of a SKU")),
    Permission("policy.write", _shop(ADMIN), gettext_lazy("Change the shop's policy")),
    Permission("shop.manage", _shop(ADMIN), gettext_lazy("Manage the shop's service centers")),
    Permission("shop.create", {ADMIN: ALL}, gettext_lazy("Create shops")),
    Permission("team.read", _shop(ADMIN, LEAD), gettext_lazy("See the team and its audit log")),
    Permission(
        "team.manage",
        _shop(ADMIN, LEAD),
        gettext_lazy("Give, change and take back roles in the team"),
    ),
    Permission("case.rate", {CUSTOMER: OWN}, gettext_lazy("Rate the service of a case")),
    # --- satisfaction surveys: the lead samples the month and reads the results; whoever
    # handles cases calls the customers without a link and records their answers -------------
    Permission(
        "survey.manage",
        _shop(ADMIN, LEAD),
        gettext_lazy("Run the month's satisfaction survey (draw the sample and invite it)"),
    ),
    Permission(
        "survey.view",
        _shop(ADMIN, LEAD),
        gettext_lazy("Read the satisfaction surveys' rounds and results"),
    ),
    Permission(
        "survey.call",
        _shop(*HANDLERS),
        gettext_lazy("Call the customers of phone surveys and record their answers"),
    ),
    # The customer answers (or declines) through the survey's link: no login, the link is theirs.
    Permission(
        "survey.answer",
        {CUSTOMER: OWN},
        gettext_lazy("Answer or decline their satisfaction survey (through its link)"),
    ),
    Permission(
        "insights.view",
        _shop(ADMIN, LEAD),
        gettext_lazy("Read the shop's KPIs and the cases behind each number"),
    ),
    # --- customers (PIPL): whoever works with customers reads their profile; those who call
    # them see the full phone and e-mail (finance reads them masked); the lead defines the
    # tiers and answers a customer's export request; only an administrator erases ------------
    Permission(
        "customer.view",
        _shop(*HANDLERS, FINANCE),
        gettext_lazy("Read customers' profiles, tiers and classes (phone and e-mail masked)"),
    ),
    Permission(
        "customer.contact",
        _shop(*HANDLERS),
        gettext_lazy("See customers' full phone numbers and e-mail addresses"),
    ),
    Permission(
        "customer.manage",
        _shop(*HANDLERS),
        gettext_lazy("Record customers' preferences and birthdays; work the retention queue"),
    ),
    Permission(
        "tier.manage",
        _shop(ADMIN, LEAD),
        gettext_lazy("Define the shop's membership tiers"),
    ),
    Permission(
        "care.manage",
        _shop(ADMIN, LEAD),
        gettext_lazy("Set up the shop's care campaigns (birthday, holidays, after use…)"),
    ),
    Permission(
        "customer.export",
        _shop(ADMIN, LEAD),
        gettext_lazy("Export everything held about a customer, at their request (logged)"),
    ),
    Permission(
        "customer.erase",
        _shop(ADMIN),
        gettext_lazy("Erase a customer's personal data, at their request (irreversible, logged)"),
    ),
    # --- the shop's marketplace stores (its accounts on Taobao, JD, Pinduoduo…) -----------------
    Permission(
        "store.view",
        _shop(*HANDLERS),
        gettext_lazy("See the shop's marketplace stores, their health and their waiting requests"),
    ),
    Permission(
        "store.import",
        _shop(*HANDLERS),
        gettext_lazy("Import a marketplace's after-sales export into a store"),
    ),
    Permission(
        "store.manage",
        _shop(ADMIN, LEAD),
        gettext_lazy(
            "Add, test, pause, resume, sync and remove the shop's marketplace stores and renew "
            "their keys"
        ),
    ),
    Permission(
        # Writes and automatic refunds move the shop's money on the platform: the policy's owner.
        "store.writes",
        _shop(ADMIN),
        gettext_lazy(
            "Turn a store's writes to its marketplace on or off and set its automatic refund cap"
        ),
    ),
    # --- violation points (the platform's rules on a shop) -------------------------------------
    Permission(
        "violation.read",
        {**_shop(*STAFF), OPERATOR: ALL},
        gettext_lazy("Read the shop's violation points, penalties and refund rate"),
    ),
    Permission(
        "violation.record",
        {OPERATOR: ALL},
        gettext_lazy("Record a violation on a shop (the platform)"),
    ),
    Permission(
        "violation.appeal",
        _shop(ADMIN),
        gettext_lazy("Appeal a violation or a penalty (once each)"),
    ),
    Permission(
        "violation.decide",
        {OPERATOR: ALL},
        gettext_lazy("Decide an appeal against a violation or a penalty (the platform)"),
    ),
    Permission(
        # The one service score: the disputes' autonomy and the insurance's premium read it.
        "shop.service_score",
        {OPERATOR: ALL, ADMIN: ALL},
        gettext_lazy(
            "Set a shop's service score, with the reason (it grades the shop's autonomy in "
            "disputes and its shipping-insurance premium)"
        ),
    ),
    # --- shipping insurance (运费险): the buyer or the shop's handlers insure and claim; the
    # platform's operator reviews the abuse flags.
    Permission(
        "insurance_cover.read",
        {CUSTOMER: OWN, **_shop(*STAFF), OPERATOR: ALL},
        gettext_lazy("Read an order's shipping insurance and its claims"),
    ),
    Permission(
        "insurance_cover.quote",
        {CUSTOMER: OWN, **_shop(*HANDLERS)},
        gettext_lazy("Quote the shipping insurance of an order"),
    ),
    Permission(
        "insurance_cover.requote",
        {CUSTOMER: OWN, **_shop(*HANDLERS)},
        gettext_lazy("Quote the shipping insurance of an order again"),
    ),
    Permission(
        "insurance_cover.insure",
        {CUSTOMER: OWN, **_shop(*HANDLERS)},
        gettext_lazy("Insure an order's return shipping"),
    ),
    Permission(
        "insurance_cover.claim",
        {CUSTOMER: OWN, **_shop(*HANDLERS)},
        gettext_lazy("Claim the return shipping of an insured order"),
    ),
    Permission(
        "insurance_cover.record_postage",
        _shop(*HANDLERS, LOGISTICS),
        gettext_lazy("Record the real postage of a claimed return"),
    ),
    Permission(
        "insurance_flag.read",
        {OPERATOR: ALL, ADMIN: ALL},
        gettext_lazy("Read the shipping-insurance abuse flags"),
    ),
    Permission(
        "insurance_flag.scan",
        {OPERATOR: ALL, ADMIN: ALL},
        gettext_lazy("Compute the buyers' abuse signals now"),
    ),
    Permission(
        "insurance_flag.clear",
        {OPERATOR: ALL, ADMIN: ALL},
        gettext_lazy("Clear a shipping-insurance abuse flag"),
    ),
    Permission(
        "insurance_flag.confirm",
        {OPERATOR: ALL, ADMIN: ALL},
        gettext_lazy("Confirm a buyer's shipping-insurance abuse"),
    ),
)

# The roles a lead may give and take back in their shops; an administrator gives any shop role.
LEAD_GRANTS = frozenset({Role.AGENT, Role.LOGISTICS, Role.TECHNICIAN})


def roles_for(action: str) -> frozenset[str]:
    """The roles with any grant of ``action``: what a lifecycle's ``Move.roles`` is."""
    return frozenset(MATRIX[action].grants)


def _shop_of(target: Any) -> int | None:
    """The shop a check is about: a shop id, a shop, or a subject with a ``shop_id``."""
    if target is None or isinstance(target, int):
        return target
    if getattr(getattr(target, "_meta", None), "model_name", None) == "shop":
        return target.pk
    return target.shop_id


def _reaches(principal: Principal, scope: str | None, target: Any, shop_id: int | None) -> bool:
    if scope is None:
        return False
    if scope == ALL:
        return principal.shop_ids is None
    if shop_id is not None and not principal.can_see_shop(shop_id):
        return False
    if scope == OWN:
        customer_id = getattr(target, "customer_id", None)
        return customer_id is None or customer_id == principal.customer_id
    return True


def permitted(principal: Principal, action: str, target: Any = None) -> bool:
    """Whether ``principal`` may take ``action`` on ``target`` (a subject with a ``shop_id``, a
    shop, or a shop id), with the role they hold in its shop; without a target, whether they
    may in any of their shops. The system (the clock, the commands) may do everything."""
    if principal.is_system:
        return True
    grants = MATRIX[action].grants
    shop_id = _shop_of(target)
    if shop_id is None:
        return any(_reaches(principal, grants.get(role), None, None) for role in principal.roles)
    return _reaches(principal, grants.get(principal.role_in(shop_id)), target, shop_id)


def label(action: str) -> str:
    """The action in words: its row's, or its lifecycle's label."""
    row = MATRIX[action]
    if row.label is not None:
        return str(row.label)
    subject_type, _dot, name = action.partition(".")
    return lifecycle_for(subject_type).action_label(name)


def require(principal: Principal, action: str, target: Any = None) -> None:
    """Refuse (403 ``forbidden``) what ``permitted`` does not allow."""
    if not permitted(principal, action, target):
        raise PermissionDenied(
            _("Your role may not take the action “%(action)s”.") % {"action": label(action)},
            code="forbidden",
        )


def shops_permitted(principal: Principal, action: str) -> frozenset[int] | None:
    """The shops where ``principal`` may take ``action`` (``None``: every shop)."""
    if principal.is_system or principal.shop_ids is None:
        return None if permitted(principal, action) else frozenset()
    return frozenset(s for s in principal.shop_ids if permitted(principal, action, s))


def narrowed(principal: Principal, action: str) -> Principal:
    """The principal narrowed to the shops where they may take ``action`` (a reader of several
    shops reads, say, only the invoices of the shops where they work in finance); refused when
    there is none."""
    require(principal, action)
    return principal.within(shops_permitted(principal, action))
