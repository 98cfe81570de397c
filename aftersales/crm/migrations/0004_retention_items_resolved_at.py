# The items' rows carried over, in the database (one UPDATE, on SQLite and PostgreSQL alike): a
# handled item (contacted or dismissed) was resolved when it was handled.

from django.db import migrations
from django.db.models import F


def resolved_from_handled(apps, schema_editor):
    RetentionItem = apps.get_model('crm', 'RetentionItem')
    RetentionItem.objects.exclude(state='open').update(resolved_at=F('handled_at'))


def handled_from_resolved(apps, schema_editor):
    RetentionItem = apps.get_model('crm', 'RetentionItem')
    RetentionItem.objects.exclude(state='open').update(handled_at=F('resolved_at'))


class Migration(migrations.Migration):

    dependencies = [
        ('crm', '0003_retention_item_lifecycle_columns'),
    ]

    operations = [
        migrations.RunPython(resolved_from_handled, handled_from_resolved),
    ]
