"""The SLA clocks of one subject, derived from its timeline: pure arithmetic over its events, its
lifecycle's table, its target and its shop's calendar (no database).

- The first response runs from the opening to the first later event by a staff member that the
  customer sees: a message (``message``) or a person's move by staff in the lifecycle's table
  (approve, reject, …; not the moves the lifecycle lists as unseen, such as assigning an owner).
- The reply to a customer's message (``customer_message``, written by the inbox) runs from that
  message to the next such staff event; each message that finds no reply running opens a round.
  A message while the first response is still owed opens none: that response answers it.
- The resolution runs from the opening to the first final state.
- Time counts in the calendar only; the reply and the resolution do not count while the shop
  waits on the customer (states whose person moves are all the customer's, or the lifecycle's
  ``sla_waiting_states``).
- A first response or a reply that the subject's end makes moot before its due time is no
  round at all (a customer who withdraws in the first minute leaves nothing to measure).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from aftersales.core.actors import STAFF_ROLES, SYSTEM_ROLE, Role
from aftersales.core.lifecycle import Lifecycle
from aftersales.sla.choices import CUSTOMER_MESSAGE, STAFF_MESSAGE, ClockState, Metric

ZERO = dt.timedelta(0)


@dataclass(frozen=True)
class Happening:
    """What the clocks read of one event."""

    id: int
    at: dt.datetime
    action: str
    role: str
    to_state: str


@dataclass
class Measure:
    """One metric of one subject as the timeline has it now."""

    metric: str
    target: dt.timedelta
    started_at: dt.datetime
    state: str
    due_at: dt.datetime | None = None
    warn_at: dt.datetime | None = None
    met_at: dt.datetime | None = None
    breached_at: dt.datetime | None = None
    rounds: int = 1
    rounds_met: int = 0


@dataclass(frozen=True)
class Goals:
    """The durations of a subject's target (``None``: not measured)."""

    first_response: dt.timedelta | None
    next_response: dt.timedelta | None
    resolution: dt.timedelta | None
    warn_before: dt.timedelta | None


def waiting_states(lifecycle: Lifecycle) -> frozenset[str]:
    """The states where the shop waits on the customer."""
    if lifecycle.sla_waiting_states is not None:
        return lifecycle.sla_waiting_states
    found = set()
    for state, moves in lifecycle.by_state.items():
        people = [m for m in moves if m.roles - {SYSTEM_ROLE}]
        if state is not None and people and all(m.roles <= {Role.CUSTOMER} for m in people):
            found.add(state)
    return frozenset(found)


def response_actions(lifecycle: Lifecycle) -> frozenset[str]:
    """The events by staff that answer the customer."""
    moves = {
        m.action
        for m in lifecycle.moves
        if m.source is not None
        and m.roles & STAFF_ROLES
        and m.action not in lifecycle.sla_unseen_actions
    }
    return frozenset(moves | {STAFF_MESSAGE})


def measure(
    calendar,
    *,
    metric: str,
    target: dt.timedelta,
    warn_before: dt.timedelta | None,
    start: dt.datetime,
    end: dt.datetime | None,
    pauses: Sequence[tuple[dt.datetime, dt.datetime | None]],
    now: dt.datetime,
) -> Measure:
    """Where a clock stands: counted from ``start`` in ``calendar``, except during ``pauses``,
    until ``end`` (met) or now. The warning and the due moment are where the counted time reaches
    ``target - warn_before`` and ``target``; unknown while paused short of them."""
    segments: list[tuple[dt.datetime, dt.datetime | None]] = []
    cursor: dt.datetime | None = start
    for pause_start, pause_end in pauses:
        if cursor is None or (pause_end is not None and pause_end <= cursor):
            continue
        if end is not None and pause_start >= end:
            break
        if pause_start > cursor:
            segments.append((cursor, pause_start))
        cursor = None if pause_end is None else max(cursor, pause_end)
    paused = cursor is None
    if cursor is not None and (end is None or cursor < end):
        segments.append((cursor, end))
    thresholds = {"due": target}
    if warn_before:
        thresholds["warn"] = max(target - warn_before, ZERO)
    crossed: dict[str, dt.datetime] = {}
    consumed = ZERO
    for begin, finish in segments:
        span = calendar.elapsed(begin, finish) if finish is not None else None
        for name, amount in thresholds.items():
            # The due time is a moment on the wall clock (18:00): an answer after it is late,
            # even when the shop was closed in between, as the sweep told it.
            if name not in crossed and (span is None or consumed + span >= amount):
                # A shop that never opens again (every day closed) leaves the clock never due.
                with contextlib.suppress(ValueError):
                    crossed[name] = calendar.add(begin, max(amount - consumed, ZERO))
        if span is not None:
            consumed += span
    result = Measure(
        metric=metric,
        target=target,
        started_at=start,
        state=ClockState.RUNNING,
        due_at=crossed.get("due"),
        warn_at=crossed.get("warn"),
    )
    if end is not None:
        result.met_at = end
        if result.due_at is not None and result.due_at < end:
            result.state, result.breached_at = ClockState.BREACHED, result.due_at
        else:
            result.state, result.rounds_met = ClockState.MET, 1
    elif result.due_at is not None and result.due_at <= now:
        result.state, result.breached_at = ClockState.BREACHED, result.due_at
    elif paused:
        result.state = ClockState.PAUSED
    elif result.warn_at is not None and result.warn_at <= now:
        result.state = ClockState.WARNED
    return result


