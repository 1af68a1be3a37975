"""Staff admin for users and API keys. Every save goes through apps.accounts.services."""

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse

from apps.accounts import services
from apps.accounts.models import ApiKey, PermissionGrant, User
from apps.core.actors import actor_for_staff
from apps.core.api.principal import Grant


def _grants_from_formset(formset) -> list[Grant]:
    return [
        Grant(row["permission"], row.get("property_id"), row.get("scope_user_id"))
        for row in formset.cleaned_data
        if row and not row.get("DELETE")
    ]


class PermissionGrantInline(admin.TabularInline):
    model = PermissionGrant
    fields = ("permission", "property_id", "scope_user_id")
    extra = 1
    verbose_name = "permission"
    verbose_name_plural = "API permissions"


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Create (secret shown once), rename, re-scope and revoke API keys."""

    list_display = ("display_name", "prefix", "permissions", "last_used_at", "revoked_at", "created_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("display_name", "prefix")
    readonly_fields = ("prefix", "last_used_at", "revoked_at", "created_at", "last_modified_by")
    fields = ("display_name", *readonly_fields)
    inlines = [PermissionGrantInline]
    actions = ["revoke"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("grants")

    @admin.display(description="permissions")
    def permissions(self, obj):
        return ", ".join(str(grant) for grant in obj.grants.all()) or "—"

    def has_delete_permission(self, request, obj=None):
        return False  # keys are revoked, never deleted: events keep pointing at them

    def save_model(self, request, obj, form, change):
        pass  # written together with the grants in save_related, through the service

    def save_related(self, request, form, formsets, change):
        grants = _grants_from_formset(formsets[0])
        actor = actor_for_staff(request.user)
        if change:
            services.api_key_update(
                api_key=form.instance, display_name=form.cleaned_data["display_name"], grants=grants, actor=actor
            )
        else:
            api_key, secret = services.api_key_create(
                display_name=form.cleaned_data["display_name"], grants=grants, actor=actor, api_key_id=form.instance.id
            )
            request._keyhouse_new_secret = (api_key, secret)

    def construct_change_message(self, request, form, formsets, add=False):
        return super().construct_change_message(request, form, [], add)  # grants were saved by the service

    def response_add(self, request, obj, post_url_continue=None):
        api_key, secret = request._keyhouse_new_secret
        context = {
            **self.admin_site.each_context(request),
            "api_key": api_key,
            "secret": secret,
            "title": f"API key “{api_key.display_name}” created",
        }
        return TemplateResponse(request, "admin/accounts/apikey/created.html", context)

    @admin.action(description="Revoke selected API keys")
    def revoke(self, request, queryset):
        for api_key in queryset:
            services.api_key_revoke(api_key=api_key, actor=actor_for_staff(request.user))
        messages.success(request, f"Revoked {queryset.count()} API key(s).")


class UserAddForm(forms.ModelForm):
    password = forms.CharField(
        widget=forms.PasswordInput,
        required=False,
        help_text="Leave empty for app users who sign in with an emailed code.",
    )

    class Meta:
        model = User
        fields = ("email", "display_name", "is_staff")


class UserChangeForm(forms.ModelForm):
    class Meta:
        model = User
        fields = services.USER_UPDATABLE


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    """People: staff and app users. Grants (spec userPermissions) are edited inline."""

    add_form = UserAddForm
    form = UserChangeForm
    list_display = ("email", "display_name", "is_staff", "is_active", "type_state", "last_login")
    list_filter = ("is_staff", "is_active", "type_state")
    search_fields = ("email", "display_name", "first_name", "last_name")
    ordering = ("email",)

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        return UserAddForm.Meta.fields + ("password",) if obj is None else services.USER_UPDATABLE

    def save_model(self, request, obj, form, change):
        actor = actor_for_staff(request.user)
        data = form.cleaned_data
        if change:
            services.user_update(user=obj, actor=actor, **{name: data[name] for name in services.USER_UPDATABLE})
        else:
            services.user_create(
                email=data["email"],
                display_name=data["display_name"],
                is_staff=data["is_staff"],
                password=data["password"] or None,
                actor=actor,
                user_id=obj.id,
            )
