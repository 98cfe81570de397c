# The outbox moves to the lifecycle kernel (core.Notice, about any subject): every notification
# becomes a notice about its case, delivered or not, with its attempts.

from django.db import migrations


def _case_type_id(apps) -> int:
    ContentType = apps.get_model("contenttypes", "ContentType")
    return ContentType.objects.get_or_create(app_label="cases", model="case")[0].id


def notices_to_the_kernel(apps, schema_editor):
    schema_editor.execute(
        "INSERT INTO core_notice (subject_type_id, subject_id, shop_id, audience, kind, payload, "
        "created_at, delivered_at, channel, attempts, last_error) "
        "SELECT %s, case_id, shop_id, audience, kind, payload, created_at, delivered_at, channel, "
        "attempts, last_error FROM notify_notification WHERE case_id IS NOT NULL ORDER BY id",
        [_case_type_id(apps)],
    )


def notices_back(apps, schema_editor):
    schema_editor.execute(
        "INSERT INTO notify_notification (shop_id, case_id, audience, kind, payload, created_at, "
        "delivered_at, channel, attempts, last_error) SELECT shop_id, subject_id, audience, kind, "
        "payload, created_at, delivered_at, channel, attempts, last_error FROM core_notice "
        "WHERE subject_type_id = %s ORDER BY id",
        [_case_type_id(apps)],
    )
    schema_editor.execute(
        "DELETE FROM core_notice WHERE subject_type_id = %s", [_case_type_id(apps)]
    )


class Migration(migrations.Migration):

    dependencies = [
        ("notify", "0001_initial"),
        ("core", "0003_event_and_notice"),
        ("cases", "0010_kernel_events_and_policy_app"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(notices_to_the_kernel, notices_back),
        migrations.DeleteModel(name="Notification"),
    ]
