"""The shared write pipeline (spec §9.3): parse → batch size → options → validate every object →
fail the batch or apply the valid ones in array order → summary."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from apps.integrations.lockt.emulator import envelopes
from apps.integrations.lockt.emulator.models import Instance
from apps.integrations.lockt.emulator.rules import Item
from apps.integrations.lockt.emulator.switches import switch
from apps.integrations.lockt.emulator.values import option


@dataclass
class Ctx:
    instance: Instance
    method: str
    query: dict  # the query string: key → value ("" for a bare flag)
    body: object = None  # the parsed JSON body, or None
    body_ok: bool = True  # False when the body was present but not JSON
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def sw(self, name: str):
        return switch(self.instance, name)

    @property
    def options(self) -> dict:
        return self.body.get("options", {}) if isinstance(self.body, dict) else {}


def parse_node(ctx: Ctx, node: str) -> list[dict] | None:
    """The body's root array, or None ("No data found or invalid JSON objects supplied"): the
    body must be a JSON object whose `node` is a non-empty array of objects ([Inference] §9.3 step 2)."""
    if not ctx.body_ok or not isinstance(ctx.body, dict):
        return None
    objects = ctx.body.get(node)
    if not isinstance(objects, list) or not objects or not all(isinstance(o, dict) for o in objects):
        return None
    return objects


Validate = Callable[[Item], list[str]]
Apply = Callable[[Item], str | None]


def write_batch(
    ctx: Ctx,
    *,
    node: str,
    validate: Validate,
    apply: Apply,
    counters: tuple[str, ...] = ("inserted", "updated"),
    limit: int | None = None,
    always_fail_batch: bool = False,
    make_item: Callable[[Ctx, dict, dict], Item] | None = None,
) -> envelopes.Reply:
    objects = parse_node(ctx, node)
    if objects is None:
        return envelopes.parse_failure()
    limit = ctx.instance.batch_limit if limit is None else limit
    if len(objects) > limit:
        return envelopes.batch_exceeded(limit)
    fails_batch = always_fail_batch or option(ctx.options, "validate_fails_batch", True)
    batch: dict = {}
    items = [(make_item or _item)(ctx, obj, batch) for obj in objects]
    verdicts = [validate(item) for item in items]
    errors = [
        envelopes.error_object(msgs, item.obj if item.echo is None else item.echo)
        for item, msgs in zip(items, verdicts, strict=True)
        if msgs
    ]
    if errors and fails_batch:
        return envelopes.write_failure(errors)
    counts = {"submitted": len(objects), **dict.fromkeys(counters, 0)}
    for item, msgs in zip(items, verdicts, strict=True):
        if msgs:
            continue
        outcome = apply(item)
        if outcome:
            counts[outcome] += 1
    ctx.instance.save(update_fields=["next_id"])
    return envelopes.write_summary(counts, errors)


def _item(ctx: Ctx, obj: dict, batch: dict) -> Item:
    return Item(instance=ctx.instance, obj=obj, batch=batch)
