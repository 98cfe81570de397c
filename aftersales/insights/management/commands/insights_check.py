from django.core.management.base import BaseCommand, CommandError

from aftersales.insights.feed import rollup_check
from aftersales.insights.models import ROLLUP_MEASURES

SHOWN = 20


class Command(BaseCommand):
    help = (
        "Replay the events the KPI feed has counted into fresh rollups (in a transaction that is "
        "rolled back) and compare them with the incremental ones; exits non-zero on a difference."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=2000)

    def handle(self, *args, batch_size, **options):
        result = rollup_check(batch_size=batch_size)
        if not result.differences:
            self.stdout.write(
                f"the KPI rollups agree with a rebuild ({result.rows} rows, events up to "
                f"{result.cursor})"
            )
            return
        for key, incremental, rebuilt in result.differences[:SHOWN]:
            self.stdout.write(f"{key}:")
            for index, name in enumerate(ROLLUP_MEASURES):
                before = incremental[index] if incremental else 0
                after = rebuilt[index] if rebuilt else 0
                if before != after:
                    self.stdout.write(f"  {name}: incremental {before}, rebuilt {after}")
        raise CommandError(
            f"{len(result.differences)} KPI rollup rows differ from a rebuild; "
            "run `aftersales insights_rebuild`"
        )
