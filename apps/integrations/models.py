"""Integration accounts (a remote system mirrored into one property) and their sync runs
(docs/INTEGRATIONS.md). Links between Keyhouse objects and remote records are core's
`ExternalRef` rows carrying the account's id (`ExternalRef.account_id`)."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from apps.core.ids import uuid7
from apps.core.models import Entity
from apps.core.validators import validate_time_zone
from apps.integrations.choices import IntegrationAccountKind, IntegrationAccountStatus, SyncRunStatus
from apps.integrations.constants import POLL_INTERVAL_DEFAULT, POLL_INTERVAL_MAX, POLL_INTERVAL_MIN


class IntegrationAccount(Entity):
    """One account of a remote system (a Lockt API user/key pair), mirrored into one property.

    The credentials are stored only wrapped under the KEK ring (`kek_id` names the KEK;
    apps.keys.kek, associated data bound to this row's id), and never shown after creation.
    """

    kind = models.CharField(max_length=32, choices=IntegrationAccountKind.choices)
    property = models.ForeignKey("properties.Property", on_delete=models.PROTECT, related_name="integration_accounts")
    display_name = models.CharField(max_length=200)
    base_url = models.URLField(
        max_length=500, help_text="The remote API's base URL, e.g. https://cloudapi.lockt.com/api/v1"
    )
    kek_id = models.PositiveIntegerField()
    wrapped_credentials = models.BinaryField(editable=False)
    poll_interval_seconds = models.PositiveIntegerField(
        default=POLL_INTERVAL_DEFAULT,
        validators=[MinValueValidator(POLL_INTERVAL_MIN), MaxValueValidator(POLL_INTERVAL_MAX)],
    )
    time_zone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],
        help_text="The zone of the remote's times that carry none (ParqEx's `last_contact`, `last_toggled`).",
    )
    status = models.CharField(
        max_length=16, choices=IntegrationAccountStatus.choices, default=IntegrationAccountStatus.OK
    )
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="", help_text="Why the last poll failed (no secrets).")
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text="When the dispatcher polls it next; empty while it waits for new credentials."
    )
    consecutive_failures = models.PositiveIntegerField(default=0)

    class Meta(Entity.Meta):
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="integration_account_due")]
        constraints = [
            models.UniqueConstraint(fields=["property", "kind", "display_name"], name="integration_account_unique_name")
        ]

    def __str__(self) -> str:
        return self.display_name


class SyncRun(models.Model):
    """One poll of one account: when, how it ended, and its counts (updated while it runs)."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    account = models.ForeignKey(IntegrationAccount, on_delete=models.CASCADE, related_name="sync_runs")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=SyncRunStatus.choices, default=SyncRunStatus.RUNNING)
    trigger = models.CharField(max_length=120, help_text="Who asked: `schedule`, or the actor who pressed Poll now.")
    fetched = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["account", "-started_at"], name="sync_run_account_newest")]

    def __str__(self) -> str:
        return f"{self.account} {self.started_at:%Y-%m-%d %H:%M:%S}"


class ParqExDoor(models.Model):
    """A ParqEx door mirrored as a Keyhouse lock, with what Keyhouse keeps of it and its
    controller (docs/INTEGRATIONS.md "ParqEx"). The lock's link is its `ExternalRef` (source
    `parqex`, external id = the door id); this row holds the vendor fields a lock has no place
    for, and the digest that lets an unchanged door be skipped without a write."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    account = models.ForeignKey(IntegrationAccount, on_delete=models.CASCADE, related_name="parqex_doors")
    lock = models.OneToOneField("locks.Lock", on_delete=models.CASCADE, related_name="parqex_door")
    door_id = models.CharField(max_length=64)
    entity_number = models.PositiveIntegerField(null=True, blank=True)
    controller_id = models.CharField(max_length=64)
    blackbox_code = models.CharField(max_length=64, blank=True, default="")
    software_version = models.CharField(max_length=64, blank=True, default="")
    controller_last_contact = models.DateTimeField(null=True, blank=True)
    time_before_door_open_alert = models.PositiveIntegerField(null=True, blank=True, help_text="Seconds.")
    entities_controlled = models.PositiveIntegerField(
        null=True, blank=True, help_text="As the remote says; may differ from the doors it lists."
    )
    active = models.BooleanField(default=True, help_text="False when the door or its controller is inactive.")
    door_state = models.CharField(max_length=8, default="unknown")  # open | closed | unknown
    last_toggled = models.DateTimeField(null=True, blank=True)
    battery_level = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Percent; empty = unknown (no Bluetooth sensor)."
    )
    auto_close_enabled = models.BooleanField(default=False)
    auto_close_delay_seconds = models.PositiveIntegerField(null=True, blank=True)
    user_relationship = models.CharField(max_length=64, blank=True, default="")
    digest = models.CharField(max_length=64, blank=True, default="")
    missing_since = models.DateTimeField(
        null=True, blank=True, help_text="When a poll first did not list this door (never deleted)."
    )

    class Meta:
        verbose_name = "ParqEx door"
        ordering = ["controller_id", "entity_number", "door_id"]
        constraints = [models.UniqueConstraint(fields=["account", "door_id"], name="parqex_door_one_per_account")]

    def __str__(self) -> str:
        return f"ParqEx door {self.door_id}"


class SmartphoneKeyCompatVersion(models.Model):
    """The `version` the SmartphoneKey compatibility endpoint answers for a user: it rises by 1
    per change to that user's locks made through the endpoint (docs/INTEGRATIONS.md)."""

    user = models.OneToOneField("accounts.User", on_delete=models.CASCADE, related_name="smartphonekey_compat_version")
    version = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"SmartphoneKey version {self.version} of {self.user_id}"


