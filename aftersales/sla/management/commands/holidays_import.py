from django.core.management.base import BaseCommand, CommandError

from aftersales.core.errors import ApplicationError
from aftersales.sla.services import holidays_import


class Command(BaseCommand):
    help = (
        "Store a country's public holidays of a year for business hours: "
        "holidays_import --country DE --year 2027 (China's need no import)."
    )
    # A data command: the system checks (which build every URL and the API's document, two of
    # the three seconds of a start) run with `serve`, the worker and `migrate`.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--country", required=True, help="ISO 3166 two-letter code, e.g. DE")
        parser.add_argument("--year", required=True, type=int, action="append")

    def handle(self, *args, country, year, **options):
        for one in year:
            if not 1900 <= one <= 2999:
                raise CommandError(f"{one} is not a year between 1900 and 2999")
            try:
                count = holidays_import(country=country, year=one)
            except ApplicationError as error:
                raise CommandError(str(error.detail)) from None
            self.stdout.write(f"{country.upper()} {one}: {count} holidays stored")
