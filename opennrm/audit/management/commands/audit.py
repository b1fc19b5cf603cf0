import sys

from django.core.management.base import BaseCommand, CommandError

from opennrm.audit.verify import audit_verify


class Command(BaseCommand):
    help = "Work with the audit trail. `opennrm audit verify` checks every entry's HMAC chain."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("verify", help="Check the audit trail; exit 0 if intact, 1 naming the first broken entry.")

    def handle(self, *args, action, **options):
        if action != "verify":
            raise CommandError(f"Unknown action {action!r}")
        tty = sys.stderr.isatty()

        def progress(n: int) -> None:
            if tty:
                sys.stderr.write(f"\rChecked {n:,} entries")
                sys.stderr.flush()

        result = audit_verify(progress=progress)
        if tty:
            sys.stderr.write("\n")
        if result.ok:
            self.stdout.write(f"Audit trail intact: {result.checked:,} entries checked.")
            return
        self.stderr.write(f"Audit trail BROKEN after {result.checked:,} good entries: {result.problem}")
        sys.exit(1)
