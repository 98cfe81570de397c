"""Every write of the service levels: a shop's business hours and targets (administrators; the
shop's open clocks are recomputed in the same transaction), and the holiday import."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from django.db import transaction
from django.utils.dateparse import parse_duration
from django.utils.translation import gettext as _

from aftersales.catalog.models import Shop
from aftersales.core.actors import Principal, Role
from aftersales.core.errors import InvalidInput, PermissionDenied
from aftersales.sla.hours import HoursIn
from aftersales.sla.models import BusinessHours, Holiday, Target
from aftersales.sla.refresh import sla_refresh
from aftersales.sla.schemas import TargetIn, TargetsIn

PRESETS = Path(__file__).resolve().parent / "presets"


@cache
def preset(name: str) -> dict:
    """A preset's data file (``sla/presets/<name>.json``) with its sources."""
    if name not in preset_names():
        raise InvalidInput(
            _("No service-level preset %(name)s; choose one of %(names)s.")
            % {"name": name, "names": ", ".join(preset_names())},
            code="unknown_preset",
            field="preset",
        )
    return json.loads((PRESETS / f"{name}.json").read_text(encoding="utf-8"))


@cache
def preset_names() -> tuple[str, ...]:
    return tuple(sorted(path.stem for path in PRESETS.glob("*.json")))


def preset_targets(name: str) -> list[TargetIn]:
    return [
        TargetIn.model_validate(
            {
                key: parse_duration(value) if key in DURATIONS and value else value
                for key, value in row.items()
            }
        )
        for row in preset(name)["targets"]
    ]


DURATIONS = ("first_response", "next_response", "resolution", "warn_before")


def _admin_only(actor: Principal, shop: Shop) -> None:
    if not (actor.role == Role.ADMIN or actor.is_system) or not actor.can_see_shop(shop.pk):
        raise PermissionDenied(
            _("Only administrators change business hours and service levels."), code="forbidden"
        )


@transaction.atomic
def business_hours_set(*, actor: Principal, shop: Shop, hours: HoursIn) -> BusinessHours:
    """Set a shop's business hours; its open clocks are recomputed with them."""
    _admin_only(actor, shop)
    if not hours.windows:
        raise InvalidInput(
            _("Give at least one working window (every day 00:00–24:00 for 24/7)."),
            code="no_working_hours",
            field="windows",
        )
    Shop.objects.select_for_update().filter(pk=shop.pk).first()
    row, _created = BusinessHours.objects.update_or_create(
        shop=shop,
        defaults={
            "region": hours.region,
            "windows": hours.windows,
            "closed_dates": [d.isoformat() for d in hours.closed_dates],
            "working_dates": [d.isoformat() for d in hours.working_dates],
        },
    )
    sla_refresh(shop=shop)
    return row


def _key(target: TargetIn) -> tuple[str, str, str]:
    return (target.subject_type, target.kind, target.priority or "")


@transaction.atomic
def targets_set(*, actor: Principal, shop: Shop, data: TargetsIn) -> list[Target]:
    """Replace a shop's targets: the preset's (if one is named) overridden by ``data.targets``
    of the same subject type, kind and priority. Open clocks are recomputed."""
    _admin_only(actor, shop)
    Shop.objects.select_for_update().filter(pk=shop.pk).first()
    chosen: dict[tuple[str, str, str], TargetIn] = {}
    if data.preset:
        chosen.update({_key(t): t for t in preset_targets(data.preset)})
    for target in data.targets:
        if _key(target) in {_key(t) for t in data.targets if t is not target}:
            raise InvalidInput(
                _("Each subject type, kind and priority may have one target."),
                code="duplicate_target",
                field="targets",
            )
        chosen[_key(target)] = target
    for target in chosen.values():
        durations = (target.first_response, target.next_response, target.resolution)
        if not any(durations):
            raise InvalidInput(
                _(
                    "A target measures at least one of the first response, the reply or the "
                    "resolution."
                ),
                code="empty_target",
                field="targets",
            )
    Target.objects.filter(shop=shop).delete()
    rows = Target.objects.bulk_create(
        Target(
            shop=shop,
            subject_type=t.subject_type,
            kind=t.kind,
            priority=t.priority or "",
            first_response=t.first_response,
            next_response=t.next_response,
            resolution=t.resolution,
            warn_before=t.warn_before,
            business_hours_only=t.business_hours_only,
            preset=data.preset or "",
        )
        for t in chosen.values()
    )
    sla_refresh(shop=shop)
    return rows


@transaction.atomic
def holidays_import(*, country: str, year: int) -> int:
    """Store a country's public holidays of a year from the ``holidays`` package (again: the
    year's rows are replaced, so a corrected package corrects them). Returns how many."""
    import holidays

    country = country.upper()
    if country == "CN":
        raise InvalidInput(
            _("China's holidays and adjusted working days need no import."), code="no_import"
        )
    try:
        found = holidays.country_holidays(country, years=year)
    except NotImplementedError:
        raise InvalidInput(
            _("The holidays package knows no country %(country)s.") % {"country": country},
            code="unknown_country",
        ) from None
    Holiday.objects.filter(country=country, date__year=year).delete()
    Holiday.objects.bulk_create(
        Holiday(country=country, date=day, name=str(name)[:200])
        for day, name in sorted(found.items())
    )
    return len(found)
