"""What the task queue costs a delivery: plan and enqueue notices, run their tasks in one worker
loop, and, for comparison, attempt the same number of deliveries directly (no queue). Uses
record-only notices, so the figures are the machinery's, not a mail server's.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/aftersales_bench_deliveries \\
        python -m bench.deliveries --notices 2000

The database is migrated first; the rows it writes are deleted at the end. The same tasks are
also run by django-tasks-db's own ``db_worker`` process, to compare.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time


def shop_notices(shop, count: int) -> list[int]:
    """``count`` new notices to ``shop``'s leads (a case escalated), their ids."""
    from django.contrib.contenttypes.models import ContentType

    from aftersales.catalog.models import Shop
    from aftersales.core import clock
    from aftersales.core.models import Notice

    shop_type = ContentType.objects.get_for_model(Shop)
    rows = [
        Notice(
            subject_type=shop_type,
            subject_id=shop.pk,
            shop_id=shop.pk,
            audience="lead",
            kind="case_escalated",
            payload={"number": str(index)},
            created_at=clock.now(),
        )
        for index in range(count)
    ]
    return [notice.pk for notice in Notice.objects.bulk_create(rows)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--notices", type=int, default=2000)
    count = parser.parse_args().notices
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django_tasks_db.models import DBTaskResult

    from aftersales.catalog.models import Shop
    from aftersales.core import clock
    from aftersales.core.models import Notice
    from aftersales.notify.deliveries import deliveries_start, delivery_attempt
    from aftersales.notify.models import Delivery
    from aftersales.notify.runner import tasks_run

    call_command("migrate", verbosity=0)
    shop, _created = Shop.objects.get_or_create(code="bench-deliveries", defaults={"name": "b"})

    def clean() -> None:
        Notice.objects.filter(shop_id=shop.pk).delete()  # deliveries go with them
        DBTaskResult.objects.all().delete()

    clean()
    print(f"database: {connection.vendor}; {count} notices, one record-only delivery each")

    ids = shop_notices(shop, count)
    started = time.perf_counter()
    for chunk in range(0, count, 100):
        with transaction.atomic():
            deliveries_start(ids[chunk : chunk + 100])
    planned = time.perf_counter() - started
    print(f"plan + enqueue: {count / planned:8.0f} deliveries/s")

    started = time.perf_counter()
    ran = 0
    while ran < count:
        done = tasks_run(worker_id="bench", max_tasks=200)
        if not done:
            break
        ran += done
    queued = time.perf_counter() - started
    assert Delivery.objects.filter(shop_id=shop.pk, status="delivered").count() == count
    print(f"tasks, one worker loop: {ran / queued:8.0f} deliveries/s")
    clean()

    # The same tasks run by django-tasks-db's own worker process (its start included).
    ids = shop_notices(shop, count)
    with transaction.atomic():
        deliveries_start(ids)
    started = time.perf_counter()
    command = [sys.executable, "-m", "aftersales.cli", "db_worker", "--batch"]
    subprocess.run(
        [*command, "--queue-name", "*", "--no-startup-delay", "--no-reload", "--verbosity", "0"],
        check=True,
    )
    separate = time.perf_counter() - started
    assert Delivery.objects.filter(shop_id=shop.pk, status="delivered").count() == count
    print(f"tasks, db_worker process: {count / separate:6.0f} deliveries/s (with its start)")
    clean()

    ids = shop_notices(shop, count)
    with transaction.atomic():
        Delivery.objects.bulk_create(
            Delivery(
                notice_id=notice_id,
                shop_id=shop.pk,
                channel="log",
                next_attempt_at=clock.now(),
                created_at=clock.now(),
            )
            for notice_id in ids
        )
    started = time.perf_counter()
    for delivery_id in Delivery.objects.filter(shop_id=shop.pk).values_list("pk", flat=True):
        delivery_attempt(delivery_id)
    direct = time.perf_counter() - started
    print(f"direct, no queue:       {count / direct:8.0f} deliveries/s")
    clean()
    shop.delete()


if __name__ == "__main__":
    main()
