"""The jury (小法庭): the platform may send a dispute to ``jury.size`` users drawn at random
from those eligible, who vote within ``jury.vote_window``; the first side to ``jury.majority``
votes wins and decides the dispute through the platform's own decision path (the buyer's side: a
refund in full; the shop's: the claim rejected). Short of it when the window ends, the dispute
goes back to the platform (``jury.short_vote``: ``platform``), or the side with more votes wins
(``plurality``; a tie or no vote still goes back to the platform).

Who may sit: a customer account at least ``jury.min_account_days`` old with at least
``jury.min_trades`` signed orders, who is not a party to the dispute and has no tie to its shop
(is not one of its customers; staff are never jurors). The pool is bounded: at most
``POOL_PER_SEAT`` × ``jury.size`` eligible users, taken in id order from an id the seed chooses
(wrapping round to the lowest ids), so a draw reads a slice of the users through their primary
key, never all of them, and every eligible user may be reached. The pool is stored in id order
with the seed; the draw is ``random.Random(seed).sample(pool, size)``, so the same pool and seed
give the same jury again (``redraw``).
"""

from __future__ import annotations

import datetime as dt
import random
import re
import secrets

from django.contrib.auth import get_user_model
from django.db.models import Count, Max, Min, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from aftersales.catalog.models import Order
from aftersales.core.actors import Role
from aftersales.core.errors import Conflict, Ineligible
from aftersales.core.lifecycle import Context
from aftersales.disputes import rules
from aftersales.disputes.choices import DisputeState, Outcome, Side
from aftersales.disputes.models import Juror, JuryDraw
from aftersales.disputes.moves.deciding import check_autonomy, make_decision


def jury_rules(dispute) -> dict:
    return rules.section(dispute.policy, "jury")


# A pool holds at most this many eligible users per seat of the jury.
POOL_PER_SEAT = 10


def _eligible(dispute, now: dt.datetime):
    """The users who may sit on the dispute's jury (a query, not yet read)."""
    found = jury_rules(dispute)
    joined_before = now - dt.timedelta(days=found["min_account_days"])
    users = (
        get_user_model()
        .objects.filter(
            is_active=True,
            membership__role=Role.CUSTOMER,
            date_joined__lte=joined_before,
        )
        .exclude(membership__customer__shop_id=dispute.shop_id)
        .exclude(membership__customer_id=dispute.customer_id)
    )
    if found["min_trades"] > 0:
        # A count per candidate row (through the orders' customer index), not a grouping of
        # every user: the id-ordered walk stops once the pool is full.
        trades = (
            Order.objects.filter(
                customer_id=OuterRef("membership__customer_id"), signed_at__isnull=False
            )
            .order_by()
            .values("customer_id")
            .annotate(n=Count("id"))
            .values("n")[:1]
        )
        users = users.annotate(trades=Coalesce(Subquery(trades), 0)).filter(
            trades__gte=found["min_trades"]
        )
    return users


def eligible_pool(dispute, now: dt.datetime, seed: str) -> list[int]:
    """At most ``POOL_PER_SEAT`` × ``jury.size`` ids of users who may sit, in id order: read
    from an id the seed chooses upwards, then from the lowest ids up to it."""
    limit = POOL_PER_SEAT * jury_rules(dispute)["size"]
    users = _eligible(dispute, now)
    bounds = get_user_model().objects.aggregate(low=Min("id"), high=Max("id"))
    if bounds["low"] is None:
        return []
    start = random.Random(int(seed)).randint(bounds["low"], bounds["high"])
    upper = list(users.filter(id__gte=start).order_by("id").values_list("id", flat=True)[:limit])
    lower = list(
        users.filter(id__lt=start).order_by("id").values_list("id", flat=True)[: limit - len(upper)]
    )
    return sorted(lower + upper)


def redraw(pool: list[int], seed: str, size: int) -> list[int]:
    """The jurors a pool and a seed give, in the order drawn."""
    return random.Random(int(seed)).sample(pool, size)


def current_draw(dispute) -> JuryDraw | None:
    return JuryDraw.objects.filter(dispute=dispute).order_by("-id").first()


def draw(dispute, ctx: Context, due_at: dt.datetime) -> JuryDraw:
    found = jury_rules(dispute)
    seed = str(secrets.randbits(63))
    pool = eligible_pool(dispute, ctx.now, seed)
    if len(pool) < found["size"]:
        raise Ineligible(
            _("Only %(count)s users may sit on this jury; it needs %(size)s.")
            % {"count": len(pool), "size": found["size"]},
            code="jury_too_small",
        )
    chosen = redraw(pool, seed, found["size"])
    jury = JuryDraw.objects.create(
        dispute=dispute,
        seed=seed,
        pool=pool,
        size=found["size"],
        majority=found["majority"],
        drawn_at=ctx.now,
        due_at=due_at,
    )
    Juror.objects.bulk_create(
        Juror(draw=jury, user_id=user_id, position=position)
        for position, user_id in enumerate(chosen)
    )
    return jury