class SmartphoneKeyPushState(models.TextChoices):
    PENDING = "pending", "Pending"
    PUSHED = "pushed", "Pushed"
    FAILED = "failed", "Failed"


class SmartphoneKeyPush(models.Model):
    """One native grant × one SmartphoneKey account (target): where its push stands
    (docs/INTEGRATIONS.md "SmartphoneKey push"). Pending until the account's next push run;
    pushed with the remote's `version`; failed with the reason (no secrets)."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    grant = models.ForeignKey("access.AccessGrant", on_delete=models.CASCADE, related_name="smartphonekey_pushes")
    account = models.ForeignKey(IntegrationAccount, on_delete=models.CASCADE, related_name="smartphonekey_pushes")
    state = models.CharField(max_length=8, choices=SmartphoneKeyPushState.choices, default="pending")
    remote_version = models.FloatField(null=True, blank=True, help_text="The remote's `version` after the push.")
    reason = models.TextField(blank=True, default="", help_text="Why it failed (no secrets).")
    sent_valid_until = models.DateTimeField(null=True, blank=True, help_text="validUntil of the last push.")
    queued_at = models.DateTimeField()
    pushed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "SmartphoneKey push"
        verbose_name_plural = "SmartphoneKey pushes"
        ordering = ["-queued_at"]
        constraints = [models.UniqueConstraint(fields=["grant", "account"], name="smartphonekey_push_one_per_target")]
        indexes = [models.Index(fields=["account", "state"], name="smartphonekey_push_due")]

    def __str__(self) -> str:
        return f"push of grant {self.grant_id}: {self.state}"


class LocktRecordKind(models.TextChoices):
    SCHEDULE = "schedule", "Schedule"
    LOCK = "lock", "Door"
    GROUP = "group", "Access level"
    USER = "user", "User"
    CREDENTIAL = "credential", "Credential"
    FOB = "fob", "Fob"


class LocktRecordStatus(models.TextChoices):
    SYNCED = "synced", "Synced"
    FAILED = "failed", "Failed"


class LocktRecord(models.Model):
    """One Lockt record of one account as the last poll saw it (docs/INTEGRATIONS.md "Lockt
    sync"): the digest of what was applied, and, when it could not be applied, the field, value
    and reason. A new record that fails has a row here and no Keyhouse object (nor link) yet;
    a linked one keeps its Keyhouse object at its last good state."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    account = models.ForeignKey(IntegrationAccount, on_delete=models.CASCADE, related_name="lockt_records")
    kind = models.CharField(max_length=16, choices=LocktRecordKind.choices)
    external_id = models.CharField(max_length=64, help_text="The record's id in Lockt.")
    label = models.CharField(max_length=300, blank=True, default="", help_text="Its name, as Lockt shows it.")
    digest = models.CharField(max_length=64, blank=True, default="", help_text="SHA-256 of the record last applied.")
    status = models.CharField(max_length=8, choices=LocktRecordStatus.choices, default=LocktRecordStatus.SYNCED)
    error_field = models.CharField(max_length=200, blank=True, default="")
    error_value = models.CharField(max_length=300, blank=True, default="", help_text="Card numbers are never kept.")
    error_reason = models.TextField(blank=True, default="")
    created_here = models.BooleanField(
        default=False, help_text="The sync made the Keyhouse object (so it removes it when Lockt does)."
    )
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = "Lockt record"
        ordering = ["account", "kind", "external_id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "kind", "external_id"], name="lockt_record_one_per_account")
        ]
        indexes = [models.Index(fields=["account", "status"], name="lockt_record_status")]

    def __str__(self) -> str:
        return f"Lockt {self.get_kind_display().lower()} {self.label or self.external_id}"


class LocktCredentialClaim(models.TextChoices):
    CLAIMED = "claimed", "Claimed"
    UNCLAIMED = "unclaimed", "Unclaimed"
    UNKNOWN = "", "Not stated"


class LocktCredential(models.Model):
    """A Lockt credential or fob as a read-only record on its holder (docs/INTEGRATIONS.md
    "Lockt credentials and fobs"). Only the card number's last 4 digits are kept: Keyhouse
    never uses Lockt card numbers, so the full number is never stored, logged or shown.
    Its `LocktRecord` (kind `credential` or `fob`) holds the digest and any failure."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    record = models.OneToOneField(LocktRecord, on_delete=models.CASCADE, related_name="credential")
    holder = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="lockt_credentials"
    )
    holder_external_id = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="The holder's Lockt user id, as Lockt says (empty: unheld)."
    )
    name = models.CharField(max_length=200, blank=True, default="")
    card_last4 = models.CharField(max_length=4, blank=True, default="", help_text="The card number's last 4 digits.")
    claim_status = models.CharField(
        max_length=16, choices=LocktCredentialClaim.choices, blank=True, default=LocktCredentialClaim.UNKNOWN
    )
    fob = models.BooleanField(default=False)
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)
    reassign_pending = models.BooleanField(
        default=False, help_text="Reassigned in Keyhouse; the next push sends it to Lockt (PUT /fob)."
    )

    class Meta:
        verbose_name = "Lockt credential"
        ordering = ["record__external_id"]

    def __str__(self) -> str:
        kind = "fob" if self.fob else "credential"
        return f"Lockt {kind} {self.name or self.record.external_id}"

    @property
    def card_masked(self) -> str:
        return f"\u2022\u2022\u2022\u2022{self.card_last4}" if self.card_last4 else ""


class LocktEventMark(models.Model):
    """The durable high-water mark of an account's Lockt events: the largest event id imported
    (spec §10.8). It moves in the transaction that stores the events, so each event is imported
    once per account."""

    account = models.OneToOneField(
        IntegrationAccount, on_delete=models.CASCADE, primary_key=True, related_name="lockt_event_mark"
    )
    last_event_id = models.PositiveBigIntegerField(default=0)
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Lockt events of {self.account} up to {self.last_event_id}"


class LocktMarkState(models.TextChoices):
    PENDING = "pending", "Pending"
    PUSHED = "pushed", "Pushed"
    FAILED = "failed", "Failed"
    REMOVING = "removing", "Removing"


class LocktMark(models.Model):
    """A Keyhouse-owned group or lock marked "for Lockt" on one Lockt account (docs/INTEGRATIONS.md
    "Lockt push"), like `SmartphoneKeyPush` a row per (object, account) with where its push
    stands: pending until the account's next poll pushes it (a lock → a Lockt door, a group →
    a Lockt access level), pushed with the Lockt id and the digest of what was sent, failed
    with the reason, removing once unmarked until Lockt's copy is deleted. Once pushed, the
    object also has a `fromInternalToExternal` link, so the poll never takes it for a new
    Lockt-owned one."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    account = models.ForeignKey(IntegrationAccount, on_delete=models.CASCADE, related_name="lockt_marks")
    group = models.ForeignKey(
        "access.UserGroup", null=True, blank=True, on_delete=models.CASCADE, related_name="lockt_marks"
    )
    lock = models.ForeignKey("locks.Lock", null=True, blank=True, on_delete=models.CASCADE, related_name="lockt_marks")
    state = models.CharField(max_length=8, choices=LocktMarkState.choices, default=LocktMarkState.PENDING)
    external_id = models.CharField(max_length=64, blank=True, default="", help_text="Its Lockt id once pushed.")
    digest = models.CharField(max_length=64, blank=True, default="", help_text="SHA-256 of the record last pushed.")
    reason = models.TextField(blank=True, default="", help_text="Why the last push failed.")
    marked_at = models.DateTimeField()
    pushed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "Lockt mark"
        ordering = ["account", "-marked_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(group__isnull=False, lock__isnull=True)
                | models.Q(group__isnull=True, lock__isnull=False),
                name="lockt_mark_group_or_lock",
            ),
            models.UniqueConstraint(fields=["account", "group"], name="lockt_mark_one_per_group"),
            models.UniqueConstraint(fields=["account", "lock"], name="lockt_mark_one_per_lock"),
        ]

    def __str__(self) -> str:
        target = self.group if self.group_id else self.lock
        return f"{target} for Lockt ({self.get_state_display().lower()})"

    @property
    def kind(self) -> str:
        return LocktRecordKind.GROUP if self.group_id else LocktRecordKind.LOCK
