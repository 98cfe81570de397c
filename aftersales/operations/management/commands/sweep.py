import time

from django.conf import settings
from django.core.management.base import BaseCommand

from aftersales.conversations.bell import deadline_warnings
from aftersales.core.sweep import sweep
from aftersales.notify.services import notifications_deliver
from aftersales.reviews.services import reviews_open_due
from aftersales.routing.sweep import routing_sweep
from aftersales.sla.refresh import sla_sweep


class Command(BaseCommand):
    help = (
        "Act on every deadline that is due now, deliver the notifications that are due (in this "
        "process, without the task queue), and exit."
    )
    # A data command: the system checks (which build every URL and the API's document, two of
    # the three seconds of a start) run with `serve`, the worker and `migrate`.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=settings.AFTERSALES_SWEEP_BATCH)

    def handle(self, *args, batch_size, **options):
        opened = 0
        while True:  # every review window of a newly signed order, before its end is swept
            batch = reviews_open_due(batch_size=batch_size)
            opened += batch
            if batch < batch_size:
                break
        started = time.perf_counter()
        result = sweep(batch_size=batch_size)
        elapsed = time.perf_counter() - started  # the deadlines' pass alone (what bench/ times)
        levels = sla_sweep(batch_size=batch_size)
        routed = routing_sweep(batch_size=batch_size)
        warned = deadline_warnings()
        delivered = notifications_deliver()
        self.stdout.write(
            f"acted={result.acted} escalated_on_error={result.escalated_on_error} "
            f"notifications={delivered} warnings={warned} seconds={elapsed:.3f} routed={routed} "
            f"sla_warnings={levels.warned} sla_breaches={levels.breached} reviews_opened={opened}"
        )