def tally(jury: JuryDraw) -> dict[str, int]:
    counts = dict(
        jury.jurors.exclude(vote="").values_list("vote").annotate(n=Count("id")).order_by()
    )
    return {Side.BUYER: counts.get(Side.BUYER, 0), Side.SHOP: counts.get(Side.SHOP, 0)}


def winner(jury: JuryDraw) -> str:
    votes = tally(jury)
    return next((side for side, count in votes.items() if count >= jury.majority), "")


def plurality(votes: dict[str, int]) -> str:
    """The side with more votes ("" on a tie, or when nobody voted)."""
    buyer, shop = votes[Side.BUYER], votes[Side.SHOP]
    if buyer == shop:
        return ""
    return Side.BUYER if buyer > shop else Side.SHOP


def close_round(dispute, now: dt.datetime) -> None:
    """Nobody votes on a round that ended (the dispute withdrawn, say)."""
    JuryDraw.objects.filter(dispute=dispute, result="", due_at__gt=now).update(due_at=now)


# --- the moves --------------------------------------------------------------------------------


def send_to_jury(dispute, ctx: Context) -> None:
    # The jury may decide for the buyer (a refund in full): not where the shop's autonomy keeps
    # the refund from the platform.
    check_autonomy(dispute, Outcome.REFUND_FULL)
    due_at = ctx.lifecycle.deadline_after(
        dispute, ctx.now, rules.timeout(dispute.policy, "vote_window")
    )
    jury = draw(dispute, ctx, due_at)
    ctx.event_data.update(
        seed=jury.seed, size=jury.size, majority=jury.majority, pool=len(jury.pool)
    )
    ctx.notices.extend(("dispute_jury", "dispute_jury_shop"))


JURY_REASON = gettext_noop(
    "Decided by the jury: %(buyer)s votes for the buyer, %(shop)s for the shop."
)


def jury_decide(dispute, ctx: Context) -> None:
    jury = current_draw(dispute)
    side = winner(jury) if jury is not None else ""
    if not side:
        raise Conflict(_("The jury has no majority yet."), code="no_majority")
    _decide_for(dispute, ctx, jury, side)


def _decide_for(dispute, ctx: Context, jury: JuryDraw, side: str) -> None:
    votes = tally(jury)
    make_decision(
        dispute,
        ctx,
        outcome=Outcome.REFUND_FULL if side == Side.BUYER else Outcome.REJECT,
        amount=None,
        reason=_(JURY_REASON) % {"buyer": votes[Side.BUYER], "shop": votes[Side.SHOP]},
        by_jury=True,
        votes=votes,
    )
    jury.result = side
    jury.save(update_fields=["result"])
    ctx.event_data.update(side=side, votes=votes)
    ctx.notices.extend(("dispute_decided", "dispute_decided_shop"))


def jury_expire(dispute, ctx: Context) -> None:
    """The vote ended short of a majority: back to the platform, unless the policy's
    ``jury.short_vote`` is ``plurality`` and one side has more votes — then that side wins as
    a majority would (a tie, or no vote, still goes back to the platform)."""
    jury = current_draw(dispute)
    if jury is None:
        return
    votes = tally(jury)
    ctx.event_data["votes"] = votes
    rule = jury_rules(dispute).get("short_vote", "platform")
    ctx.event_data["short_vote"] = rule
    side = plurality(votes) if rule == "plurality" else ""
    if side:
        _decide_for(dispute, ctx, jury, side)


def after_the_vote(dispute) -> str:
    """Where a vote that ran out leaves the dispute: decided by the plurality, or deciding."""
    return DisputeState.DECIDED if dispute.decision_id is not None else DisputeState.DECIDING


# --- what a juror reads ---------------------------------------------------------------------

# Mobile numbers (with or without +86 and separators) and landlines with their area code.
PHONE = re.compile(
    r"(?<!\d)(?:\+?86[- ]?)?1\d{2}[- ]?\d{4}[- ]?\d{4}(?!\d)|(?<!\d)0\d{2,3}-\d{7,8}(?!\d)"
)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")


def anonymise(text: str, dispute) -> str:
    """The text without the parties' names, numbers, phone numbers and e-mail addresses."""
    words = [
        (dispute.customer.name, "buyer"),
        (dispute.customer.phone, "buyer"),
        (dispute.customer.external_id, "buyer"),
        (dispute.shop.name, "shop"),
        (dispute.shop.code, "shop"),
    ]
    # Longest first, through placeholders, so that no replacement is replaced again.
    words = sorted((w for w in words if w[0] and len(w[0]) > 1), key=lambda w: -len(w[0]))
    for index, (word, _side) in enumerate(words):
        text = text.replace(word, f"\x00{index}\x00")
    text = PHONE.sub("***", EMAIL.sub("***", text))
    shown = {"buyer": _("[buyer]"), "shop": _("[shop]")}
    for index, (_word, side) in enumerate(words):
        text = text.replace(f"\x00{index}\x00", shown[side])
    return text
