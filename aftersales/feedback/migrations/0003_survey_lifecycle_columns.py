# The survey joins the lifecycle kernel: the kernel's columns (its state, deadline, end), beside
# the old status and expiry until the rows are carried over (0004) and those are dropped (0005).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('feedback', '0002_satisfaction_surveys'),
    ]

    operations = [
        migrations.AddField(
            model_name='survey',
            name='state',
            field=models.CharField(default='', max_length=30),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='survey',
            name='deadline_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='survey',
            name='deadline_action',
            field=models.CharField(blank=True, default='', max_length=20),
        ),
        migrations.AddField(
            model_name='survey',
            name='resolved_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='survey',
            name='escalated_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        # Until 0005 drops it, the expiry may be left empty (when this is undone, 0004 fills it
        # back before it is required again).
        migrations.AlterField(
            model_name='survey',
            name='expires_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
