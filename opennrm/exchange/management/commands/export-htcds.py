"""`opennrm export-htcds --recipient NAME --output FILE [--as USERNAME]` (contract section 6; ADR 0031).

Every case in HTCDS 2.0, with no direct identifiers and pseudonymous ids keyed to the recipient. The whole file is
written beside FILE under a temporary name, each case validated against the committed schema as it is made; any
case with a category the mapping does not know, or that the schema refuses, is reported (each naming its record)
and the temporary file deleted: nothing is published. Otherwise the file is moved into place in the transaction
that audits the export, so a reader never meets half a file and no export goes unrecorded. Exit status 0 when written, 1 otherwise.

Who: `--as` names the statistician the export is made for and audited as. Without it (the contract's form) the
export is the service operator's, like `opennrm audit checkpoint`: audited with no user and the operating-system
account that ran it, since whoever runs commands on the server holds the database already.
"""

import getpass
import os
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, transaction

from opennrm.accounts.models import User
from opennrm.audit.services import Origin, current_origin
from opennrm.exchange.export import ExportResult, write_export
from opennrm.exchange.mapping import MAPPING_VERSION
from opennrm.exchange.pseudonyms import ExchangeKeyMissing, exchange_key, recipient_name
from opennrm.exchange.services import htcds_export_record
from opennrm.policy import Role

# Who may run an export: a statistician, whose work includes exchange under a data-sharing agreement. The file
# holds no direct identifier and no free text, and its ids mean nothing outside the recipient's key.
EXPORT_ROLES = frozenset({Role.STATISTICIAN})
MAX_PROBLEMS_SHOWN = 50


def operating_system_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        return f"uid {os.getuid()}"


class Command(BaseCommand):
    help = (
        "Write every case in HTCDS 2.0 (JSON, validated against opennrm/exchange/htcds-2.0.schema.json) for one "
        "recipient: no names, dates of birth, addresses, phone numbers, references or free text, and ids that are "
        "pseudonyms keyed to the recipient. Nothing is written if any case cannot be mapped."
    )

    def add_arguments(self, parser):
        parser.add_argument("--recipient", required=True, metavar="NAME", help="Who the file is for, such as CTDC.")
        parser.add_argument(
            "--output", required=True, metavar="FILE", help="The file to write (replaced if it exists)."
        )
        parser.add_argument(
            "--as",
            dest="username",
            default=None,
            metavar="USERNAME",
            help="The statistician making the export, audited as theirs; without it, as the service operator's.",
        )

    def handle(self, *args, recipient, output, username, **options):
        try:
            recipient = recipient_name(recipient)
        except ValueError as exc:
            raise CommandError(f"--recipient: {exc}")
        target = Path(output)
        if target.is_dir():
            raise CommandError(f"{output} is a folder: give --output a file name, such as htcds-ctdc.json")
        if not target.parent.is_dir():
            raise CommandError(f"There is no folder {str(target.parent)!r} to write {target.name} in")
        actor = self._actor(username)
        try:
            key = exchange_key()
        except ExchangeKeyMissing as exc:
            raise CommandError(str(exc))

        token = current_origin.set(Origin(user_agent="opennrm export-htcds"))
        try:
            result = self._publish(target, actor=actor, recipient=recipient, key=key)
        finally:
            current_origin.reset(token)
        self.stdout.write(f"Wrote {result.cases} case(s) for {recipient} to {target} (SHA-256 {result.sha256})")

    def _refuse(self, problems: list[str]) -> None:
        shown = problems[:MAX_PROBLEMS_SHOWN]
        for problem in shown:
            self.stderr.write(problem)
        if len(problems) > len(shown):
            self.stderr.write(f"… and {len(problems) - len(shown)} more")
        raise CommandError(
            f"Nothing was written: {len(problems)} problem(s) above. Add the missing categories to "
            "opennrm/exchange/data/uk-to-htcds.csv or correct the records, then export again."
        )

    def _actor(self, username: str | None) -> User | None:
        if username is None:
            return None
        try:
            actor = User.objects.select_related("organisation").filter(username=username).first()
        except DatabaseError as exc:
            raise CommandError(f"Cannot use the database ({exc}). Check DATABASE_URL, and run `opennrm migrate` first.")
        if actor is None or not actor.is_active:
            raise CommandError(f"There is no active user {username!r}: give --as the username of a statistician")
        if actor.role not in EXPORT_ROLES:
            raise CommandError(f"{username} is a {actor.role_label}: only a statistician may export cases")
        return actor

    def _publish(self, target: Path, *, actor, recipient: str, key: bytes) -> ExportResult:
        """Write beside `target` under a temporary name; move it into place in the transaction that audits it."""
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "wb") as file:
                result = write_export(file, recipient=recipient, key=key)
                if result.problems:
                    self._refuse(result.problems)
                file.flush()
                os.fsync(file.fileno())
            with transaction.atomic():
                htcds_export_record(
                    actor=actor,
                    recipient=recipient,
                    cases=result.cases,
                    sha256=result.sha256,
                    file_name=target.name,
                    mapping_version=MAPPING_VERSION,
                    operator=None if actor else operating_system_user(),
                )
                os.replace(temporary, target)
        except OSError as exc:
            raise CommandError(f"Cannot write {target}: {exc.strerror or exc}. Nothing was exported.")
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)
        return result
