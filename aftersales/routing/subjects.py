"""The kinds of work the routing hands out, each written through its own assignment mechanism so
the timeline, the events and the notices stay what they are when a person assigns:

- a case: ``team.workbench.assign`` (its ``assignee``);
- a complaint: the ``assign`` row of the complaint's own table (its ``owner``; the table queues
  its "assigned" notice). Complaints are reached through the kernel's registry, not imported:
  the routing sits beside the complaints app, not above it.

The worker assigns as the actor ``system``, which neither the workbench nor the complaint table
lets in (both are for the shop's staff): for it the same writes are made here, one timeline
event each with the same action and data, through the kernel's own steps.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from aftersales.cases.models import CaseLine
from aftersales.catalog.models import OrderLine
from aftersales.core.actors import Principal
from aftersales.core.gate import apply, event_for, record, transition
from aftersales.core.lifecycle import Lifecycle, lifecycle_for, lifecycles
from aftersales.core.models import Notice
from aftersales.routing.picking import Need
from aftersales.team import workbench

ASSIGN = workbench.ASSIGN  # the timeline's action of an assignment, for every kind of work


@dataclass(frozen=True)
class Work:
    """One kind of work: its lifecycle's subject type and the column that names who holds it."""

    subject_type: str
    holder: str

    @property
    def lifecycle(self) -> Lifecycle:
        return lifecycle_for(self.subject_type)

    @property
    def holder_id(self) -> str:
        return f"{self.holder}_id"

    def open(self, shop_id: int) -> QuerySet:
        """The shop's work that is not finished."""
        lifecycle = self.lifecycle
        return lifecycle.model.objects.filter(shop_id=shop_id).exclude(
            state__in=lifecycle.final_states
        )

    def locked(self, *, skip_locked: bool = False) -> QuerySet:
        """Rows of this kind locked for the transaction: only the row itself (what the
        kernel's effects read is loaded by the writes that need it)."""
        return self.lifecycle.model.objects.select_for_update(skip_locked=skip_locked, of=("self",))

    def is_open(self, subject) -> bool:
        return subject.state not in self.lifecycle.final_states

    def needs(self, subjects: Sequence) -> dict[int, Need]:
        """What each subject asks of its agent: its kind and reason (cases), the categories of
        the products it is about, and the customer's language; a few queries for the batch."""
        if not subjects:
            return {}
        categories: dict[int, set[str]] = defaultdict(set)
        ids = [s.pk for s in subjects]
        if self.subject_type == "case":
            rows = CaseLine.objects.filter(case_id__in=ids).values_list(
                "case_id", "order_line__sku__product__category"
            )
        else:
            by_order = defaultdict(list)
            for subject in subjects:
                if getattr(subject, "order_id", None):
                    by_order[subject.order_id].append(subject.pk)
            rows = [
                (subject_id, category)
                for order_id, category in OrderLine.objects.filter(
                    order_id__in=by_order
                ).values_list("order_id", "sku__product__category")
                for subject_id in by_order[order_id]
            ]
        for subject_id, category in rows:
            if category:
                categories[subject_id].add(category)
        languages = dict(
            self.lifecycle.model.objects.filter(pk__in=ids).values_list("pk", "customer__language")
        )
        return {
            s.pk: Need(
                kind=getattr(s, "kind", ""),
                reason=getattr(s, "reason", ""),
                categories=frozenset(categories[s.pk]),
                language=languages.get(s.pk) or "",
            )
            for s in subjects
        }

    def give(
        self, subject, user: AbstractBaseUser | None, *, actor: Principal, now: dt.datetime
    ) -> None:
        """Hand the (locked) subject to ``user`` (``None``: to nobody) on behalf of ``actor``."""
        username = user.get_username() if user is not None else None
        if self.subject_type == "case":
            if actor.is_staff:
                workbench.assign(
                    actor=actor, subject_type="case", subject_ids=[subject.pk], username=username
                )
            else:
                self._write(subject, user, actor, now, {"assignee": username or ""})
            return
        if user is None:
            previous = getattr(subject, self.holder).get_username() if subject.owner_id else ""
            self._write(subject, None, actor, now, {"owner": "", "previous_owner": previous})
        elif actor.is_staff:
            transition(
                self.lifecycle,
                subject_id=subject.pk,
                action=ASSIGN,
                actor=actor,
                data={"owner": username},
            )
        else:
            self._system_move(subject, username, actor, now)

    def _write(self, subject, user, actor: Principal, now: dt.datetime, data: dict) -> None:
        setattr(subject, self.holder, user)
        fields = [self.holder]
        if hasattr(subject, "updated_at"):
            subject.updated_at = now
            fields.append("updated_at")
        subject.save(update_fields=fields)
        event_for(
            subject, actor=actor, action=ASSIGN, from_state=subject.state, data=data, now=now
        ).save()

    def _system_move(self, subject, username: str, actor: Principal, now: dt.datetime) -> None:
        # The table's own assign row (its effect checks the owner and queues its notice), taken
        # by the system the way the deadline sweep takes its rows.
        lifecycle = self.lifecycle
        move = lifecycle.index[(subject.state, ASSIGN)]
        applied = apply(
            lifecycle, subject, move, actor=actor, input=move.input(owner=username), now=now
        )
        if applied.changed:
            subject.save(update_fields=applied.changed)
        event, notices = record(subject, applied)
        event.save()
        Notice.objects.bulk_create(notices)


CASES = Work("case", "assignee")
COMPLAINTS = Work("complaint", "owner")


def kinds_of_work() -> tuple[Work, ...]:
    """The kinds of work whose lifecycle is registered (complaints once their app is loaded)."""
    registered = {lifecycle.subject_type for lifecycle in lifecycles()}
    return tuple(work for work in (CASES, COMPLAINTS) if work.subject_type in registered)


def work_for(subject) -> Work:
    for work in kinds_of_work():
        if isinstance(subject, work.lifecycle.model):
            return work
    raise TypeError(f"{type(subject).__name__} is not routed")
