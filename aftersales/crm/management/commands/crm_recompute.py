from django.core.management.base import BaseCommand, CommandError

from aftersales.catalog.models import Shop
from aftersales.crm.classification import all_shops_recompute, customers_recompute


class Command(BaseCommand):
    help = (
        "Compute every customer's membership tier and RFM class (one shop, or every shop). "
        "Idempotent; run it nightly."
    )

    def add_arguments(self, parser):
        parser.add_argument("--shop", help="the shop's code (default: every shop)")

    def handle(self, *args, shop=None, **options):
        if shop:
            found = Shop.objects.filter(code=shop).first()
            if found is None:
                raise CommandError(f"No shop {shop}.")
            written = customers_recompute(shop=found)
        else:
            written = all_shops_recompute()
        self.stdout.write(f"{written} customer profiles computed.")
