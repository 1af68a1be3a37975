"""Reads of integration accounts and their runs, scoped to the caller's properties."""

from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet
from django.utils import timezone

from apps.core.choices import EntityTypeState, ExternalRefSyncDirection
from apps.core.models import ExternalRef
from apps.core.principal import ALL
from apps.integrations.choices import IntegrationAccountStatus
from apps.integrations.models import IntegrationAccount, LocktRecord, SyncRun

POLLED_STATUSES = (IntegrationAccountStatus.OK, IntegrationAccountStatus.BACKING_OFF)


def integration_account_list(*, property_ids=ALL, kind: str | None = None) -> QuerySet[IntegrationAccount]:
    """Accounts of live properties in `property_ids` (ALL: every one), with their property."""
    accounts = IntegrationAccount.objects.exclude(property__type_state=EntityTypeState.DELETED).select_related(
        "property"
    )
    if property_ids is not ALL:
        accounts = accounts.filter(property_id__in=property_ids)
    if kind is not None:
        accounts = accounts.filter(kind=kind)
    return accounts.order_by("id")


def integration_account_get(*, account_id, property_ids=ALL) -> IntegrationAccount | None:
    return integration_account_list(property_ids=property_ids).filter(pk=account_id).first()


def integration_accounts_due(*, now=None) -> QuerySet[IntegrationAccount]:
    """Accounts the dispatcher should poll now: healthy or backing off, and their time has come."""
    now = now or timezone.now()
    return (
        integration_account_list()
        .filter(status__in=POLLED_STATUSES, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
    )


def sync_run_list(*, account) -> QuerySet[SyncRun]:
    """An account's runs, newest first."""
    return SyncRun.objects.filter(account=account).order_by("-started_at", "-id")


def sync_run_latest(*, account) -> SyncRun | None:
    return sync_run_list(account=account).first()


def integration_credentials_remaining_by_kek(current_id: int) -> dict[int, int]:
    """Accounts whose credentials are not under the current KEK, by kekId (manage.py rotate_kek)."""
    remaining: dict[int, int] = {}
    for kek_id in IntegrationAccount.objects.exclude(kek_id=current_id).values_list("kek_id", flat=True):
        remaining[kek_id] = remaining.get(kek_id, 0) + 1
    return remaining


def smartphonekey_push_list(*, account):
    """An account's grant pushes (grant × this account), with their grants."""
    from apps.integrations.models import SmartphoneKeyPush

    return SmartphoneKeyPush.objects.filter(account=account).select_related("grant")


LOCKT_RECORD_MODELS = {
    "schedule": "access.schedule",
    "lock": "locks.lock",
    "group": "access.usergroup",
    "user": "accounts.user",
}


def lockt_record_object(record: LocktRecord) -> tuple[str, str] | None:
    """The Keyhouse object a Lockt record is linked to, by name, and who owns it ("Lockt", or
    "Keyhouse" for a person Keyhouse pushed); None when it is not linked (a new record that failed)."""
    if record.kind in ("credential", "fob"):  # a read-only record of its own, on its holder
        from apps.integrations.models import LocktCredential

        credential = LocktCredential.objects.select_related("holder").filter(record=record).first()
        if credential is None:
            return None
        holder = credential.holder.display_name if credential.holder else "no holder"
        return f"{credential} ({holder})", "Lockt"
    app_label, model = LOCKT_RECORD_MODELS[record.kind].split(".")
    content_type = ContentType.objects.get_by_natural_key(app_label, model)
    link = ExternalRef.objects.filter(
        account_id=record.account_id, content_type=content_type, external_id=record.external_id
    ).first()
    if link is None:
        return None
    obj = content_type.model_class()._base_manager.filter(pk=link.object_id).first()
    owner = "Keyhouse" if link.sync_direction == ExternalRefSyncDirection.FROM_INTERNAL_TO_EXTERNAL else "Lockt"
    return (str(obj) if obj is not None else "(gone)"), owner


def lockt_record_list(*, account):
    """An account's Lockt records (every kind), each with its linked Keyhouse object's id
    (`linked_object_id`, None when not linked) and the link's direction, and its credential
    (credentials and fobs): a fixed number of queries whatever the page size."""
    from django.db.models import Case, CharField, IntegerField, OuterRef, Subquery, Value, When

    from apps.integrations.models import LocktRecord

    content_types = {
        kind: ContentType.objects.get_by_natural_key(*label.split(".")).pk
        for kind, label in LOCKT_RECORD_MODELS.items()
    }
    link_type = Case(
        *[When(kind=kind, then=Value(pk)) for kind, pk in content_types.items()],
        default=Value(None),
        output_field=IntegerField(),
    )
    links = ExternalRef.objects.filter(
        account_id=OuterRef("account_id"), external_id=OuterRef("external_id"), content_type_id=OuterRef("link_type")
    )
    return (
        LocktRecord.objects.filter(account=account)
        .annotate(link_type=link_type)
        .annotate(
            linked_object_id=Subquery(links.values("object_id")[:1]),
            link_direction=Subquery(links.values("sync_direction")[:1], output_field=CharField()),
        )
        .select_related("credential")
    )


def lockt_account_person(*, account, user_id):
    """The person `user_id` if linked to a Lockt user of this account, else None."""
    from apps.accounts.models import User

    linked = ExternalRef.objects.filter(
        account_id=account.pk,
        content_type=ContentType.objects.get_for_model(User),
        object_id=user_id,
    )
    return User.objects.filter(pk=user_id).alive().first() if linked.exists() else None


def lockt_account_people(*, account):
    """The live people linked to Lockt users of this account, by name."""
    from apps.accounts.models import User

    linked = ExternalRef.objects.filter(
        account_id=account.pk, content_type=ContentType.objects.get_for_model(User)
    ).values("object_id")
    return list(User.objects.alive().filter(pk__in=linked).order_by("display_name"))


def lockt_mark_list(*, account):
    """An account's marked groups and locks, oldest mark first, with their objects (two joins)."""
    from apps.integrations.models import LocktMark

    return LocktMark.objects.filter(account=account).select_related("group", "lock").order_by("marked_at", "id")


def lockt_markable_group(*, account, group_id):
    """The live group of the account's property with this id, or None (the mark service says
    why one cannot be marked)."""
    from apps.access.models import UserGroup

    return UserGroup.objects.alive().filter(property_id=account.property_id, pk=group_id).first()


def lockt_markable_lock(*, account, lock_id):
    """The live lock of the account's property with this id, or None."""
    from apps.locks.models import Lock

    return Lock.objects.alive().filter(property_id=account.property_id, pk=lock_id).first()
