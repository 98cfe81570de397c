# The old status and expiry go (the state and the deadline hold them now); the list to call reads
# the state, and the sweep finds the surveys whose link ends by their deadline.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('feedback', '0004_survey_states_from_status'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='survey',
            name='survey_to_call',
        ),
        migrations.RemoveField(
            model_name='survey',
            name='status',
        ),
        migrations.RemoveField(
            model_name='survey',
            name='expires_at',
        ),
        migrations.AddIndex(
            model_name='survey',
            index=models.Index(fields=['shop', 'channel', 'state'], name='survey_to_call'),
        ),
        migrations.AddIndex(
            model_name='survey',
            index=models.Index(condition=models.Q(('deadline_action', ''), _negated=True), fields=['deadline_at'], name='survey_due'),
        ),
    ]
