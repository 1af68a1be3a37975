"""People blocked at a property: block_create / block_delete; a block is never edited."""

from django import forms
from django.contrib import admin
from django.utils.html import format_html

from apps.access import services
from apps.access.admin.display import actor_text, admin_link
from apps.access.models import AccessBlock
from apps.core.admin_base import ServiceModelAdmin
from apps.properties.models import Property


def block_label(block: AccessBlock) -> str:
    return f"{block.user} blocked at {block.property}"


class AccessBlockForm(forms.ModelForm):
    class Meta:
        model = AccessBlock
        fields = ("property", "user", "reason")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["property"].queryset = Property.objects.alive().order_by("display_name")


@admin.register(AccessBlock)
class AccessBlockAdmin(ServiceModelAdmin):
    property_field = "property"

    """People blocked at a property (no access there at all). Added with block_create, removed
    ("unblocked") with block_delete; a block is never edited."""

    form = AccessBlockForm
    list_display = ("user", "property", "reason", "created_at", "created_by_who")
    list_select_related = ("user", "property")
    list_filter = (("property", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("user__email", "user__display_name", "reason")
    ordering = ("-created_at",)
    autocomplete_fields = ("user",)
    readonly_fields = ("user", "property", "reason", "created_at", "created_by_who", "id")

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def get_fields(self, request, obj=None):
        return AccessBlockForm.Meta.fields if obj is None else self.readonly_fields

    @admin.display(description="blocked by")
    def created_by_who(self, obj):
        return actor_text(obj.created_by)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        block = self.get_object(request, object_id)
        if block is not None:
            extra_context = {**(extra_context or {}), "subtitle": block_label(block)}
        return super().change_view(request, object_id, form_url, extra_context)

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request)

    def get_deleted_objects(self, objs, request):
        rows, counts, perms, protected = super().get_deleted_objects(objs, request)
        rows = [format_html("Unblock {}", admin_link(block, block_label(block))) for block in objs]
        return rows, counts, perms, protected

    def service_save(self, request, obj, form, change):
        data = form.cleaned_data
        block, _created = services.block_create(
            prop=data["property"], user=data["user"], reason=data.get("reason", ""), actor=self.actor(request)
        )
        return block

    def service_delete(self, request, obj):
        services.block_delete(prop=obj.property, user=obj.user, actor=self.actor(request))
