"""The Lockt vendor's poll (apps.integrations.registry): read, reconcile (sync.py), push (push.py)."""

from apps.integrations.lockt.client import LocktClient
from apps.integrations.lockt.credentials import lockt_credentials_apply, lockt_fobs_push
from apps.integrations.lockt.marks import LocktMarksPush
from apps.integrations.lockt.push import LocktPush
from apps.integrations.lockt.sync import LocktSync, lockt_event_mark
from apps.integrations.models import IntegrationAccount
from apps.integrations.registry import PollContext


def lockt_poll(context: PollContext) -> None:
    """Read everything first (a transport failure raises before any write), then reconcile
    Lockt's records into Keyhouse, then push marked locks and groups and Keyhouse-owned people to Lockt."""
    account = IntegrationAccount.objects.select_related("property").get(pk=context.account.pk)
    client = LocktClient(context.http)
    client.ping()  # Spec: S06; a refused key says so on the first, cheapest call
    schedules = client.schedules()
    doors = client.doors()
    door_states = client.door_states()
    levels = client.access_levels()
    delegates = client.delegates()
    users = client.users()
    events = client.events(after=lockt_event_mark(account))
    credentials, fobs = client.credentials(), client.fobs()
    sync = LocktSync(account, progress=context.progress)
    sync.run(
        schedules=schedules,
        doors=doors,
        levels=levels,
        users=users,
        events=events,
        door_states=door_states,
        delegates=delegates,
    )
    lockt_credentials_apply(sync=sync, credentials=credentials, fobs=fobs)
    # Marked locks and groups before the people: a level recreated here has a new id, which the
    # users' push then sends in its members' `accesslevels` (one pass, not two).
    LocktMarksPush(sync, client, schedules=schedules, doors=doors, levels=levels).run()
    LocktPush(sync, client, users).run()
    lockt_fobs_push(sync=sync, client=client)
    sync.flush(final=True)
