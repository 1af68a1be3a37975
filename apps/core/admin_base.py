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
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import capfirst

from apps.core.actors import actor_for_staff
from apps.core.exceptions import ApplicationError
from apps.core.operations import MANAGE_ACCESS, OWNER

# The permissions that make a user a property's manager in the staff admin: the same two the
# API calls managers (apps/accounts/policies.MANAGERS). docs/ADMIN.md.
ADMIN_PERMISSIONS = (OWNER, MANAGE_ACCESS)


def admin_property_ids(user) -> frozenset | None:
    """The properties `user` manages in the admin; None means every property (a superuser, or
    an owner / manage-access grant that names no property and no user). Cached on the user."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    if user.is_superuser:
        return None
    if not hasattr(user, "_keyhouse_admin_property_ids"):
        rows = user.grants.filter(permission__in=ADMIN_PERMISSIONS, scope_user_id__isnull=True)
        ids = list(rows.values_list("property_id", flat=True))
        user._keyhouse_admin_property_ids = None if None in ids else frozenset(ids)
    return user._keyhouse_admin_property_ids


def may_use_admin(user) -> bool:
    """Superusers, and anyone who manages at least one property (is_staff alone grants nothing
    but the sign-in: every page below is scoped by the grants)."""
    ids = admin_property_ids(user)
    return ids is None or bool(ids) or bool(getattr(user, "is_active", False) and user.is_staff)


def scope_to_properties(queryset, user, property_field: str | None):
    """`queryset` cut to the rows whose `property_field` path names a property `user` manages.
    `property_field` None: the model belongs to no property, so only superusers see it; a tuple
    of paths: the rows any of them reaches."""
    ids = admin_property_ids(user)
    if ids is None:
        return queryset
    if property_field is None or not ids:
        return queryset.none()
    paths = (property_field,) if isinstance(property_field, str) else property_field
    inside = Q()
    for path in paths:  # several paths: a row reached by any of them (a person: group, grant or block)
        inside |= Q(**{f"{path}__in": ids})
    return queryset.filter(pk__in=queryset.model._base_manager.filter(inside).values("pk"))


class PropertyScopedAdmin(admin.ModelAdmin):
    """The one place the admin scopes a manager to their properties (docs/ADMIN.md).

    `property_field` is the lookup path from the model to its Property ("property",
    "lock__property", "pk" for Property itself); None keeps the model to superusers.
    Superusers keep Django's model permissions; a manager (owner / manage-access grant) gets
    view, and unless `manager_read_only`, add/change/delete, on the rows of their properties
    only: lists, object pages, autocomplete, actions and foreign-key choices all read
    `get_queryset`, and an object outside answers 404 as if it did not exist."""

    property_field: str | tuple[str, ...] | None = None
    manager_read_only = False

    def get_queryset(self, request):
        return scope_to_properties(super().get_queryset(request), request.user, self.property_field)

    def get_list_display(self, request):
        """Without the `property` column for a manager of one property: every row would name the
        same one, and the column costs a 1,366 px list the room of another."""
        columns = super().get_list_display(request)
        ids = admin_property_ids(request.user)
        if ids is not None and len(ids) == 1 and "property" in columns:
            return tuple(column for column in columns if column != "property")
        return columns

    def _manager_may(self, request, obj, write: bool) -> bool:
        ids = admin_property_ids(request.user)
        if self.property_field is None or ids == frozenset():
            return False
        if write and self.manager_read_only:
            return False
        if obj is None or getattr(obj, "pk", None) is None:
            return True
        inside = scope_to_properties(self.model._base_manager.filter(pk=obj.pk), request.user, self.property_field)
        return inside.exists()

    def has_module_permission(self, request):
        if request.user.is_superuser:
            return super().has_module_permission(request)
        return self._manager_may(request, None, write=False)

    def has_view_permission(self, request, obj=None):
        if request.user.is_superuser:
            return super().has_view_permission(request, obj)
        return self._manager_may(request, obj, write=False)

    def has_add_permission(self, request):
        if request.user.is_superuser:
            return super().has_add_permission(request)
        return self._manager_may(request, None, write=True)

    def has_change_permission(self, request, obj=None):
        if request.user.is_superuser:
            return super().has_change_permission(request, obj)
        return self._manager_may(request, obj, write=True)

    def has_delete_permission(self, request, obj=None):
        if request.user.is_superuser:
            return super().has_delete_permission(request, obj)
        return self._manager_may(request, obj, write=True)

    def may_write_pages(self, request, django_perm: str) -> bool:
        """Custom pages that write (uploads, applying imports): Django's model permission for
        staff, the manager grant for managers."""
        if request.user.is_superuser:
            return request.user.has_perm(django_perm)
        return self._manager_may(request, None, write=True)

    def scoped_queryset_for(self, request, model):
        """The rows of `model` this request may pick: its registered admin's queryset when
        that admin is property-scoped, else the default manager (superusers) or none."""
        related_admin = self.admin_site._registry.get(model)
        if isinstance(related_admin, PropertyScopedAdmin):
            return related_admin.get_queryset(request)
        if admin_property_ids(request.user) is None:
            return model._default_manager.all()
        return model._default_manager.none()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "queryset" not in kwargs and not request.user.is_superuser:
            kwargs["queryset"] = self.scoped_queryset_for(request, db_field.related_model)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def scope_form_choices(self, request, form) -> None:
        """Cut every model choice of `form` to the manager's rows, including the querysets
        a form sets in its own __init__ (they bypass formfield_for_foreignkey)."""
        if request.user.is_superuser:
            return
        for field in form.fields.values():
            queryset = getattr(field, "queryset", None)
            if queryset is not None:
                allowed = self.scoped_queryset_for(request, queryset.model)
                field.queryset = queryset.filter(pk__in=allowed.values("pk"))

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        model_admin = self

        class ScopedForm(form_class):
            def __init__(self, *args, **form_kwargs):
                super().__init__(*args, **form_kwargs)
                model_admin.scope_form_choices(request, self)

        ScopedForm.__name__ = form_class.__name__
        return ScopedForm

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "queryset" not in kwargs and not request.user.is_superuser:
            kwargs["queryset"] = self.scoped_queryset_for(request, db_field.related_model)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class PropertyScopedInline:
    """Inline rows of an object the manager may see: they follow the parent's permissions."""

    def _parent_admin(self):
        return self.admin_site._registry.get(self.parent_model)

    def _manager_may(self, request, obj, write):
        parent = self._parent_admin()
        if not isinstance(parent, PropertyScopedAdmin):
            return False
        return parent._manager_may(request, obj, write)

    def has_view_permission(self, request, obj=None):
        if request.user.is_superuser:
            return super().has_view_permission(request, obj)
        return self._manager_may(request, obj, write=False)

    def has_add_permission(self, request, obj=None):
        if request.user.is_superuser:
            return super().has_add_permission(request, obj)
        return self._manager_may(request, obj, write=True)

    def has_change_permission(self, request, obj=None):
        if request.user.is_superuser:
            return super().has_change_permission(request, obj)
        return self._manager_may(request, obj, write=True)

    def has_delete_permission(self, request, obj=None):
        if request.user.is_superuser:
            return super().has_delete_permission(request, obj)
        return self._manager_may(request, obj, write=True)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        parent = self._parent_admin()
        if "queryset" not in kwargs and not request.user.is_superuser and isinstance(parent, PropertyScopedAdmin):
            kwargs["queryset"] = parent.scoped_queryset_for(request, db_field.related_model)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ServiceModelAdmin(PropertyScopedAdmin):
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


class ReadOnlyModelAdmin(PropertyScopedAdmin):
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
