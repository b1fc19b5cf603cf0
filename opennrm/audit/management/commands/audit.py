import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from opennrm.audit.checkpoint import checkpoint_path, checkpoint_read
from opennrm.audit.services import audit_checkpoint_write
from opennrm.audit.verify import audit_verify
from opennrm.core.errors import Refused


class Command(BaseCommand):
    help = (
        "Work with the audit trail. `opennrm audit verify` checks every entry's HMAC chain (and, --against a checkpoint, "
        "that no chain is shorter than then); `opennrm audit checkpoint` writes a signed checkpoint of every chain's head."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser(
            "verify", help="Check the audit trail; exit 0 if intact, 1 naming the first broken entry."
        )
        verify.add_argument(
            "--against",
            type=Path,
            metavar="CHECKPOINT",
            help="A checkpoint file (or a directory: its newest checkpoint); any chain shorter than there is broken.",
        )
        checkpoint = sub.add_parser("checkpoint", help="Write a signed checkpoint of every chain's head to a new file.")
        checkpoint.add_argument(
            "--output",
            type=Path,
            metavar="FILE",
            help="The new file, or a directory to write a timestamped one in (default: the directory "
            "OPENNRM_AUDIT_CHECKPOINT_DIR names).",
        )

    def handle(self, *args, action, **options):
        if action == "verify":
            self._verify(options["against"])
        elif action == "checkpoint":
            self._checkpoint(options["output"])
        else:
            raise CommandError(f"Unknown action {action!r}")

    def _verify(self, against: Path | None) -> None:
        checkpoint = None
        if against is not None:
            try:
                against = checkpoint_path(against)
                checkpoint = checkpoint_read(against)
            except Refused as exc:
                self._broken(f"Audit trail NOT verified: {exc}")
        tty = sys.stderr.isatty()

        def progress(n: int) -> None:
            if tty:
                sys.stderr.write(f"\rChecked {n:,} entries")
                sys.stderr.flush()

        result = audit_verify(against=checkpoint, progress=progress)
        if tty:
            sys.stderr.write("\n")
        if result.ok:
            reached = (
                f" Every chain reaches checkpoint {against} ({checkpoint.entries:,} entries then)."
                if checkpoint
                else ""
            )
            self.stdout.write(f"Audit trail intact: {result.checked:,} entries checked.{reached}")
            return
        self._broken(f"Audit trail BROKEN after {result.checked:,} good entries: {result.problem}")

    def _checkpoint(self, output: Path | None) -> None:
        target = (
            {"file": output}
            if output is not None and not output.is_dir()
            else {"directory": output or settings.AUDIT_CHECKPOINT_DIR}
        )
        try:
            written = audit_checkpoint_write(actor=None, **target)
        except Refused as exc:
            self._broken(f"Checkpoint NOT written: {exc}")
        self.stdout.write(
            f"Checkpoint written to {written.path}: {len(written.checkpoint.chains)} chains, {written.checkpoint.entries:,} entries."
        )

    def _broken(self, message: str) -> None:
        self.stderr.write(message)
        sys.exit(1)