def _pauses(
    events: Sequence[Happening], waiting: frozenset[str]
) -> list[tuple[dt.datetime, dt.datetime | None]]:
    pauses: list[tuple[dt.datetime, dt.datetime | None]] = []
    since: dt.datetime | None = None
    for event in events:
        if not event.to_state:
            continue
        if event.to_state in waiting and since is None:
            since = event.at
        elif event.to_state not in waiting and since is not None:
            pauses.append((since, event.at))
            since = None
    if since is not None:
        pauses.append((since, None))
    return pauses


def clocks_of(
    events: Sequence[Happening],
    *,
    lifecycle: Lifecycle,
    goals: Goals,
    calendar,
    now: dt.datetime,
) -> list[Measure]:
    """Every metric of one subject from its events (oldest first, the clocks' own excluded)."""
    if not events:
        return []
    opened_at = events[0].at
    answers = response_actions(lifecycle)
    ended_at = next((e.at for e in events if e.to_state in lifecycle.final_states), None)
    pauses = _pauses(events, waiting_states(lifecycle))
    responses = [e.at for e in events[1:] if e.role in STAFF_ROLES and e.action in answers]
    found: list[Measure] = []
    warn = goals.warn_before

    def moot_unless_breached(start: dt.datetime, target: dt.timedelta, metric: str, pause):
        # The subject ended before the answer: a round only if it was already overdue then.
        assert ended_at is not None
        result = measure(
            calendar,
            metric=metric,
            target=target,
            warn_before=warn,
            start=start,
            end=None,
            pauses=pause,
            now=ended_at,
        )
        return result if result.state == ClockState.BREACHED else None

    first_answer = responses[0] if responses else None
    if goals.first_response is not None:
        if first_answer is None and ended_at is not None:
            first = moot_unless_breached(opened_at, goals.first_response, Metric.FIRST_RESPONSE, ())
        else:
            first = measure(
                calendar,
                metric=Metric.FIRST_RESPONSE,
                target=goals.first_response,
                warn_before=warn,
                start=opened_at,
                end=first_answer,
                pauses=(),
                now=now,
            )
        if first is not None:
            found.append(first)

    if goals.next_response is not None and first_answer is not None:
        rounds: list[Measure] = []
        open_since: dt.datetime | None = None
        for event in events:
            if event.at < first_answer or (ended_at is not None and event.at > ended_at):
                continue
            if event.action == CUSTOMER_MESSAGE and event.role == Role.CUSTOMER:
                open_since = open_since or event.at
            elif open_since is not None and event.role in STAFF_ROLES and event.action in answers:
                rounds.append(
                    measure(
                        calendar,
                        metric=Metric.NEXT_RESPONSE,
                        target=goals.next_response,
                        warn_before=warn,
                        start=open_since,
                        end=event.at,
                        pauses=pauses,
                        now=now,
                    )
                )
                open_since = None
        if open_since is not None:
            if ended_at is None:
                rounds.append(
                    measure(
                        calendar,
                        metric=Metric.NEXT_RESPONSE,
                        target=goals.next_response,
                        warn_before=warn,
                        start=open_since,
                        end=None,
                        pauses=pauses,
                        now=now,
                    )
                )
            else:
                last = moot_unless_breached(
                    open_since, goals.next_response, Metric.NEXT_RESPONSE, pauses
                )
                if last is not None:
                    rounds.append(last)
        if rounds:
            latest = rounds[-1]
            latest.rounds = len(rounds)
            latest.rounds_met = sum(r.rounds_met for r in rounds)
            found.append(latest)

    if goals.resolution is not None:
        found.append(
            measure(
                calendar,
                metric=Metric.RESOLUTION,
                target=goals.resolution,
                warn_before=warn,
                start=opened_at,
                end=ended_at,
                pauses=pauses,
                now=now,
            )
        )
    return found
