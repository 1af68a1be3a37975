from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from apps.integrations import selectors, services
from apps.integrations.choices import IntegrationAccountKind, IntegrationAccountStatus

MANUAL = "manage.py integration_poll"


class Command(BaseCommand):
    help = (
        "Poll integration accounts of one kind now, in this process, with the service the workers "
        "run (docs/INTEGRATIONS.md). Polls every account of that kind that is not disabled "
        "(also those backing off or waiting for credentials), or only --account. Exits 1 if any failed."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=IntegrationAccountKind.values)
        parser.add_argument("--account", help="Only this account (its id).")

    def handle(self, *args, kind: str, account: str | None, **options):
        accounts = selectors.integration_account_list(kind=kind).exclude(status=IntegrationAccountStatus.DISABLED)
        if account:
            try:
                accounts = list(selectors.integration_account_list(kind=kind).filter(pk=account))
            except ValidationError:
                raise CommandError(f"--account: {account!r} is not an account id") from None
            if not accounts:
                raise CommandError(f"--account: no {kind} account {account}")
        failed = 0
        polled = 0
        for row in accounts:
            run = services.integration_account_poll(account_id=row.pk, trigger=MANUAL)
            if run is None:
                self.stdout.write(
                    f"{row.display_name} ({row.property.display_name}): skipped (disabled or already running)"
                )
                continue
            polled += 1
            row.refresh_from_db()
            counts = (
                f"fetched {run.fetched}, created {run.created}, updated {run.updated}, "
                f"unchanged {run.unchanged}, failed {run.failed}"
            )
            line = f"{row.display_name} ({row.property.display_name}): {run.status}, {counts}; account {row.status}"
            if run.error:
                failed += 1
                self.stderr.write(f"{line}: {run.error}")
            else:
                self.stdout.write(line)
        if not polled and not account:
            self.stdout.write(f"No {kind} account to poll.")
        if failed:
            raise CommandError(f"{failed} account(s) failed (see above)")
