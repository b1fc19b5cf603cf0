import uuid

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def fill_decision_fields(apps, schema_editor):
    """Decisions made before review existed were all issued; give each its own id and the versions in force then."""
    from opennrm.decisions.policy_versions import guidance_on, recovery_policy_on
    from opennrm.decisions.routing import LONDON

    Decision = apps.get_model("decisions", "Decision")
    for decision in Decision.objects.all():
        day = decision.decided_at.astimezone(LONDON).date()
        decision.uuid = uuid.uuid4()
        decision.policy_version = recovery_policy_on(day).version
        decision.guidance_version = guidance_on(day).version
        decision.save(update_fields=["uuid", "policy_version", "guidance_version"])


class Migration(migrations.Migration):
    dependencies = [
        ("decisions", "0001_initial"),
        ("referrals", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(model_name="decision", name="uuid", field=models.UUIDField(editable=False, null=True)),
        migrations.AddField(
            model_name="decision",
            name="state",
            field=models.CharField(
                choices=[
                    ("proposed", "Proposed, awaiting a second decision maker"),
                    ("issued", "Issued"),
                    ("sent_back", "Sent back for a fresh decision"),
                ],
                default="issued",
                max_length=10,
            ),
        ),
        migrations.AddField(
            model_name="decision",
            name="reviewed_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="decision", name="reviewed_at", field=models.DateTimeField(blank=True, null=True)
        ),
        migrations.AddField(model_name="decision", name="review_comment", field=models.TextField(blank=True)),
        migrations.AddField(
            model_name="decision",
            name="policy_version",
            field=models.CharField(default="", max_length=40),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="decision",
            name="guidance_version",
            field=models.CharField(default="", max_length=40),
            preserve_default=False,
        ),
        migrations.RunPython(fill_decision_fields, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="decision", name="uuid", field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
        ),
        migrations.AddIndex(
            model_name="decision", index=models.Index(fields=["referral", "state"], name="decision_referral_state_idx")
        ),
        migrations.CreateModel(
            name="RoutingRule",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            (
                                "ieca_immigration_action",
                                "IECA: people in immigration detention or subject to removal action",
                            ),
                            ("local_panel_pilot_area", "Local panel: a devolved child decision-making pilot area"),
                        ],
                        max_length=40,
                    ),
                ),
                ("effective_from", models.DateField()),
                (
                    "effective_to",
                    models.DateField(
                        blank=True, help_text="The last day the rule applies; empty while it still applies", null=True
                    ),
                ),
                (
                    "local_authority",
                    models.CharField(
                        blank=True, help_text="ONS (GSS) code of the pilot area's local authority", max_length=9
                    ),
                ),
                (
                    "panel_period_days",
                    models.PositiveSmallIntegerField(
                        default=45, help_text="Calendar days the panel has for its Reasonable Grounds decision"
                    ),
                ),
                ("description", models.TextField(help_text="Why the rule exists: the policy or pilot it follows")),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
            options={"ordering": ["kind", "local_authority", "effective_from"]},
        ),
        migrations.CreateModel(
            name="ReconsiderationRequest",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("grounds", models.TextField()),
                ("requested_at", models.DateTimeField()),
                (
                    "decision",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="reconsideration_requests",
                        to="decisions.decision",
                    ),
                ),
                (
                    "referral",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="reconsideration_requests",
                        to="referrals.referral",
                    ),
                ),
                (
                    "requested_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
            ],
        ),
    ]
