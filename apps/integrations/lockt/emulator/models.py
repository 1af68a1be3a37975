"""The emulator's own tables: one `Instance` per apiuser/apikey pair, and every remote object
scoped to its instance. `rid` is the id Lockt shows; one counter per instance hands them out to
every kind (spec §9.2), so an id never names two kinds."""

import hashlib

from django.db import models


def apikey_digest(apikey: str) -> str:
    return hashlib.sha256(apikey.encode()).hexdigest()


class Instance(models.Model):
    apiuser = models.CharField(max_length=128, unique=True)
    apikey_sha256 = models.CharField(max_length=64)
    batch_limit = models.PositiveIntegerField(default=100)
    revoked = models.BooleanField(default=False)
    seed = models.CharField(max_length=16, default="doc")  # "doc" | "empty": what reset restores
    switches = models.JSONField(default=dict, blank=True)  # overrides of switches.DEFAULTS
    faults = models.JSONField(default=dict, blank=True)  # the armed fault, if any (control.py)
    clock = models.DateTimeField(null=True, blank=True)  # frozen "now"; null = real time
    next_id = models.BigIntegerField(default=700000)
    next_event_id = models.BigIntegerField(default=1000)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"Lockt emulator instance {self.apiuser[:6]}…"

    def allocate(self, count: int = 1) -> int:
        """First of `count` fresh ids; the caller saves the instance."""
        first = self.next_id
        self.next_id += count
        return first


class Remote(models.Model):
    instance = models.ForeignKey(Instance, on_delete=models.CASCADE)
    rid = models.BigIntegerField()

    class Meta:
        abstract = True


class Schedule(Remote):
    name = models.CharField(max_length=200)
    d0 = models.PositiveSmallIntegerField(default=0)
    d1 = models.PositiveSmallIntegerField(default=0)
    d2 = models.PositiveSmallIntegerField(default=0)
    d3 = models.PositiveSmallIntegerField(default=0)
    d4 = models.PositiveSmallIntegerField(default=0)
    d5 = models.PositiveSmallIntegerField(default=0)
    d6 = models.PositiveSmallIntegerField(default=0)
    start = models.TimeField()
    stop = models.TimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["instance", "rid"], name="lockt_emu_schedule_rid")]


class LocationType(Remote):
    name = models.CharField(max_length=200)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["instance", "rid"], name="lockt_emu_locationtype_rid")]


class Location(Remote):
    name = models.CharField(max_length=200)
    locationtype = models.ForeignKey(LocationType, null=True, on_delete=models.SET_NULL)
    enabled = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["instance", "rid"], name="lockt_emu_location_rid")]


class Door(Remote):
    name = models.CharField(max_length=200)
    type = models.CharField(max_length=100, default="Access Controlled Door")
    location = models.CharField(max_length=200, blank=True, default="")
    enabled = models.BooleanField(default=True)
    controller = models.CharField(max_length=100, default="BEST Switch™ API")
    battery_level = models.FloatField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["instance", "rid"], name="lockt_emu_door_rid")]


class AccessLevel(Remote):
    name = models.CharField(max_length=200)
    delegate = models.BooleanField(default=False)
    access_effective = models.DateTimeField(null=True, blank=True)
    access_expires = models.DateTimeField(null=True, blank=True)
    from_user_rid = models.BigIntegerField(null=True, blank=True)
    to_user_rid = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["instance", "rid"], name="lockt_emu_accesslevel_rid")]


class AccessLevelDoor(models.Model):
    level = models.ForeignKey(AccessLevel, on_delete=models.CASCADE, related_name="door_links")
    door = models.ForeignKey(Door, on_delete=models.CASCADE)
    schedule = models.ForeignKey(Schedule, null=True, on_delete=models.SET_NULL)
    position = models.PositiveIntegerField(default=0)


class User(Remote):
    id_num = models.CharField(max_length=200, blank=True, default="")
    first_name = models.CharField(max_length=200, blank=True, default="")
    last_name = models.CharField(max_length=200, blank=True, default="")
    email = models.CharField(max_length=254, blank=True, default="")
    phone = models.CharField(max_length=50, blank=True, default="")
    pin = models.CharField(max_length=50, blank=True, default="")
    access_effective = models.DateTimeField(null=True, blank=True)
    access_expires = models.DateTimeField(null=True, blank=True)
    enabled = models.BooleanField(default=True)
    privileged = models.BooleanField(default=False)
    installer = models.BooleanField(default=False)
    anonymized = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["instance", "rid"], name="lockt_emu_user_rid")]
        indexes = [models.Index(fields=["instance", "id_num"], name="lockt_emu_user_idnum")]

    @property
    def display_name(self) -> str:
        return f"{self.last_name}, {self.first_name}"


class UserAccessLevel(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="level_links")
    level = models.ForeignKey(AccessLevel, on_delete=models.CASCADE)
    position = models.PositiveIntegerField(default=0)


class Credential(Remote):
    """A credential; `fob` marks the ones /fob manages (spec §3.2 Fob)."""

    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="credentials")
    fob = models.BooleanField(default=False)
    card_num = models.CharField(max_length=50, blank=True, default="")
    name = models.CharField(max_length=200, blank=True, default="")
    credential_key = models.CharField(max_length=40, blank=True, default="")
    claim_status = models.CharField(max_length=20, default="Unclaimed")
    id_num = models.CharField(max_length=200, blank=True, default="")
    enabled = models.BooleanField(default=False)
    access_effective = models.DateTimeField(null=True, blank=True)
    access_expires = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["instance", "rid"], name="lockt_emu_credential_rid")]
        indexes = [models.Index(fields=["instance", "card_num"], name="lockt_emu_cred_card")]


class Event(Remote):
    device = models.CharField(max_length=200, blank=True, default="")
    code = models.IntegerField(default=48)
    code_text = models.CharField(max_length=200, blank=True, default="")
    subcode = models.IntegerField(null=True, blank=True)
    subcode_text = models.CharField(max_length=200, blank=True, default="")
    schedule = models.CharField(max_length=200, blank=True, default="")
    controller = models.CharField(max_length=200, blank=True, default="")
    location = models.CharField(max_length=200, blank=True, default="")
    card_num = models.CharField(max_length=50, blank=True, default="")
    user_name = models.CharField(max_length=400, blank=True, default="")
    user_rid = models.BigIntegerField(null=True, blank=True)
    category = models.IntegerField(default=1)
    category_text = models.CharField(max_length=200, blank=True, default="")
    hw_time = models.DateTimeField()
    db_time = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["instance", "rid"], name="lockt_emu_event_rid")]
