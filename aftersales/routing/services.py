"""Every write of the routing: the shop's settings, an agent's capacity, skills and team, going on
and off duty (with the redistribution of the agent's open work), routing one subject, and claiming
one from the queue. The worker's step is ``routing.sweep``.

Concurrency: each write locks the shop's ``RoutingSettings`` row before it locks any subject and
before it counts anybody's load, and keeps both locks to its end; so two of them never count the
same load at once, and a cap holds however many workers and people route at the same moment.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count
from django.utils.translation import gettext as _

from aftersales.catalog.models import Shop
from aftersales.core import clock
from aftersales.core.actors import Principal
from aftersales.core.errors import Conflict, NotFound, PermissionDenied
from aftersales.core.models import Notice
from aftersales.core.notices import notice_build
from aftersales.routing.choices import MANAGER_ROLES, ROUTED_ROLES, Strategy
from aftersales.routing.models import AgentProfile, DutyChange, RoutingSettings, Team
from aftersales.routing.notices import UNASSIGNED
from aftersales.routing.picking import Candidate, Skills, pick
from aftersales.routing.subjects import Work, kinds_of_work, work_for
from aftersales.routing.validation import validated_capacity, validated_skills, validated_strategy
from aftersales.team.models import Membership

# --- who may do what ---------------------------------------------------------------------------


def is_manager(actor: Principal, shop_id: int) -> bool:
    """An administrator or a team lead of the shop (or of the whole installation)."""
    return actor.role_in(shop_id) in MANAGER_ROLES


def require_manager(actor: Principal, shop_id: int) -> None:
    if not is_manager(actor, shop_id):
        raise PermissionDenied(
            _("Only an administrator or a team lead of the shop may change how it assigns work."),
            code="forbidden",
        )


def manages_any_shop(actor: Principal) -> bool:
    """Whether the caller manages the routing of at least one shop (the desk shows them its
    routing pages)."""
    if actor.shop_ids is None:
        return actor.role in MANAGER_ROLES
    return any(is_manager(actor, shop_id) for shop_id in actor.shop_ids)


def _require_routed(actor: Principal) -> None:
    if not any(actor.role_in(shop) in ROUTED_ROLES for shop in actor.shop_ids or ()):
        raise PermissionDenied(
            _("Only agents and team leads go on and off duty."), code="not_an_agent"
        )


# --- the shop's lock, its agents and their loads ----------------------------------------------


def routing_lock(shop_id: int, *, skip_locked: bool = False) -> RoutingSettings | None:
    """The shop's settings row, locked for the rest of the transaction (created with the
    defaults the first time). With ``skip_locked``, ``None`` when another transaction holds it."""
    RoutingSettings.objects.get_or_create(shop_id=shop_id)
    query = RoutingSettings.objects.select_for_update(skip_locked=skip_locked)
    return query.filter(shop_id=shop_id).first()


def routed_members(shop_id: int):
    """The shop's active agents and team leads (the ones work is routed to)."""
    return Membership.objects.filter(
        shop_roles__shop_id=shop_id, shop_roles__role__in=ROUTED_ROLES, user__is_active=True
    )


def loads(shop_id: int, user_ids: Iterable[int]) -> dict[int, int]:
    """Open cases and complaints of the shop that each user holds."""
    user_ids = list(user_ids)
    counted = dict.fromkeys(user_ids, 0)
    if not user_ids:
        return counted
    for work in kinds_of_work():
        rows = (
            work.open(shop_id)
            .filter(**{f"{work.holder_id}__in": user_ids})
            .values(work.holder_id)
            .annotate(n=Count("id"))
            .values_list(work.holder_id, "n")
        )
        for user_id, n in rows:
            counted[user_id] += n
    return counted


def skills_of(profile: AgentProfile) -> Skills:
    return Skills(
        kinds=frozenset(profile.kinds),
        reasons=frozenset(profile.reasons),
        categories=frozenset(profile.categories),
        languages=frozenset(profile.languages),
    )


def candidates(
    shop_id: int, settings: RoutingSettings, *, excluding: Iterable[int] = ()
) -> list[Candidate]:
    """The shop's agents on duty (call under the shop's lock), with their loads now."""
    members = routed_members(shop_id).values_list("user_id", flat=True)
    profiles = list(
        AgentProfile.objects.filter(shop_id=shop_id, on_duty=True, user_id__in=members)
        .exclude(user_id__in=list(excluding))
        .select_related("user")
        .order_by("user_id")
    )
    counted = loads(shop_id, [p.user_id for p in profiles])
    return [
        Candidate(
            user_id=p.user_id,
            username=p.user.get_username(),
            load=counted[p.user_id],
            capacity=settings.default_capacity if p.capacity is None else p.capacity,
            last_turn=p.last_turn,
            skills=skills_of(p),
        )
        for p in profiles
    ]


@dataclass
class HandOut:
    """What one hand-out did: who got which subject, and the subjects nobody had room for."""

    given: list[tuple[object, Candidate]] = field(default_factory=list)
    left: list = field(default_factory=list)


