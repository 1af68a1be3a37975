from apps.core.actors import SYSTEM
from apps.integrations import services

APIUSER = "9r8ehveyb5h8mnwwet4yf9ugjynz8pkn"  # the Lockt spec's example pair (§2.3)
APIKEY = "hqx7wde64vwe987fvg6q4zaautrs3p7j"


def lockt_account(prop, *, base_url: str, display_name: str = "Lockt cloud", **kw):
    """A Lockt integration account of `prop` with the spec's example credentials."""
    return services.integration_account_create(
        prop=prop,
        kind="lockt",
        display_name=display_name,
        base_url=base_url,
        credentials=kw.pop("credentials", {"apiuser": APIUSER, "apikey": APIKEY}),
        actor=SYSTEM,
        **kw,
    )


def parqex_account(prop, *, base_url: str, display_name: str = "ParqEx", token: str | None = None, **kw):
    """A ParqEx integration account of `prop`, with the emulator's token unless told otherwise."""
    from apps.integrations.parqex.emulator.state import EMULATOR_TOKEN

    return services.integration_account_create(
        prop=prop,
        kind="parqex",
        display_name=display_name,
        base_url=base_url,
        credentials={"token": token or EMULATOR_TOKEN},
        actor=SYSTEM,
        **kw,
    )


def smartphonekey_account(prop, *, base_url: str, display_name: str = "SmartphoneKey", api_key: str | None = None):
    """A SmartphoneKey account of `prop`, with the emulator's API key unless told otherwise."""
    from apps.integrations.smartphonekey.emulator.state import EMULATOR_API_KEY

    return services.integration_account_create(
        prop=prop,
        kind="smartphonekey",
        display_name=display_name,
        base_url=base_url,
        credentials={"api_key": api_key or EMULATOR_API_KEY},
        actor=SYSTEM,
    )


def lockt_fob_record(account, *, external_id: str = "443", name: str = "Lobby fob"):
    """A polled-looking Lockt fob of `account` (its record and credential), unheld."""
    from django.utils import timezone

    from apps.integrations.models import LocktCredential, LocktRecord

    record = LocktRecord.objects.create(
        account=account, kind="fob", external_id=external_id, label=name, updated_at=timezone.now()
    )
    LocktCredential.objects.create(record=record, name=name, card_last4="0000", fob=True)
    return record


def lockt_person_link(account, user, *, external_id: str = "1693"):
    """Link `user` to a Lockt user of `account` (as a poll would)."""
    from django.contrib.contenttypes.models import ContentType

    from apps.core.models import ExternalRef

    return ExternalRef.objects.create(
        content_type=ContentType.objects.get_for_model(user),
        object_id=user.pk,
        source="lockt",
        account_id=account.pk,
        external_id=external_id,
        sync_direction="fromExternalToInternal",
        sync_status="synced",
    )


def lockt_mark(account, *, group=None, lock=None):
    """A pending mark of `group` or `lock` for `account` (as lockt_mark_set makes, without its poll)."""
    from django.utils import timezone

    from apps.integrations.models import LocktMark

    return LocktMark.objects.create(account=account, group=group, lock=lock, marked_at=timezone.now())
