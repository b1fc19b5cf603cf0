"""What a record said before and after a change, for the audit trail (issue 22: administrators are accountable).

Values are taken field by field from the model's concrete fields, in a JSON form. Secrets never enter the
trail: a password hash (or any field named in SECRET_FIELDS) is written as the word "changed" when it changed
and left out otherwise.
"""

import datetime as dt
import decimal
import uuid

SECRET_FIELDS = frozenset({"password", "key", "key_hash"})
CHANGED = "changed"


def _json_value(value):
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [_json_value(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _json_value(item) for key, item in value.items()}
    return value


def field_values(instance) -> dict:
    """The instance's concrete fields as JSON values, by attribute name (`organisation_id`, not `organisation`)."""
    return {field.attname: _json_value(getattr(instance, field.attname)) for field in instance._meta.concrete_fields}


def stored_values(instance) -> dict | None:
    """What the database holds for this instance now (None for one not yet saved): the "before" of a change."""
    if instance.pk is None:
        return None
    stored = instance._meta.model._default_manager.filter(pk=instance.pk).first()
    return field_values(stored) if stored is not None else None


def difference(before: dict | None, after: dict | None) -> dict:
    """{"changed": [names], "before": {...}, "after": {...}} with only the fields that differ; a created
    record has no before, a deleted one no after."""
    before, after = before or {}, after or {}
    names = [
        name
        for name in {**before, **after}
        if before.get(name) != after.get(name) or (name in before) != (name in after)
    ]
    shown = {
        "changed": sorted(names),
        "before": {name: before[name] for name in names if name in before and name not in SECRET_FIELDS},
        "after": {name: after[name] for name in names if name in after and name not in SECRET_FIELDS},
    }
    secrets = sorted(name for name in names if name in SECRET_FIELDS)
    if secrets:
        # Said, never shown: "password": "changed".
        shown["secrets"] = dict.fromkeys(secrets, CHANGED)
    return shown
