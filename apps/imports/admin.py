"""Staff admin for imports: the upload page, a run's diff as tables with Apply (only when
there are no errors, or "apply valid rows only" ticked), progress, the history of runs with
who ran them; and an "Export" action on the users, areas and groups list pages.

Every write goes through apps.imports.services; the admin parses the form and shapes the page.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from apps.access.models import UserGroup
from apps.accounts.models import User
from apps.accounts.selectors import principal_for_user
from apps.areas.models import Area
from apps.core.actors import actor_for_staff
from apps.core.admin_base import PropertyScopedAdmin
from apps.core.exceptions import ApplicationError, Forbidden
from apps.imports import policies, selectors, services, writers
from apps.imports.api import export_response
from apps.imports.models import OPERATIONS, ImportRun, ImportRunKind, ImportRunMode, ImportRunStatus
from apps.imports.parsers import KINDS, template
from apps.properties.models import Property

ADMIN_PAGE = 100  # rows of each diff table per page
ACTIVE = (ImportRunStatus.UPLOADED, ImportRunStatus.VALIDATING, ImportRunStatus.APPLYING)


def staff_label(user) -> str:
    return user.display_name or user.email


class UploadForm(forms.Form):
    property = forms.ModelChoiceField(queryset=Property.objects.alive().order_by("display_name"))
    kind = forms.ChoiceField(
        choices=[(k, k) for k in ImportRunKind.values if k in ("users", "areas", "groups", "memberships")]
    )
    mode = forms.ChoiceField(
        choices=ImportRunMode.choices,
        initial=ImportRunMode.MERGE,
        help_text="merge: create and update what the file names. sync: also remove what the file leaves out.",
    )
    file = forms.FileField(help_text="CSV (UTF-8, comma or semicolon) or .xlsx (first sheet). Columns: docs/IMPORT.md.")


@admin.register(ImportRun)
class ImportRunAdmin(PropertyScopedAdmin):
    """The history of runs; a run's page is its diff (see `run_view`)."""

    property_field = "property"

    list_display = (
        "run_link",
        "property",
        "kind",
        "mode",
        "status",
        "progress",
        "created_by_name",
        "applied_by_name",
        "created_at",
    )
    list_filter = (("property", admin.RelatedOnlyFieldListFilter), "kind", "status")
    list_select_related = ("property",)
    ordering = ("-created_at",)

    def get_queryset(self, request):
        return super().get_queryset(request).defer("content")

    def has_add_permission(self, request):
        return False  # the upload page makes runs

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("upload/", wrap(self.upload_view), name="imports_importrun_upload"),
            path("<uuid:run_id>/run/", wrap(self.run_view), name="imports_importrun_run"),
            path("template/<str:kind>/", wrap(self.template_view), name="imports_importrun_template"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "upload_url": reverse("admin:imports_importrun_upload")}
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return HttpResponseRedirect(reverse("admin:imports_importrun_run", args=[object_id]))

    @admin.display(description="run", ordering="created_at")
    def run_link(self, obj):
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:imports_importrun_run", args=[obj.pk]), obj.file_name or "—"
        )

    @admin.display(description="progress")
    def progress(self, obj):
        done, total = services.import_run_progress(obj)
        return f"{done} / {total}"

    @admin.display(description="uploaded by")
    def created_by_name(self, obj):
        return _who(obj.created_by)

    @admin.display(description="applied by")
    def applied_by_name(self, obj):
        return _who(obj.applied_by) if obj.applied_by else "—"

    # --- pages ----------------------------------------------------------------------------

    def upload_view(self, request):
        if not self.has_view_permission(request) or not self.may_write_pages(request, "imports.add_importrun"):
            raise PermissionDenied
        form = UploadForm(request.POST or None, request.FILES or None)
        self.scope_form_choices(request, form)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                policies.check_may_import(
                    _principal(request), property_id=form.cleaned_data["property"].pk, kind=form.cleaned_data["kind"]
                )
                run = services.import_run_create(
                    prop=form.cleaned_data["property"],
                    kind=form.cleaned_data["kind"],
                    mode=form.cleaned_data["mode"],
                    file_name=upload.name,
                    content=upload.read(),
                    actor=actor_for_staff(request.user),
                )
            except Forbidden as refusal:
                form.add_error("kind", refusal.message)
            except ApplicationError as refusal:
                form.add_error("file", refusal.message)
            else:
                return HttpResponseRedirect(reverse("admin:imports_importrun_run", args=[run.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Upload a file to import",
            "form": form,
            "kinds": {
                kind: (
                    [c.name + (" (required)" if c.required else "") for c in cols],
                    reverse("admin:imports_importrun_template", args=[kind]),
                )
                for kind, cols in KINDS.items()
            },
        }
        return TemplateResponse(request, "admin/imports/upload.html", context)

    def template_view(self, request, kind):
        """A kind's template: the header row as CSV."""
        if kind not in KINDS:
            raise Http404(kind)
        response = StreamingHttpResponse(writers.csv_stream(template(kind), []), content_type=writers.CSV_CONTENT_TYPE)
        response["Content-Disposition"] = f'attachment; filename="{kind}-template.csv"'
        return response

    def run_view(self, request, run_id):
        run = get_object_or_404(self.get_queryset(request).select_related("property"), pk=run_id)
        if request.method == "POST":
            if not self.may_write_pages(request, "imports.change_importrun"):
                raise PermissionDenied
            try:
                if "apply" in request.POST:
                    policies.check_may_import(_principal(request), property_id=run.property_id, kind=run.kind)
                    services.import_run_apply_request(
                        run=run,
                        actor=actor_for_staff(request.user),
                        valid_rows_only=bool(request.POST.get("valid_rows_only")),
                    )
                    messages.success(request, "Applying the import.")
                elif "cancel" in request.POST:
                    services.import_run_cancel(run=run, actor=actor_for_staff(request.user))
                    messages.success(request, "The import was cancelled.")
            except ApplicationError as refusal:
                messages.error(request, refusal.message)
            return HttpResponseRedirect(reverse("admin:imports_importrun_run", args=[run.pk]))
        done, total = services.import_run_progress(run)
        order = {name: index for index, name in enumerate(template(run.kind))}
        pages = {}
        for kind in OPERATIONS:
            # One page per table (`<kind>_page`): a 50k-row diff is never read whole.
            page = Paginator(selectors.import_operation_list(run=run, op=kind).order_by("seq"), ADMIN_PAGE).get_page(
                request.GET.get(f"{kind}_page")
            )
            page.object_list = [_shown(o.data, order) for o in page.object_list]
            pages[kind] = page
        errors = Paginator(run.errors, ADMIN_PAGE).get_page(request.GET.get("errors_page"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Import {run.file_name} into {run.property.display_name}",
            "run": run,
            "done": done,
            "total": total,
            "percent": int(done * 100 / total) if total else 0,
            "working": run.status in ACTIVE,
            "ops": {kind: page.object_list for kind, page in pages.items()},
            "pages": pages,
            "counts": {kind: run.summary.get(kind, 0) for kind in OPERATIONS},
            "errors": errors,
            "columns": [c.name for c in KINDS[run.kind]],
            "created_by": _who(run.created_by),
            "applied_by": _who(run.applied_by) if run.applied_by else "",
            "can_apply": run.status == ImportRunStatus.VALIDATED,
        }
        return TemplateResponse(request, "admin/imports/run.html", context)


def _shown(op: dict, order: dict) -> dict:
    if op["op"] != "create":
        return op
    # in the kind's column order: PostgreSQL's jsonb keeps no key order
    values = sorted(op["values"].items(), key=lambda item: order.get(item[0], len(order)))
    shown = ((k, ", ".join(v) if isinstance(v, list) else v) for k, v in values if v)
    return {**op, "shown": "; ".join(f"{k}: {v}" for k, v in shown)}


def _principal(request):
    """Whom the API's import policies see: a manager acts with their own grants; a superuser
    is the staff admin (None), who may import every kind."""
    return None if request.user.is_superuser else principal_for_user(request.user)


def _who(actor: str) -> str:
    """A person's name for an actor label (`staff:<id>`, `user:<id>`); the label otherwise."""
    kind, _, pk = actor.partition(":")
    if kind in ("staff", "user"):
        user = User.objects.filter(pk=pk).only("display_name", "email").first()
        if user is not None:
            return staff_label(user)
    return actor


# --- "Export" on the list pages of users, areas and groups -----------------------------------


def _export(kind: str, property_of, file_type: str = "csv"):
    def export(modeladmin, request, queryset):
        properties = property_of(queryset, request)
        if len(properties) != 1:
            modeladmin.message_user(
                request, "Choose rows of one property to export (filter the list by property).", messages.ERROR
            )
            return None
        prop = Property.objects.get(pk=properties.pop())
        return export_response(prop, kind, file_type, ids=list(queryset.values_list("pk", flat=True)))

    export.short_description = f"Export selected {kind} ({file_type.upper()})"
    export.__name__ = f"export_{kind}" if file_type == "csv" else f"export_{kind}_{file_type}"
    export.allowed_permissions = ("view",)
    return export


def _user_properties(queryset, request) -> set:
    chosen = request.GET.get("user_groups__property__id__exact")
    if chosen:
        return {chosen}
    return set(
        UserGroup.objects.filter(memberships__user__in=queryset).values_list("property_id", flat=True).distinct()
    )


def _rows_properties(queryset, request) -> set:
    return set(queryset.values_list("property_id", flat=True).distinct())


EXPORTS = {
    Area: [_export("areas", _rows_properties), _export("areas", _rows_properties, "xlsx")],
    UserGroup: [_export("groups", _rows_properties), _export("groups", _rows_properties, "xlsx")],
    User: [_export("users", _user_properties), _export("users", _user_properties, "xlsx")],
}


def export_actions_add(site=admin.site) -> None:
    """Give the registered list pages of users, areas and groups their Export action (the
    admins belong to accounts and access; the export is imports', so it joins from here)."""
    for model, actions in EXPORTS.items():
        model_admin = site._registry.get(model)
        if model_admin is not None:
            model_admin.actions = [*(model_admin.actions or ()), *(a for a in actions if a not in model_admin.actions)]


export_actions_add()
