# Notes and the contact log now belong to the team app (about any subject), ratings to the
# feedback app; their rows were copied there first. Each model is deleted whole, so that going
# back recreates it with its fields and indexes (and the copies come back into it).

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0010_kernel_events_and_policy_app'),
        ('team', '0004_notes_and_contacts_about_any_subject'),
        ('feedback', '0001_ratings_moved_from_cases'),
    ]

    operations = [
        migrations.DeleteModel(name='CaseNote'),
        migrations.DeleteModel(name='ContactLog'),
        migrations.DeleteModel(name='CaseRating'),
    ]
