# The retention item joins the lifecycle kernel: the kernel's state (its values unchanged) and
# columns, beside the old handled_at until the rows are carried over (0004) and it is dropped
# (0005).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('crm', '0002_care_campaigns'),
    ]

    operations = [
        migrations.AlterField(
            model_name='retentionitem',
            name='state',
            field=models.CharField(max_length=30),
        ),
        migrations.AddField(
            model_name='retentionitem',
            name='deadline_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='retentionitem',
            name='deadline_action',
            field=models.CharField(blank=True, default='', max_length=20),
        ),
        migrations.AddField(
            model_name='retentionitem',
            name='resolved_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='retentionitem',
            name='escalated_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
