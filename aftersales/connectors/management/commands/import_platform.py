from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from aftersales.connectors.exports import MAX_BYTES, import_export
from aftersales.connectors.models import Store
from aftersales.core.errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Import a platform's after-sales export (the CSV of the seller back office) into a "
        "store: import_platform --store ID FILE"
    )
    # A data command: the system checks (which build every URL and the API's document, two of
    # the three seconds of a start) run with `serve`, the worker and `migrate`.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--store", required=True, type=int, help="the store's id")
        parser.add_argument("file", type=Path)

    def handle(self, *args, store, file, **options):
        if not file.is_file():
            raise CommandError(f"no such file: {file}")
        found = Store.objects.filter(pk=store).first()
        if found is None:
            raise CommandError(f"no store {store}")
        with file.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)  # enough to tell a file that is too large
        try:
            result = import_export(store=found, data=data, filename=file.name)
        except ApplicationError as error:
            raise CommandError(f"{error.code}: {error.detail}") from None
        for error in result.errors:
            self.stderr.write(f"line {error.row}: {error.message}")
        self.stdout.write(
            f"rows={result.rows} kept={result.landed} changed={result.changed} "
            f"errors={len(result.errors)}"
        )
        if result.errors:
            raise CommandError(f"{len(result.errors)} rows were not imported")
