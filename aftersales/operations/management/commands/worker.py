import logging
import signal
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from aftersales.conversations.bell import deadline_warnings
from aftersales.core.health import heartbeat_beat, heartbeat_start, heartbeat_stop, worker_name
from aftersales.core.ratelimit import rate_prune
from aftersales.core.sweep import sweep_batch
from aftersales.notify.services import notifications_deliver

logger = logging.getLogger("aftersales.worker")


class Command(BaseCommand):
    help = "Run forever: act on due deadlines, warn of those about to act, deliver notifications."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=settings.AFTERSALES_WORKER_INTERVAL)
        parser.add_argument("--batch-size", type=int, default=settings.AFTERSALES_SWEEP_BATCH)

    def handle(self, *args, interval, batch_size, **options):
        running = True

        def stop(signum, frame):
            nonlocal running
            running = False

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        name = worker_name()
        heartbeat_start(worker=name)
        self.stdout.write(f"worker {name} started (interval {interval}s, batch {batch_size})")
        self.stdout.flush()
        while running:
            close_old_connections()
            try:
                result = sweep_batch(batch_size=batch_size)
                deadline_warnings()
                delivered = notifications_deliver()
                rate_prune()
                heartbeat_beat(worker=name)
            except Exception:  # keep the loop alive; the batch rolled back and will be retried
                logger.exception("sweep failed")
                time.sleep(interval)
                continue
            if result.processed:
                logger.info("acted on %s due cases", result.processed)
            if not result.full and delivered == 0:
                time.sleep(interval)
        close_old_connections()
        heartbeat_stop(worker=name)
        self.stdout.write("worker stopped")
