"""Lifting the audit trail's append-only triggers the way a database administrator could.

Tests use this to make the hand edits `opennrm audit verify` must catch, and the shared conftest
uses it around pytest-django's flush after transactional tests. The SQLite statements are the
migration's own, so a change to the triggers is picked up here.
"""

import importlib
from contextlib import contextmanager

from django.db import connection as default_connection

# The migration module's name starts with a digit, so it cannot be imported with `from … import`.
_append_only = importlib.import_module("opennrm.audit.migrations.0002_append_only")

POSTGRES_LIFT = "ALTER TABLE audit_auditevent DISABLE TRIGGER USER"
POSTGRES_RESTORE = "ALTER TABLE audit_auditevent ENABLE TRIGGER USER"


def lift_append_only(connection=default_connection) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(POSTGRES_LIFT)
        else:
            for sql in _append_only.SQLITE_DOWN:
                cursor.execute(sql)


def restore_append_only(connection=default_connection) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(POSTGRES_RESTORE)
        else:
            for sql in _append_only.SQLITE_DOWN + _append_only.SQLITE_UP:
                cursor.execute(sql)


@contextmanager
def append_only_lifted(connection=default_connection):
    lift_append_only(connection)
    try:
        yield
    finally:
        restore_append_only(connection)