def hand_out(
    work: Work,
    subjects: Sequence,
    pool: list[Candidate],
    settings: RoutingSettings,
    *,
    actor: Principal,
    now: dt.datetime,
) -> HandOut:
    """Give each (locked) subject to the agent the shop's strategy picks from ``pool``, counting
    each assignment in the pool at once; once nobody has room, the rest are ``left``."""
    result = HandOut()
    if not subjects:
        return result
    needs = work.needs(subjects) if settings.strategy == Strategy.SKILLS else {}
    users = {u.pk: u for u in get_user_model().objects.filter(pk__in=[c.user_id for c in pool])}
    for position, subject in enumerate(subjects):
        chosen = pick(settings.strategy, pool, needs.get(subject.pk))
        if chosen is None:
            result.left = list(subjects[position:])
            break
        work.give(subject, users[chosen.user_id], actor=actor, now=now)
        settings.turns += 1
        chosen.took(settings.turns)
        result.given.append((subject, chosen))
    if result.given:
        _took_turns(settings, {c.user_id: c.last_turn for _subject, c in result.given}, now)
    return result


def _took_turns(settings: RoutingSettings, turns: dict[int, int], now: dt.datetime) -> None:
    settings.save(update_fields=["turns"])
    for user_id, turn in turns.items():
        AgentProfile.objects.filter(shop_id=settings.shop_id, user_id=user_id).update(
            last_turn=turn, last_assigned_at=now
        )


def _locked_subject(work: Work, actor: Principal, subject_id: int):
    subject = actor.scope(work.locked()).filter(pk=subject_id).first()
    if subject is None:
        raise NotFound(_("No such record."), code=f"{work.subject_type}_not_found")
    if not work.is_open(subject):
        raise Conflict(_("It is finished: nobody needs to work it."), code="subject_finished")
    return subject


# --- settings ----------------------------------------------------------------------------------


@transaction.atomic
def routing_settings_set(
    *,
    actor: Principal,
    shop: Shop,
    strategy: str | None = None,
    default_capacity: int | None = None,
    auto_assign: bool | None = None,
) -> RoutingSettings:
    """Change how a shop assigns its work (administrators and its team leads)."""
    require_manager(actor, shop.id)
    settings = routing_lock(shop.id)
    if strategy is not None:
        settings.strategy = validated_strategy(strategy)
    if default_capacity is not None:
        settings.default_capacity = validated_capacity(default_capacity, "default_capacity")
    if auto_assign is not None:
        settings.auto_assign = auto_assign
    settings.updated_at = clock.now()
    settings.save()
    return settings


def _member(shop: Shop, username: str):
    member = routed_members(shop.id).filter(user__username=username).select_related("user").first()
    if member is None:
        raise NotFound(
            _("No agent called %(name)s works for this shop.") % {"name": username},
            code="agent_not_found",
        )
    return member.user


@transaction.atomic
def routing_agent_set(
    *,
    actor: Principal,
    shop: Shop,
    username: str,
    capacity: int | None = None,
    clear_capacity: bool = False,
    skills: dict | None = None,
    team: str | None = None,
    clear_team: bool = False,
) -> AgentProfile:
    """An agent's capacity in the shop (``clear_capacity``: back to the shop's default), skills
    (each list replaces the one before; every value must be one of its choices) and team (the
    name of one of the shop's teams; ``clear_team``: no team)."""
    require_manager(actor, shop.id)
    routing_lock(shop.id)
    user = _member(shop, username)
    profile, _created = AgentProfile.objects.get_or_create(shop=shop, user=user)
    if clear_capacity:
        profile.capacity = None
    elif capacity is not None:
        profile.capacity = validated_capacity(capacity, "capacity")
    for name, values in validated_skills(shop, skills or {}).items():
        setattr(profile, name, values)
    if clear_team:
        profile.team = None
    elif team is not None:
        profile.team = team_named(shop.id, team, field="team")
    profile.save()
    return profile


def team_named(shop_id: int, name: str, *, lock: bool = False, **extra) -> Team:
    """The shop's team called ``name`` (spaces around it do not count), locked with ``lock``;
    404 ``team_not_found`` (``extra``: more fields of the refusal, such as ``field``)."""
    teams = Team.objects.select_for_update() if lock else Team.objects.all()
    found = teams.filter(shop_id=shop_id, name=name.strip()).first()
    if found is None:
        raise NotFound(
            _("The shop has no team called %(name)s.") % {"name": name.strip()},
            code="team_not_found",
            **extra,
        )
    return found


# --- routing one subject, claiming -------------------------------------------------------------


