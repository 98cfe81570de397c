from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from aftersales.catalog.importer import import_orders
from aftersales.core.actors import SYSTEM


class Command(BaseCommand):
    help = "Import orders: import orders FILE (.csv, one row per order line; or .jsonl)"
    # A data command: the system checks (which build every URL and the API's document, two of
    # the three seconds of a start) run with `serve`, the worker and `migrate`.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("what", choices=["orders"])
        parser.add_argument("file", type=Path)

    def handle(self, *args, what, file, **options):
        if not file.is_file():
            raise CommandError(f"no such file: {file}")
        report = import_orders(actor=SYSTEM, path=file)
        for error in report.errors:
            self.stderr.write(error)
        self.stdout.write(
            f"orders created={report.created} updated={report.updated} lines={report.lines} "
            f"errors={len(report.errors)}"
        )
        if report.errors:
            raise CommandError(f"{len(report.errors)} records were not imported")
