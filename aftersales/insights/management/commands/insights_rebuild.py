from django.core.management.base import BaseCommand

from aftersales.insights.feed import rollup_rebuild


class Command(BaseCommand):
    help = (
        "Recompute every KPI rollup from the whole timeline (in one transaction; the reports "
        "show the old figures until it commits). Needed after a shop changes its time zone or "
        "business hours, whose effect on past figures the incremental feed does not replay."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=2000)

    def handle(self, *args, batch_size, **options):
        consumed = rollup_rebuild(batch_size=batch_size)
        self.stdout.write(f"rebuilt the KPI rollups from {consumed} events")
