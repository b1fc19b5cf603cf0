from django.db import migrations

# The demo's pilot area and the IECA's creation (nrm.md 1.5, 2.4). Administrators change rules in the admin afterwards.
DEFAULT_RULES = (
    {
        "kind": "local_panel_pilot_area",
        "local_authority": "E09000019",
        "effective_from": "2021-06-01",
        "panel_period_days": 45,
        "description": "Islington: devolved child decision-making pilot, phase 1 (June 2021)",
    },
    {
        "kind": "ieca_immigration_action",
        "local_authority": "",
        "effective_from": "2021-11-01",
        "panel_period_days": 45,
        "description": "The Immigration Enforcement Competent Authority decides for people in immigration detention "
        "or subject to removal action (from November 2021)",
    },
)


def seed_default_rules(apps, schema_editor):
    RoutingRule = apps.get_model("decisions", "RoutingRule")
    for rule in DEFAULT_RULES:
        RoutingRule.objects.get_or_create(
            kind=rule["kind"],
            local_authority=rule["local_authority"],
            effective_from=rule["effective_from"],
            defaults=rule,
        )


class Migration(migrations.Migration):
    dependencies = [("decisions", "0002_decision_review_and_routing_rules")]

    operations = [migrations.RunPython(seed_default_rules, migrations.RunPython.noop)]
