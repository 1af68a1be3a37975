"""Import runs that failed or wait to be applied, for the admin dashboard (apps.core.attention)."""

from django.urls import reverse

from apps.core.attention import AttentionItem, attention_register
from apps.imports.models import ImportRun, ImportRunStatus

WAITING = {ImportRunStatus.FAILED: "failed", ImportRunStatus.VALIDATED: "checked, waiting to be applied"}


def import_runs(property_ids) -> list[AttentionItem]:
    runs = ImportRun.objects.alive().filter(status__in=list(WAITING))
    if property_ids is not None:
        runs = runs.filter(property_id__in=property_ids)
    return [
        AttentionItem(
            f"{run}: {WAITING[run.status]}",
            reverse("admin:imports_importrun_change", args=[run.pk]),
            run.property_id,
        )
        for run in runs.order_by("-created_at")[:50]
    ]


def register() -> None:
    attention_register("imports.runs", title="Imports failed or waiting", provider=import_runs, order=60)
