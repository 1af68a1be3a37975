from apps.integrations.management.commands import integration_poll

PUSH_KINDS = ("smartphonekey",)  # vendors whose run pushes Keyhouse changes out


class Command(integration_poll.Command):
    help = (
        "Push pending changes to integration accounts of one kind now, in this process (SmartphoneKey: "
        "pending native grants; docs/INTEGRATIONS.md). Same service as the workers' run; every account "
        "of that kind that is not disabled, or only --account. Exits 1 if any failed."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=PUSH_KINDS)
        parser.add_argument("--account", help="Only this account (its id).")