@transaction.atomic
def routing_assign(*, subject, actor: Principal) -> str:
    """Give an unassigned open case or complaint to the agent the shop's strategy picks; the
    agent's user name. Refused (409) when somebody holds it or nobody on duty has room."""
    if not (actor.is_staff or actor.is_system):
        raise PermissionDenied(_("Only the shop's staff may do this."), code="forbidden")
    work = work_for(subject)
    settings = routing_lock(subject.shop_id)
    subject = _locked_subject(work, actor, subject.pk)
    if getattr(subject, work.holder_id) is not None:
        raise Conflict(
            _("%(name)s works on it already.") % {"name": getattr(subject, work.holder)},
            code="already_assigned",
        )
    pool = candidates(subject.shop_id, settings)
    result = hand_out(work, [subject], pool, settings, actor=actor, now=clock.now())
    if not result.given:
        raise Conflict(_("No agent on duty has room for more work."), code="nobody_available")
    return result.given[0][1].username


@transaction.atomic
def routing_claim(*, actor: Principal, subject) -> None:
    """Take a case or complaint from the queue. Somebody else's is refused (409) unless the
    caller is an administrator or a team lead of the shop; an agent at their cap is refused."""
    if actor.role_in(subject.shop_id) not in ROUTED_ROLES | MANAGER_ROLES:
        raise PermissionDenied(
            _("Only agents and team leads take work from the queue."), code="forbidden"
        )
    work = work_for(subject)
    settings = routing_lock(subject.shop_id)
    subject = _locked_subject(work, actor, subject.pk)
    holder_id = getattr(subject, work.holder_id)
    if holder_id == actor.user_id:
        return
    manager = is_manager(actor, subject.shop_id)
    if holder_id is not None and not manager:
        raise Conflict(
            _("%(name)s works on it already; ask a team lead to hand it over.")
            % {"name": getattr(subject, work.holder)},
            code="already_assigned",
        )
    if not manager:
        profile = AgentProfile.objects.filter(
            shop_id=subject.shop_id, user_id=actor.user_id
        ).first()
        cap = settings.default_capacity
        if profile is not None and profile.capacity is not None:
            cap = profile.capacity
        if loads(subject.shop_id, [actor.user_id])[actor.user_id] >= cap:
            raise Conflict(
                _("You hold %(cap)s open cases and complaints, your limit: finish one first.")
                % {"cap": cap},
                code="at_capacity",
            )
    now = clock.now()
    user = get_user_model().objects.get(pk=actor.user_id)
    work.give(subject, user, actor=actor, now=now)
    settings.turns += 1
    _took_turns(settings, {actor.user_id: settings.turns}, now)


# --- duty --------------------------------------------------------------------------------------


def _duty_shops(actor: Principal, codes: Sequence[str] | None) -> list[int]:
    if not actor.shop_ids:
        raise PermissionDenied(_("You work for no shop."), code="not_an_agent")
    # Only the shops where the caller is routed work (an agent or a lead there).
    routed = [shop for shop in actor.shop_ids if actor.role_in(shop) in ROUTED_ROLES]
    if codes is None:
        return sorted(routed)
    found = dict(Shop.objects.filter(code__in=codes, id__in=routed).values_list("code", "id"))
    missing = [code for code in codes if code not in found]
    if missing:
        raise NotFound(
            _("No shop %(code)s.") % {"code": missing[0]}, code="shop_not_found", field="shops"
        )
    return sorted(set(found.values()))


@transaction.atomic
def routing_duty_set(
    *, actor: Principal, on_duty: bool, shops: Sequence[str] | None = None
) -> list[DutyChange]:
    """Put the caller on or off duty in each of their shops (or the shops with these codes).
    Going off duty, their open cases and complaints go to colleagues on duty by the shop's
    strategy; what nobody has room for is left to nobody, with a notice to the team lead. One
    ``DutyChange`` per shop whose duty changed."""
    _require_routed(actor)
    now = clock.now()
    changes = []
    for shop_id in _duty_shops(actor, shops):
        settings = routing_lock(shop_id)
        profile, _created = AgentProfile.objects.get_or_create(
            shop_id=shop_id, user_id=actor.user_id
        )
        if profile.on_duty == on_duty:
            continue
        profile.on_duty = on_duty
        profile.save(update_fields=["on_duty"])
        change = DutyChange(
            shop_id=shop_id,
            user_id=actor.user_id,
            on_duty=on_duty,
            by_id=actor.user_id,
            by_name=actor.username,
            at=now,
        )
        if not on_duty:
            change.reassigned, change.unassigned = _redistribute(shop_id, settings, actor, now)
        change.save()
        changes.append(change)
    return changes


def _redistribute(
    shop_id: int, settings: RoutingSettings, actor: Principal, now: dt.datetime
) -> tuple[int, int]:
    pool = candidates(shop_id, settings, excluding=[actor.user_id])
    given = left = 0
    for work in kinds_of_work():
        held = list(
            work.locked()
            .filter(id__in=work.open(shop_id).filter(**{work.holder_id: actor.user_id}))
            .order_by("id")
        )
        result = hand_out(work, held, pool, settings, actor=actor, now=now)
        for subject in result.left:
            work.give(subject, None, actor=actor, now=now)
        Notice.objects.bulk_create(
            [notice_build(s, UNASSIGNED, {"agent": actor.username}) for s in result.left]
        )
        given += len(result.given)
        left += len(result.left)
    return given, left
