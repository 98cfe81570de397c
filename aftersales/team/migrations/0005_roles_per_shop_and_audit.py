# Written by hand: Django cannot turn a plain many-to-many into one with a ``through`` model, so
# the shops of a membership move to ``ShopRole`` (each with the membership's role) in steps.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

ROLES = [
    ("admin", "Administrator"),
    ("lead", "Team lead"),
    ("agent", "After-sales agent"),
    ("finance", "Finance"),
    ("logistics", "Logistics (receiving and inspection)"),
    ("technician", "Technician (diagnosis and repair)"),
    ("platform_operator", "Platform operator"),
    ("customer", "Customer"),
]


def shop_roles_from_memberships(apps, schema_editor):
    """Each shop a member was tied to becomes their role in that shop: the membership's role."""
    Membership = apps.get_model("team", "Membership")
    ShopRole = apps.get_model("team", "ShopRole")
    through = Membership.shops.through
    roles = dict(Membership.objects.values_list("id", "role"))
    ShopRole.objects.bulk_create(
        ShopRole(membership_id=membership_id, shop_id=shop_id, role=roles[membership_id])
        for membership_id, shop_id in through.objects.order_by("id").values_list(
            "membership_id", "shop_id"
        )
        if roles[membership_id] != "customer"
    )


def memberships_from_shop_roles(apps, schema_editor):
    Membership = apps.get_model("team", "Membership")
    ShopRole = apps.get_model("team", "ShopRole")
    through = Membership.shops.through
    through.objects.bulk_create(
        through(membership_id=membership_id, shop_id=shop_id)
        for membership_id, shop_id in ShopRole.objects.order_by("id").values_list(
            "membership_id", "shop_id"
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0006_customer_language"),
        ("team", "0004_notes_and_contacts_about_any_subject"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="membership",
            name="role",
            field=models.CharField(choices=ROLES, max_length=20),
        ),
        migrations.CreateModel(
            name="ShopRole",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("role", models.CharField(choices=ROLES, max_length=20)),
                (
                    "membership",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="shop_roles",
                        to="team.membership",
                    ),
                ),
                (
                    "shop",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="team_roles",
                        to="catalog.shop",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("membership", "shop"), name="one_role_per_shop"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            (
                                "role__in",
                                ["admin", "agent", "finance", "lead", "logistics", "technician"],
                            )
                        ),
                        name="shop_role_is_staff",
                    ),
                ],
            },
        ),
        migrations.RunPython(shop_roles_from_memberships, memberships_from_shop_roles),
        migrations.RemoveField(model_name="membership", name="shops"),
        migrations.AddField(
            model_name="membership",
            name="shops",
            field=models.ManyToManyField(
                blank=True, related_name="staff", through="team.ShopRole", to="catalog.shop"
            ),
        ),
        migrations.CreateModel(
            name="AuditEntry",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("member_name", models.CharField(max_length=150)),
                ("actor_name", models.CharField(max_length=150)),
                (
                    "change",
                    models.CharField(
                        choices=[
                            ("granted", "Role given"),
                            ("changed", "Role changed"),
                            ("revoked", "Role taken back"),
                        ],
                        max_length=10,
                    ),
                ),
                ("role_before", models.CharField(blank=True, default="", max_length=20)),
                ("role_after", models.CharField(blank=True, default="", max_length=20)),
                ("at", models.DateTimeField()),
                (
                    "actor",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "member",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "shop",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="catalog.shop",
                    ),
                ),
            ],
            options={
                "verbose_name_plural": "audit entries",
                "indexes": [models.Index(fields=["shop", "id"], name="audit_shop")],
            },
        ),
    ]
