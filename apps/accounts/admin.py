"""Staff admin for users and API keys. Every save goes through apps.accounts.services (and
membership through apps.access.services)."""

import uuid

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.template.response import TemplateResponse
from django.urls import path

from apps.access import services as access_services
from apps.access.admin.person import person_view
from apps.access.models import Membership, UserGroup, UserGroupGroupSource
from apps.accounts import services
from apps.accounts.models import ApiKey, PermissionGrant, User
from apps.core.actors import actor_for_staff
from apps.core.admin_base import PropertyScopedAdmin, ServiceModelAdmin, scope_to_properties
from apps.core.operations import ME
from apps.core.principal import Grant
from apps.properties.models import Property


def _grant_from_row(row: dict) -> Grant:
    return Grant(row["permission"], row.get("property_id"), row.get("scope_user_id"))


def _grants_from_formset(formset) -> list[Grant]:
    return [_grant_from_row(row) for row in formset.cleaned_data if row and not row.get("DELETE")]


class PermissionGrantFormSet(forms.BaseInlineFormSet):
    """Refuses, on the row at fault, what services.grants_refusals refuses (`me`, a property
    or user that does not exist), so the admin says what the API says instead of failing."""

    FORM_FIELDS = {"permission": "permission", "propertyId": "property_id", "userId": "scope_user_id"}

    def clean(self):
        super().clean()
        forms_kept = [f for f in self.forms if f.is_valid() and f.cleaned_data and not f.cleaned_data.get("DELETE")]
        grants = [_grant_from_row(f.cleaned_data) for f in forms_kept]
        for (index, member), reason in services.grants_refusals(grants).items():
            forms_kept[index].add_error(self.FORM_FIELDS[member], reason)


class PermissionGrantInline(admin.TabularInline):
    model = PermissionGrant
    formset = PermissionGrantFormSet
    fields = ("permission", "property_id", "scope_user_id")

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "permission":  # `me` is never granted: don't offer it
            kwargs["choices"] = [(v, label) for v, label in db_field.choices if v != ME]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    extra = 1
    verbose_name = "permission"
    verbose_name_plural = "API permissions"


@admin.register(ApiKey)
class ApiKeyAdmin(PropertyScopedAdmin):
    """Create (secret shown once), rename, re-scope and revoke API keys."""

    property_field = None  # API keys: superusers only

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


# "Is staff" read like building staff (the Staff group); the flag is about this admin site.
STAFF_LABEL = "May sign in to this admin"
STAFF_HELP = (
    "Admin sign-in (Django's staff flag). Not the same as the property's Staff group, which is "
    "about doors: building staff who open doors need no admin sign-in."
)


class UserAddForm(forms.ModelForm):
    password = forms.CharField(
        widget=forms.PasswordInput,
        required=False,
        help_text="Leave empty for app users who sign in with an emailed code.",
    )

    class Meta:
        model = User
        fields = ("email", "display_name", "is_staff")
        labels = {"is_staff": STAFF_LABEL}
        help_texts = {"is_staff": STAFF_HELP}


# (form field, spec Address key, required when any part is given)
BILLING_FIELDS = (
    ("billing_line1", "line1", True),
    ("billing_line2", "line2", False),
    ("billing_line3", "line3", False),
    ("billing_city", "city", True),
    ("billing_state", "state", False),
    ("billing_postal_code", "postalCode", True),
    ("billing_country", "country", True),
)
USER_CHANGE_FIELDS = tuple(name for name in services.USER_UPDATABLE if name != "billing_address") + tuple(
    name for name, *_ in BILLING_FIELDS
)


class UserChangeForm(forms.ModelForm):
    """The person's fields, with the billing address as one input per part (not a JSON box):
    all empty means no billing address; any part given needs line 1, city, postal code and
    country, each named on its own field."""

    class Meta:
        model = User
        fields = tuple(name for name in services.USER_UPDATABLE if name != "billing_address")
        labels = {"is_staff": STAFF_LABEL}
        help_texts = {"is_staff": STAFF_HELP}

    billing_line1 = forms.CharField(
        label="Billing address line 1",
        max_length=200,
        required=False,
        help_text="Optional. Leave every part empty for no billing address.",
    )
    billing_line2 = forms.CharField(label="Line 2", max_length=200, required=False)
    billing_line3 = forms.CharField(label="Line 3", max_length=200, required=False)
    billing_city = forms.CharField(label="City", max_length=100, required=False)
    billing_state = forms.CharField(label="State / region", max_length=100, required=False)
    billing_postal_code = forms.CharField(label="Postal code", max_length=32, required=False)
    billing_country = forms.CharField(label="Country", max_length=100, required=False, help_text="e.g. GB, US")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = self.instance.billing_address or {}
        for name, key, *_ in BILLING_FIELDS:
            self.initial.setdefault(name, current.get(key, ""))

    def clean(self):
        cleaned = super().clean()
        parts = {key: (cleaned.get(name) or "").strip() for name, key, *_ in BILLING_FIELDS}
        if not any(parts.values()):
            cleaned["billing_address"] = None
            return cleaned
        for name, key, required in BILLING_FIELDS:
            if required and not parts[key]:
                self.add_error(name, "Required for a billing address.")
        cleaned["billing_address"] = {key: value for key, value in parts.items() if value}
        return cleaned


def _group_choices(queryset) -> list:
    """Groups as <optgroup>s per property: every property has a "Residents" group."""
    grouped: dict = {}
    for group in queryset:
        label = f"{group.display_name} ({group.get_group_source_display().lower()} group)"
        grouped.setdefault(group.property_id, (group.property.display_name, []))[1].append((str(group.pk), label))
    return list(grouped.values())


