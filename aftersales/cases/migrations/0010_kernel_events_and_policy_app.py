# The lifecycle kernel takes over the case's timeline (core.Event, which points at any subject),
# the policy model moves to its own app (same table), and a case's dispute signals become a list.

import django.db.models.deletion
from django.db import migrations, models


def signals_from_reasons(apps, schema_editor):
    Case = apps.get_model("cases", "Case")
    flagged = Case.objects.exclude(dispute_reason="").only("id", "dispute_reason")
    for case in flagged.iterator(chunk_size=2000):
        signals = [code for code in case.dispute_reason.split(",") if code]
        Case.objects.filter(pk=case.pk).update(dispute_signals=signals)


def reasons_from_signals(apps, schema_editor):
    Case = apps.get_model("cases", "Case")
    for case in Case.objects.exclude(dispute_signals=[]).only("id", "dispute_signals").iterator():
        Case.objects.filter(pk=case.pk).update(
            dispute_flag=True, dispute_reason=",".join(case.dispute_signals)
        )


def _case_type_id(apps) -> int:
    ContentType = apps.get_model("contenttypes", "ContentType")
    return ContentType.objects.get_or_create(app_label="cases", model="case")[0].id


def events_to_the_kernel(apps, schema_editor):
    """Every case event becomes a kernel event, in the same order (ids increase with the old)."""
    schema_editor.execute(
        "INSERT INTO core_event (subject_type_id, subject_id, shop_id, actor_id, actor_name, role, "
        "action, from_state, to_state, data, at) "
        "SELECT %s, e.case_id, c.shop_id, e.actor_id, e.actor_name, e.role, e.action, "
        "e.from_state, e.to_state, e.data, e.at "
        "FROM cases_caseevent e JOIN cases_case c ON c.id = e.case_id ORDER BY e.id",
        [_case_type_id(apps)],
    )


def events_back(apps, schema_editor):
    schema_editor.execute(
        "INSERT INTO cases_caseevent (case_id, actor_id, actor_name, role, action, from_state, "
        "to_state, data, at) SELECT subject_id, actor_id, actor_name, role, action, from_state, "
        "to_state, data, at FROM core_event WHERE subject_type_id = %s ORDER BY id",
        [_case_type_id(apps)],
    )
    schema_editor.execute("DELETE FROM core_event WHERE subject_type_id = %s", [_case_type_id(apps)])


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0009_authenticity_verdict"),
        ("policy", "0001_policy_moved_from_cases"),
        ("core", "0003_event_and_notice"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        # The policy now belongs to the policy app (its table stays).
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="case",
                    name="policy",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="cases",
                        to="policy.policy",
                    ),
                ),
                migrations.DeleteModel(name="Policy"),
            ]
        ),
        # Dispute signals: a list of codes instead of a flag and a comma-joined string.
        migrations.AddField(
            model_name="case",
            name="dispute_signals",
            field=models.JSONField(blank=True, db_default=[], default=list),
        ),
        migrations.RunPython(signals_from_reasons, reasons_from_signals),
        migrations.RemoveField(model_name="case", name="dispute_flag"),
        migrations.RemoveField(model_name="case", name="dispute_reason"),
        # The timeline moves to the kernel.
        migrations.RunPython(events_to_the_kernel, events_back),
        migrations.DeleteModel(name="CaseEvent"),
    ]
