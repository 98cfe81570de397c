# The surveys' rows carried over to the kernel's columns, in the database (one UPDATE each, on
# SQLite and PostgreSQL alike): the state is the old status; a survey still sent has its expiry
# as its deadline, with the sweep's action "expire"; an answered or declined one ended when it was
# answered, an expired one at its expiry.

import datetime as dt

from django.db import migrations
from django.db.models import F, Q

# feedback.moves.SURVEY_VALID_DAYS when this was written (an ended survey's expiry, going back).
VALID_DAYS = 30


def states_from_status(apps, schema_editor):
    Survey = apps.get_model('feedback', 'Survey')
    Survey.objects.update(state=F('status'))
    Survey.objects.filter(status='sent').update(
        deadline_at=F('expires_at'), deadline_action='expire'
    )
    Survey.objects.filter(status__in=['answered', 'declined']).update(
        resolved_at=F('answered_at')
    )
    Survey.objects.filter(status='expired').update(resolved_at=F('expires_at'))


def status_from_states(apps, schema_editor):
    Survey = apps.get_model('feedback', 'Survey')
    Survey.objects.update(status=F('state'))
    Survey.objects.filter(state='sent').update(expires_at=F('deadline_at'))
    Survey.objects.filter(state='expired').update(expires_at=F('resolved_at'))
    Survey.objects.filter(Q(expires_at__isnull=True)).update(
        expires_at=F('created_at') + dt.timedelta(days=VALID_DAYS)
    )


class Migration(migrations.Migration):

    dependencies = [
        ('feedback', '0003_survey_lifecycle_columns'),
    ]

    operations = [
        migrations.RunPython(states_from_status, status_from_states),
    ]