def _live_groups():
    return (
        UserGroup.objects.alive()
        .filter(property__in=Property.objects.alive())
        .select_related("property")
        .order_by("property__display_name", "property_id", "group_source", "display_name")
    )


class AddToGroupForm(forms.Form):
    """The intermediate page of "Add selected users to group…"."""

    group = forms.TypedChoiceField(coerce=uuid.UUID, help_text="Users already in the group are left as they are.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].choices = [("", "---------"), *_group_choices(_live_groups())]


def _uuid_param(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as error:  # the changelist answers "?e=1" instead of a 500
        raise IncorrectLookupParameters(error) from error


class UserPropertyFilter(admin.SimpleListFilter):
    """Users in at least one group of the property."""

    title = "property"
    parameter_name = "property"

    def lookups(self, request, model_admin):
        return [
            (str(pk), name)
            for pk, name in scope_to_properties(Property.objects.alive(), request.user, "pk")
            .order_by("display_name")
            .values_list("pk", "display_name")
        ]

    def queryset(self, request, queryset):
        if self.value():
            members = Membership.objects.filter(user_group__property_id=_uuid_param(self.value()))
            return queryset.filter(pk__in=members.values("user_id"))
        return queryset


class UserGroupFilter(admin.SimpleListFilter):
    """Members of one group. Lists the groups of the chosen property (else the property and
    custom groups of all); any group id works in the URL (the group list links here)."""

    title = "group"
    parameter_name = "group"
    LOOKUPS_SHOWN = 100

    def lookups(self, request, model_admin):
        groups = scope_to_properties(_live_groups(), request.user, "property")
        property_id = request.GET.get(UserPropertyFilter.parameter_name)
        if property_id:
            try:
                groups = groups.filter(property_id=uuid.UUID(property_id))
            except ValueError:  # a malformed property id: its own filter reports it
                return []
        else:
            groups = groups.exclude(group_source=UserGroupGroupSource.AREA)
        return [(str(g.pk), f"{g.display_name} · {g.property.display_name}") for g in groups[: self.LOOKUPS_SHOWN]]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(
                memberships__user_group_id=_uuid_param(self.value())
            )  # (group, user) is unique: no duplicates
        return queryset


@admin.register(User)
class UserAdmin(ServiceModelAdmin):
    # People in a group, with a grant or with a block at one of the manager's properties;
    # read-only to managers (a manager never edits a person's sign-in, staff flag or
    # permission grants here: docs/ADMIN.md). Their person page is where access is managed.
    property_field = ("memberships__user_group__property", "access_grants__property", "access_blocks__property")
    manager_read_only = True

    """People: staff and app users. Grants (spec userPermissions) are edited inline."""

    add_form = UserAddForm
    form = UserChangeForm
    list_display = ("email", "display_name", "admin_sign_in", "is_active", "type_state", "last_login")
    list_filter = (UserPropertyFilter, UserGroupFilter, "is_staff", "is_active", "type_state")
    search_fields = ("email", "display_name", "first_name", "last_name", "phone_number")
    ordering = ("email",)
    actions = ["add_to_group"]
    change_form_template = "admin/accounts/user/change_form.html"

    def get_urls(self):
        person = self.admin_site.admin_view(lambda request, object_id: person_view(self, request, object_id))
        return [path("<path:object_id>/person/", person, name="accounts_user_person"), *super().get_urls()]

    @admin.display(boolean=True, description="Admin sign-in", ordering="is_staff")
    def admin_sign_in(self, obj):
        return obj.is_staff

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return UserAddForm.Meta.fields + ("password",)
        if not self.has_change_permission(request, obj):  # read-only (managers): the address in words
            return UserChangeForm.Meta.fields + ("billing_address_text",)
        return USER_CHANGE_FIELDS

    @admin.display(description="billing address")
    def billing_address_text(self, obj):
        address = obj.billing_address or {}
        return ", ".join(address[key] for _, key, _ in BILLING_FIELDS if address.get(key)) or "—"

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if request.resolver_match and request.resolver_match.url_name == "autocomplete":
            queryset = queryset.alive()  # pickers (owner, new member) offer only live people
        return queryset, may_have_duplicates

    def service_save(self, request, obj, form, change):
        actor = self.actor(request)
        data = form.cleaned_data
        if change:
            return services.user_update(user=obj, actor=actor, **{name: data[name] for name in services.USER_UPDATABLE})
        return services.user_create(
            email=data["email"],
            display_name=data["display_name"],
            is_staff=data["is_staff"],
            password=data["password"] or None,
            actor=actor,
            user_id=obj.id,
        )

    def service_delete(self, request, obj):
        access_services.user_delete(user=obj, actor=self.actor(request))

    @admin.action(permissions=["change"], description="Add selected users to group…")
    def add_to_group(self, request, queryset):
        """Ask for a group, then membership_add each selected (live) user."""
        form = AddToGroupForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            group = _live_groups().filter(pk=form.cleaned_data["group"]).first()
            if group is None:
                self.message_user(request, "That group no longer exists.", messages.ERROR)
                return None
            users = list(queryset.alive())
            actor = self.actor(request)
            added = sum(access_services.membership_add(group=group, user=user, actor=actor) for user in users)
            skipped = queryset.count() - len(users)
            self.message_user(
                request,
                f"Added {added} user(s) to {group.display_name} · {group.property.display_name}; "
                f"{len(users) - added} already in it" + (f"; {skipped} deleted user(s) skipped." if skipped else "."),
                messages.SUCCESS,
            )
            return None
        return TemplateResponse(
            request,
            "admin/action_intermediate.html",
            {
                **self.admin_site.each_context(request),
                "title": "Add users to a group",
                "opts": self.opts,
                "queryset": queryset,
                "form": form,
                "action": "add_to_group",
                "submit_label": "Add to group",
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )
