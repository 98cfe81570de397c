"""Deliveries as durable tasks: a change writes its notices; the worker's delivery step plans their
deliveries in batches and enqueues the tasks that carry them (on the database backend in the same
transaction); a task is idempotent; a failure is tried again after a pause that doubles, dead
after the last attempt; a delivery whose worker died mid-send is tried again once its lease runs
out."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from aftersales.cases.models import Case
from aftersales.catalog.models import Customer
from aftersales.core.models import Notice
from aftersales.core.notices import notice_build, notices_save
from aftersales.notify import deliveries
from aftersales.notify.deliveries import backoff, deliveries_sweep, delivery_attempt
from aftersales.notify.models import Delivery, DeliveryStatus
from aftersales.notify.runner import tasks_run
from aftersales.notify.tasks import deliver
from tests.conftest import make_order, open_case


@pytest.fixture(autouse=True)
def mailbox(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.AFTERSALES_SMS_BACKEND = "aftersales.notify.sms.logging.LoggingSmsBackend"
    settings.AFTERSALES_SMS_KINDS = ["*"]


def reachable(language="en"):
    Customer.objects.filter(external_id="C1").update(email="buyer@example.com", language=language)


def opened(customer, order, capture) -> str:
    """Open a case, then let the worker's delivery step plan its notices."""
    with capture(execute=True):
        number = open_case(customer, order)["number"]
        deliveries_sweep()
    return number


def channels_of(number) -> dict[str, list[str]]:
    rows = Delivery.objects.filter(notice__case__number=number).select_related("notice")
    found: dict[str, list[str]] = {}
    for row in rows.order_by("notice__kind", "channel"):
        found.setdefault(row.notice.kind, []).append(row.channel)
    return found


def test_a_customer_notice_gets_an_e_mail_and_a_text_and_a_team_notice_a_record(
    customer, order, clock, django_capture_on_commit_callbacks
):
    # given a case (a notice for the customer), then one for the team lead
    reachable()
    number = opened(customer, order, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        notices_save([notice_build(Case.objects.get(number=number), "case_escalated")])
    deliveries_sweep()

    # then
    assert channels_of(number) == {"case_escalated": ["log"], "case_opened": ["email", "sms"]}
    assert set(Delivery.objects.values_list("status", "attempts")) == {("pending", 0)}


def test_no_text_is_planned_for_a_kind_not_chosen(
    customer, order, clock, settings, django_capture_on_commit_callbacks
):
    settings.AFTERSALES_SMS_KINDS = ["case_refunded"]
    number = opened(customer, order, django_capture_on_commit_callbacks)
    assert channels_of(number) == {"case_opened": ["email"]}


def test_a_change_writes_its_notice_and_the_worker_plans_its_deliveries_once(
    customer, order, clock
):
    # given a case opened: its notice is written, nothing is planned in the request
    reachable()
    open_case(customer, order)
    notice = Notice.objects.get(kind="case_opened")
    assert Delivery.objects.count() == DBTaskResult.objects.count() == 0

    # when the worker's delivery step runs, twice (two workers, say)
    assert deliveries_sweep() == 2
    assert deliveries_sweep() == 0
    assert deliveries.deliveries_start([notice]) == []

    # then the notice has its two deliveries and one task carries them
    assert Delivery.objects.filter(notice=notice).count() == 2
    assert DBTaskResult.objects.count() == 1


def test_the_deliveries_tasks_wait_on_the_database_and_the_worker_sends(
    customer, order, clock, django_capture_on_commit_callbacks
):
    # given
    reachable()
    number = opened(customer, order, django_capture_on_commit_callbacks)
    ids = sorted(Delivery.objects.values_list("pk", flat=True))

    # then one task carrying the notice's deliveries waits on the database backend
    tasks = DBTaskResult.objects.order_by("enqueued_at")
    assert [(t.task_path, t.args_kwargs["args"], t.status) for t in tasks] == [
        ("aftersales.notify.tasks.deliver_batch", [ids], "READY")
    ]

    # when a worker runs it
    assert tasks_run(worker_id="test") == 1

    # then the e-mail went out once, and the notice's record says so
    [message] = mail.outbox
    assert message.subject == f"After-sales case {number} received"
    assert set(Delivery.objects.values_list("status", "attempts", "delivered_at")) == {
        ("delivered", 1, clock.now)
    }
    notice = Notice.objects.get(case__number=number)
    assert (notice.channel, notice.attempts, notice.delivered_at) == ("email", 1, clock.now)
    assert list(DBTaskResult.objects.values_list("status", "return_value")) == [
        ("SUCCESSFUL", {str(pk): "delivered" for pk in ids})
    ]


def test_a_sweep_s_deliveries_are_carried_by_tasks_of_a_batch_each(
    customer, clock, settings, django_capture_on_commit_callbacks
):
    # given five cases' notices written at once, and tasks of at most two deliveries
    settings.AFTERSALES_DELIVERY_TASK_BATCH = 2
    settings.AFTERSALES_SMS_KINDS = []
    reachable()
    for index in range(5):
        open_case(customer, make_order(external_id=f"B{index}"))
    DBTaskResult.objects.all().delete()
    Delivery.objects.all().delete()
    Notice.objects.update(delivered_at=clock.now)  # the openings went out
    notices = [notice_build(case, "case_escalated") for case in Case.objects.order_by("pk")]
    with transaction.atomic():
        notices_save(notices)
    assert deliveries_sweep() == 5

    # then each delivery is in exactly one task, in order, two to a task
    ids = sorted(Delivery.objects.values_list("pk", flat=True))
    carried = [
        args["args"][0]
        for args in DBTaskResult.objects.order_by("enqueued_at").values_list(
            "args_kwargs", flat=True
        )
    ]
    assert carried == [ids[0:2], ids[2:4], ids[4:5]]

    # and the worker attempts every one of them once
    assert tasks_run(worker_id="test") == 3
    assert set(Delivery.objects.values_list("status", "attempts")) == {("delivered", 1)}


def test_nothing_is_planned_or_enqueued_when_the_change_rolls_back(
    customer, order, clock, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        open_case(customer, order)
        raise RuntimeError("the change fails after its notice was written")
    assert callbacks == []
    assert deliveries_sweep() == 0
    assert Delivery.objects.count() == DBTaskResult.objects.count() == 0


def test_on_another_task_backend_the_tasks_are_sent_only_once_the_change_commits(
    customer, order, clock, settings, django_capture_on_commit_callbacks
):
    # given a task backend outside the database (Redis, say; here django-tasks' dummy)
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    from django_tasks import task_backends

    reachable()
    open_case(customer, order)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        deliveries_sweep()

    # then the deliveries are written, but no task is sent before the commit
    assert Delivery.objects.count() == 2
    assert task_backends["default"].results == []
    assert len(callbacks) == 1

    # when it commits, one task carries both
    callbacks[0]()
    [sent] = task_backends["default"].results
    assert sent.args == [sorted(Delivery.objects.values_list("pk", flat=True))]
    assert DBTaskResult.objects.count() == 0


def test_a_task_that_runs_twice_sends_once(
    customer, order, clock, django_capture_on_commit_callbacks
):
    # given a delivery whose task was enqueued twice (a sweep and the commit hook, say)
    reachable()
    opened(customer, order, django_capture_on_commit_callbacks)
    email = Delivery.objects.get(channel="email")
    with django_capture_on_commit_callbacks(execute=True):
        deliver.enqueue(email.pk)

    # when
    tasks_run(worker_id="test")

    # then
    assert len(mail.outbox) == 1
    batch = DBTaskResult.objects.get(task_path="aftersales.notify.tasks.deliver_batch")
    again = DBTaskResult.objects.get(args_kwargs__args=[email.pk])
    assert (batch.return_value[str(email.pk)], again.return_value) == ("delivered", "not_due")


def test_notices_written_before_deliveries_existed_are_picked_up_by_the_sweep(
    customer, order, clock, django_capture_on_commit_callbacks
):
    # given a notice with no deliveries (written before deliveries existed), and an old
    # delivered one
    reachable()
    number = open_case(customer, order)["number"]
    Delivery.objects.all().delete()
    DBTaskResult.objects.all().delete()
    old = Notice.objects.create(
        **{
            f.attname: getattr(Notice.objects.get(case__number=number), f.attname)
            for f in Notice._meta.concrete_fields
            if f.attname != "id"
        }
        | {"delivered_at": clock.now, "channel": "email"}
    )

    # when the worker sweeps and runs its tasks
    with django_capture_on_commit_callbacks(execute=True):
        assert deliveries_sweep() == 2
    tasks_run(worker_id="test")

    # then the new one went out; the old one was left alone
    assert len(mail.outbox) == 1
    assert not Delivery.objects.filter(notice=old).exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert deliveries_sweep() == 0


@pytest.mark.parametrize(
    ("attempts", "seconds"),
    [(1, 60), (2, 120), (3, 240), (4, 480), (5, 960), (6, 1920), (7, 3600), (8, 3600)],
)
def test_the_pause_doubles_after_each_failure_up_to_an_hour(attempts, seconds):
    assert backoff(attempts) == dt.timedelta(seconds=seconds)


class FailingBackend:
    def __init__(self, **kwargs):
        pass

    def open(self):
        pass

    def close(self):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError(111, "Connection refused")


def test_a_failing_e_mail_is_tried_again_after_a_growing_pause_then_dead(
    customer, order, clock, settings, django_capture_on_commit_callbacks
):
    # given a mail server that refuses every connection, and four attempts at most
    settings.EMAIL_BACKEND = "tests.test_deliveries.FailingBackend"
    settings.AFTERSALES_DELIVERY_MAX_ATTEMPTS = 4
    settings.AFTERSALES_SMS_KINDS = []
    reachable()
    number = opened(customer, order, django_capture_on_commit_callbacks)
    email = Delivery.objects.get(channel="email")
    started = clock.now
    schedule = []

    # when the worker runs whatever is due, the clock moving to each next attempt
    for _round in range(4):
        with django_capture_on_commit_callbacks(execute=True):
            tasks_run(worker_id="test")
        email.refresh_from_db()
        schedule.append((email.status, email.attempts, email.next_attempt_at - started))
        assert tasks_run(worker_id="test") == 0  # nothing before the pause is over
        clock.set(email.next_attempt_at)

    # then
    minutes = dt.timedelta(minutes=1)
    assert schedule == [
        ("pending", 1, 1 * minutes),
        ("pending", 2, 3 * minutes),
        ("pending", 3, 7 * minutes),
        ("dead", 4, 7 * minutes),
    ]
    assert email.last_error == "[Errno 111] Connection refused"
    notice = Notice.objects.get(case__number=number)
    assert (notice.attempts, notice.delivered_at, notice.last_error) == (
        4,
        None,
        "[Errno 111] Connection refused",
    )


def test_a_delivery_whose_worker_died_mid_send_is_tried_again_once_after_its_lease(
    customer, order, clock, settings, django_capture_on_commit_callbacks
):
    # given a worker that claimed the e-mail and died before it finished
    settings.AFTERSALES_DELIVERY_LEASE = 300
    settings.AFTERSALES_SMS_KINDS = []
    reachable()
    opened(customer, order, django_capture_on_commit_callbacks)
    email = Delivery.objects.get(channel="email")
    deliveries._claim(email.pk)

    # when the sweep runs before the lease is over: nothing happens
    clock.shift(seconds=299)
    with django_capture_on_commit_callbacks(execute=True):
        assert deliveries_sweep() == 0
    assert tasks_run(worker_id="test") == 1  # the original task finds it taken
    assert mail.outbox == []

    # when the lease is over
    clock.shift(seconds=2)
    with django_capture_on_commit_callbacks(execute=True):
        assert deliveries_sweep() == 1
    tasks_run(worker_id="test")

    # then it was tried once more, and sent once
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("delivered", 2)
    assert len(mail.outbox) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert deliveries_sweep() == 0


def test_a_late_attempt_does_not_overwrite_the_one_that_took_over(
    customer, order, clock, django_capture_on_commit_callbacks
):
    # given an attempt whose lease ran out and a second attempt that delivered
    reachable()
    opened(customer, order, django_capture_on_commit_callbacks)
    email = Delivery.objects.get(channel="email")
    slow = deliveries._claim(email.pk)
    clock.shift(seconds=301)
    deliveries_sweep()
    assert delivery_attempt(email.pk) == "delivered"

    # when the first attempt finally fails
    deliveries._finish(slow, error="timed out", status=DeliveryStatus.PENDING)

    # then the delivery stays delivered
    email.refresh_from_db()
    assert (email.status, email.attempts, email.last_error) == ("delivered", 2, "")


def test_a_customer_without_an_address_or_phone_is_skipped_not_failed(
    customer, order, clock, django_capture_on_commit_callbacks
):
    Customer.objects.filter(external_id="C1").update(email="", phone="")
    number = opened(customer, order, django_capture_on_commit_callbacks)
    tasks_run(worker_id="test")
    assert set(Delivery.objects.values_list("channel", "status", "last_error")) == {
        ("email", "skipped", "no e-mail address"),
        ("sms", "skipped", "no phone number"),
    }
    notice = Notice.objects.get(case__number=number)
    assert (notice.channel, notice.delivered_at) == ("log", clock.now)


def test_a_delivery_reads_a_bounded_number_of_queries(
    customer, clock, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    # given ten e-mails
    reachable()
    for index in range(10):
        opened(customer, make_order(external_id=f"O{index}"), django_capture_on_commit_callbacks)
    email_ids = list(Delivery.objects.filter(channel="email").values_list("pk", flat=True))

    # then each costs the same few queries: claim, the case, its composer's reads, the shop,
    # and the record of the outcome
    for delivery_id in email_ids:
        with django_assert_max_num_queries(12):
            assert delivery_attempt(delivery_id) == "delivered"
    assert len(mail.outbox) == 10


def test_the_one_shot_sweep_delivers_what_is_due_without_the_queue(customer, order, clock):
    # given a notice written while no hook ran (the change's commit is the test's)
    reachable()
    number = open_case(customer, order)["number"]

    # when
    out = io.StringIO()
    call_command("sweep", stdout=out)

    # then
    assert "notifications=1 " in out.getvalue()
    assert [message.subject for message in mail.outbox] == [f"After-sales case {number} received"]
