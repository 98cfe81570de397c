"""The worker rests between rounds for its interval, or until the soonest deadline of any
lifecycle when that falls due sooner: a deadline then waits for a round in progress at most."""

from __future__ import annotations

import datetime as dt
import io

from django.db.models import Q

from aftersales.cases.models import Case
from aftersales.complaints.models import Complaint
from aftersales.complaints.services import complaint_file
from aftersales.core import clock as server_clock
from aftersales.core.lifecycle import lifecycles
from aftersales.core.sweep import next_deadline, seconds_to_wait
from tests.conftest import open_case


def nothing_due():
    for lifecycle in lifecycles():
        lifecycle.model.objects.update(deadline_at=None, deadline_action="")


def test_with_no_deadline_the_worker_rests_its_interval(customer, order):
    open_case(customer, order)
    nothing_due()
    assert next_deadline() is None
    assert seconds_to_wait(1.0) == 1.0


def test_the_soonest_deadline_of_every_lifecycle_shortens_the_rest(customer, order, clock):
    number = open_case(customer, order)["number"]
    complaint = complaint_file(
        actor=customer.principal, data={"type": "attitude", "description": "态度差"}
    )
    nothing_due()
    now = server_clock.now()
    case = Case.objects.filter(number=number)
    # a case due in 0.6 s and a complaint due in 0.25 s: the complaint's is the soonest
    case.update(deadline_at=now + dt.timedelta(seconds=0.6), deadline_action="auto_close")
    Complaint.objects.filter(pk=complaint.pk).update(
        deadline_at=now + dt.timedelta(seconds=0.25), deadline_action="escalate"
    )
    assert next_deadline() == now + dt.timedelta(seconds=0.25)
    assert seconds_to_wait(1.0) == 0.25
    # a deadline without an action is no deadline
    Complaint.objects.filter(pk=complaint.pk).update(deadline_action="")
    assert seconds_to_wait(1.0) == 0.6
    # never longer than the interval, never below nothing
    assert seconds_to_wait(0.5) == 0.5
    clock.shift(seconds=2)
    assert seconds_to_wait(1.0) == 0.0


def test_every_lifecycle_finds_its_soonest_deadline_by_a_partial_index():
    # next_deadline() asks every lifecycle each round: each must answer from an index of its
    # deadlines with an action, not by reading its table
    for lifecycle in lifecycles():
        indexes = [
            index
            for index in lifecycle.model._meta.indexes
            if list(index.fields) == ["deadline_at"] and index.condition == ~Q(deadline_action="")
        ]
        assert indexes, f"{lifecycle.subject_type} has no partial index on its due deadlines"


def test_the_worker_rests_until_the_soonest_deadline_not_its_whole_interval(
    customer, order, clock, monkeypatch
):
    import signal

    from django.core.management import call_command

    from aftersales.operations.management.commands import worker

    number = open_case(customer, order)["number"]
    nothing_due()
    Case.objects.filter(number=number).update(
        deadline_at=server_clock.now() + dt.timedelta(seconds=0.25), deadline_action="auto_close"
    )
    # one round: its rest is recorded, and the worker is asked to stop as it rests
    stops = {}
    monkeypatch.setattr(
        worker.signal, "signal", lambda number, handler: stops.update({number: handler})
    )
    monkeypatch.setattr(worker, "close_old_connections", lambda: None)  # the test's transaction
    rests = []

    def rest(seconds):
        rests.append(seconds)
        stops[signal.SIGTERM](signal.SIGTERM, None)

    monkeypatch.setattr(worker.time, "sleep", rest)
    call_command("worker", interval=5.0, tasks=0, stdout=io.StringIO())
    assert rests == [0.25]
