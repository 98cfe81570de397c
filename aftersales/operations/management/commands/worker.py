import logging
import signal
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from aftersales.connectors.schedule import stores_due
from aftersales.conversations.bell import deadline_warnings
from aftersales.core.health import heartbeat_beat, heartbeat_start, heartbeat_stop, worker_name
from aftersales.core.ratelimit import rate_prune
from aftersales.core.sweep import seconds_to_wait, sweep_batch
from aftersales.crm.care import care_due
from aftersales.crm.retention import retention_due
from aftersales.insights.feed import rollup_sweep
from aftersales.notify.deliveries import deliveries_sweep
from aftersales.notify.runner import runs_tasks_here, tasks_run
from aftersales.reviews.services import reviews_open_due
from aftersales.routing.sweep import routing_sweep
from aftersales.sla.refresh import sla_sweep

logger = logging.getLogger("aftersales.worker")


class Command(BaseCommand):
    help = (
        "Run forever: act on due deadlines, warn of those about to act, route new work, keep the "
        "SLA clocks, queue the marketplace stores' syncs, and run the tasks (deliveries of e-mail, "
        "text messages and webhooks; the stores' syncs)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=settings.AFTERSALES_WORKER_INTERVAL)
        parser.add_argument("--batch-size", type=int, default=settings.AFTERSALES_SWEEP_BATCH)
        parser.add_argument(
            "--tasks",
            type=int,
            default=settings.AFTERSALES_WORKER_TASKS,
            help="delivery tasks to run per round (0: leave them to `db_worker` processes)",
        )

    @staticmethod
    def step(name, run, **arguments):
        try:
            return run(**arguments)
        except Exception:  # the step rolled back; the next round tries again
            logger.exception("%s step failed", name)
            return 0

    def handle(self, *args, interval, batch_size, tasks, **options):
        running = True

        def stop(signum, frame):
            nonlocal running
            running = False

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        name = worker_name()
        heartbeat_start(worker=name)
        if not runs_tasks_here():
            tasks = 0  # another task backend has its own workers
        self.stdout.write(
            f"worker {name} started (interval {interval}s, batch {batch_size}, tasks {tasks})"
        )
        self.stdout.flush()
        while running:
            close_old_connections()
            try:
                result = sweep_batch(batch_size=batch_size)
            except Exception:  # keep the loop alive; the batch rolled back and will be retried
                logger.exception("sweep failed")
                time.sleep(interval)
                continue
            # The other steps each in their own try: one failing never stops the others.
            self.step("deadline warnings", deadline_warnings)  # the bell, before a deadline acts
            # the review windows of newly signed orders (their ends are deadlines)
            self.step("reviews", reviews_open_due, batch_size=batch_size)
            self.step("routing", routing_sweep, batch_size=batch_size)  # new work to agents
            self.step("sla", sla_sweep, batch_size=batch_size)  # warnings and breaches
            self.step("insights", rollup_sweep, batch_size=batch_size)  # the KPI rollups
            self.step("retention", retention_due)  # customers at risk after a bad experience
            self.step("care", care_due, batch_size=batch_size)  # the care campaigns' messages
            self.step("stores", stores_due)  # the marketplace stores' syncs that are due
            # the notices written since: their deliveries and tasks; and what crashes left
            planned = self.step("deliveries", deliveries_sweep, batch_size=batch_size)
            ran = self.step("tasks", tasks_run, worker_id=name, max_tasks=tasks) if tasks else 0
            self.step("rates", rate_prune)
            heartbeat_beat(worker=name)
            if result.processed:
                logger.info("acted on %s due cases", result.processed)
            # More may be waiting when a batch came back full: go on without a pause. Otherwise
            # rest for the interval, or until the soonest deadline if it falls due sooner.
            if not (result.full or planned >= batch_size or (tasks and ran == tasks)):
                try:
                    pause = seconds_to_wait(interval)
                except Exception:
                    logger.exception("finding the next deadline failed")
                    pause = interval
                time.sleep(pause)
        close_old_connections()
        heartbeat_stop(worker=name)
        self.stdout.write("worker stopped")
