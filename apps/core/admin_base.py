"""ModelAdmin bases for models whose every write belongs to a service (STYLE rule 1 and 4).

Django's admin saves and deletes rows itself; for domain models that would skip the
transaction, the event and the business rules. `ServiceModelAdmin` routes the add/change
form, the delete page and the bulk delete through `service_save` / `service_delete`, and
turns a refusal (`ApplicationError`, e.g. a 409 "still has areas") into a message or a
form error instead of a crash.
"""

from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.contrib.admin.utils import model_ngettext, quote
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import capfirst

from apps.core.actors import actor_for_staff
from apps.core.exceptions import ApplicationError


class ServiceModelAdmin(admin.ModelAdmin):
    """Subclasses implement `service_save` (add/change) and `service_delete`."""

    # ApplicationError.fields uses the API's names ("parentAreaId"); map them to form fields.
    service_error_fields: dict[str, str] = {}

    def actor(self, request) -> str:
        return actor_for_staff(request.user)

    def service_save(self, request, obj, form, change):
        """Create or update through the service; return the saved instance."""
        raise NotImplementedError

    def service_delete(self, request, obj) -> None:
        raise NotImplementedError

    # --- add / change -------------------------------------------------------------------

    def save_model(self, request, obj, form, change):
        saved = self.service_save(request, obj, form, change)
        if saved is not None and saved.pk != obj.pk:
            # The service made its own instance: point the admin's redirect, log and message
            # at it (its fields too, so "added" names what was saved, not the unsaved form).
            for field in obj._meta.concrete_fields:
                setattr(obj, field.attname, getattr(saved, field.attname))
            obj._state.fields_cache = {}
            obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        pass  # many-to-many and inlines are written by service_save / save_formset, never by the form

    def construct_change_message(self, request, form, formsets, add=False):
        return super().construct_change_message(request, form, [], add)  # formsets were not .save()d

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """On a refused save, show the form again with the service's message as a form error.

        The refusal escapes Django's `transaction.atomic` around the view, so the half-made
        admin log entry is rolled back; the second pass validates the same POST with the
        refusal added to the form's errors (and so never calls the service again).
        """
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ApplicationError as refusal:
            if request.method != "POST" or hasattr(request, "_keyhouse_refusal"):
                raise
            request._keyhouse_refusal = refusal
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        refusal = getattr(request, "_keyhouse_refusal", None)
        if refusal is None:
            return form_class
        field_names = [self.service_error_fields.get(name) for name in refusal.fields]

        class RefusedForm(form_class):
            def clean(self):
                cleaned = super().clean()
                self.add_error(next((name for name in field_names if name in self.fields), None), refusal.message)
                return cleaned

        return RefusedForm

    # --- delete -------------------------------------------------------------------------

    def get_deleted_objects(self, objs, request):
        """A soft delete cascades nothing in Django's sense; the service decides what blocks it."""
        objs = list(objs)
        rows = [
            format_html(
                '{}: <a href="{}">{}</a>',
                capfirst(self.opts.verbose_name),
                reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[quote(obj.pk)]),
                obj,
            )
            for obj in objs
        ]
        return rows, {self.opts.verbose_name_plural: len(objs)}, set(), []

    def delete_model(self, request, obj):
        self.service_delete(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.service_delete(request, obj)

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except ApplicationError as refusal:  # the view's transaction (and its log entry) rolled back
            self.message_user(request, refusal.message, messages.ERROR)
            url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[object_id])
            return HttpResponseRedirect(url)

    @admin.action(permissions=["delete"], description="Delete selected %(verbose_name_plural)s")
    def delete_selected(self, request, queryset):
        """Django's confirmation page, then one service call per object: a refused one is
        reported and the others still go."""
        if not request.POST.get("post"):
            return django_delete_selected(self, request, queryset)
        deleted = 0
        for obj in queryset:
            try:
                self.service_delete(request, obj)
            except ApplicationError as refusal:
                self.message_user(request, f"{obj}: {refusal.message}", messages.ERROR)
            else:
                deleted += 1
                self.log_deletions(request, [obj])
        if deleted:
            self.message_user(request, f"Deleted {deleted} {model_ngettext(self.opts, deleted)}.", messages.SUCCESS)
        return None

    def get_actions(self, request):
        actions = super().get_actions(request)
        if "delete_selected" in actions:  # ours, not the site-wide one that calls queryset.delete()
            actions["delete_selected"] = self.get_action("delete_selected")
        return actions


class ReadOnlyModelAdmin(admin.ModelAdmin):
    """Rows written only by the system (events, lock syncs, workers): staff read, nobody adds,
    edits or deletes them in the admin (actions a subclass declares still run)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def count_of(queryset, *, through: str = "property"):
    """A correlated COUNT for a changelist column: `queryset` rows whose `through` is the outer
    row. One subquery per column keeps the list at a fixed query count and, unlike several
    joined Count()s, multiplies no rows."""
    counted = queryset.filter(**{through: OuterRef("pk")}).order_by().values(through).annotate(n=Count("pk"))
    return Coalesce(Subquery(counted.values("n")), 0)
