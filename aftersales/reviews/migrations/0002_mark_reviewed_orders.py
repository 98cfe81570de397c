"""Mark the orders that have a review already (``Order.review_opened``), so that the worker's step
that opens reviews reads only the signed orders still without one."""

from django.db import migrations
from django.db.models import Exists, OuterRef


def mark(apps, schema_editor):
    Order = apps.get_model("catalog", "Order")
    Review = apps.get_model("reviews", "Review")
    Order.objects.filter(Exists(Review.objects.filter(order_id=OuterRef("pk")))).update(
        review_opened=True
    )


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0009_order_review_opened"),
        ("reviews", "0001_reviews"),
    ]

    operations = [migrations.RunPython(mark, migrations.RunPython.noop)]
