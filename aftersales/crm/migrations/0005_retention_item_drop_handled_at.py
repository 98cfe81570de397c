# The old handled_at goes (resolved_at holds it now); the sweep's question to every lifecycle
# finds no due item by an (empty) partial index.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('crm', '0004_retention_items_resolved_at'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='retentionitem',
            name='handled_at',
        ),
        migrations.AddIndex(
            model_name='retentionitem',
            index=models.Index(condition=models.Q(('deadline_action', ''), _negated=True), fields=['deadline_at'], name='crm_retention_due'),
        ),
    ]
