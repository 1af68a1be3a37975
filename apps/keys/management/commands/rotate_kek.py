from django.core.management.base import BaseCommand, CommandError

from apps.core.actors import SYSTEM
from apps.keys.services import keys_rewrap


class Command(BaseCommand):
    help = (
        "Rewrap every server-held private key (and integration credentials) under KEYHOUSE_KEK_CURRENT "
        "(docs/PROTOCOL.md §5). "
        "Idempotent and resumable; exits 1 if any key could not be rewrapped."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument("--dry-run", action="store_true", help="Only count what would be rewrapped.")

    def handle(self, *args, batch_size: int, dry_run: bool, **options):
        report = keys_rewrap(actor=SYSTEM, batch_size=batch_size, dry_run=dry_run)
        pending = ", ".join(f"kek {k}: {n}" for k, n in sorted(report.remaining_by_kek.items())) or "none"
        if dry_run:
            self.stdout.write(f"current kek: {report.current_kek_id}")
            self.stdout.write(f"already under it: {report.already_current}")
            self.stdout.write(f"to rewrap: {pending}")
            return
        self.stdout.write(f"current kek: {report.current_kek_id}")
        self.stdout.write(f"rewrapped: {report.rewrapped}")
        self.stdout.write(f"already current: {report.already_current}")
        self.stdout.write(f"failed: {len(report.failed)}")
        for row, reason in sorted(report.failed.items()):
            self.stderr.write(f"  {row}: {reason}")
        self.stdout.write(f"still under old keks: {pending}")
        if report.old_keks_removable:
            self.stdout.write("Every wrapped key is under the current kek: older keks can be removed from the ring.")
        if report.failed:
            raise CommandError(f"{len(report.failed)} secret(s) could not be rewrapped (see above)")
