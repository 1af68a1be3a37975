"""User groups and their members: user_group_create / update / delete, membership_add /
remove, membership_window_update (events appended)."""

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from apps.access import selectors, services
from apps.access.admin.display import PropertyZoneAdmin, window_text
from apps.access.models import Membership, UserGroup, UserGroupGroupSource
from apps.accounts.models import User
from apps.core.admin_base import PropertyScopedInline, ServiceModelAdmin, count_of
from apps.properties.models import Property


class MemberWindowForm(forms.ModelForm):
    """A member's validity window, in the property's local time (the page runs in its zone).
    A Lockt-owned window is shown but its inputs are disabled: Lockt sets it."""

    class Meta:
        model = Membership
        fields = ("valid_from", "valid_until")
        labels = {"valid_from": "valid from", "valid_until": "valid until"}

    lockt_owned_users: frozenset = frozenset()  # set per page by MemberInline.get_formset

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        membership = self.instance
        self.lockt_owned = not membership._state.adding and str(membership.user_id) in self.lockt_owned_users
        for field in self.fields.values():
            field.disabled = self.lockt_owned

    def clean(self):
        data = super().clean()
        valid_from, valid_until = data.get("valid_from"), data.get("valid_until")
        if valid_from and valid_until and valid_from >= valid_until:
            self.add_error("valid_until", "Must be after valid from.")
        return data


class MemberInline(PropertyScopedInline, admin.TabularInline):
    """The group's members and their windows (editable unless Lockt sets them); tick "delete"
    to take someone out of the group."""

    model = Membership
    form = MemberWindowForm
    verbose_name = "member"
    verbose_name_plural = "members"
    fields = ("member", "window", "valid_from", "valid_until", "window_source", "created_at", "created_by")
    readonly_fields = ("member", "window", "window_source", "created_at", "created_by")
    extra = 0
    can_delete = True

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("user", "user_group__property")
            .order_by("user__display_name", "user__email")
        )

    def has_add_permission(self, request, obj=None):
        return False  # new members come in through MemberAddInline

    def get_formset(self, request, obj=None, **kwargs):
        """Who Lockt owns is read once for the page (two queries), not once per member."""
        formset = super().get_formset(request, obj, **kwargs)
        self.lockt_owned_users = frozenset(selectors.membership_lockt_owned_users(group=obj) if obj else ())
        formset.form = type(formset.form.__name__, (formset.form,), {"lockt_owned_users": self.lockt_owned_users})
        return formset

    @admin.display(description="member")
    def member(self, membership):
        url = reverse("admin:accounts_user_change", args=[membership.user_id])
        return format_html('<a href="{}">{}</a>', url, membership.user)

    @admin.display(description="access")
    def window(self, membership):
        zone = membership.user_group.property.time_zone
        return window_text(membership.valid_from, membership.valid_until, zone)

    @admin.display(description="window set by")
    def window_source(self, membership):
        owned = str(membership.user_id) in getattr(self, "lockt_owned_users", ())
        return "Lockt (read-only here)" if owned else "Keyhouse"


class MemberAddForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ("user",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = User.objects.alive()


class MemberAddInline(PropertyScopedInline, admin.TabularInline):
    """Empty rows with an autocomplete: each picked person is added to the group."""

    model = Membership
    form = MemberAddForm
    verbose_name = "member"
    verbose_name_plural = "add members"
    fields = ("user",)
    autocomplete_fields = ("user",)
    extra = 1
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).none()

    def has_change_permission(self, request, obj=None):
        return False


class UserGroupAddForm(forms.ModelForm):
    class Meta:
        model = UserGroup
        fields = ("property", "display_name", "group_type")
        help_texts = {"group_type": "Custom group. Property and area groups are made with their property or area."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["property"].queryset = Property.objects.alive().order_by("display_name")


@admin.register(UserGroup)
class UserGroupAdmin(PropertyZoneAdmin, ServiceModelAdmin):
    """User groups of every property, with their members."""

    property_field = "property"

    add_form = UserGroupAddForm
    list_display = ("display_name", "property", "group_type", "group_source", "area", "member_count")
    list_select_related = ("property", "area")
    list_filter = (("property", admin.RelatedOnlyFieldListFilter), "group_type", "group_source")
    search_fields = ("display_name", "property__display_name", "=id")
    ordering = ("property__display_name", "group_source", "display_name")
    readonly_fields = ("property", "group_type", "group_source", "area", "id", "created_at", "last_modified_by")
    service_error_fields = {"displayName": "display_name"}

    class Media:
        css = {"all": ["keyhouse/admin.css"]}

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": ("property", "display_name", "group_type")})]
        return [
            (None, {"fields": ("display_name", "property", "group_type", "group_source", "area")}),
            ("Record", {"fields": ("id", "created_at", "last_modified_by"), "classes": ("collapse",)}),
        ]

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def get_inlines(self, request, obj):
        return [MemberAddInline] if obj is None else [MemberInline, MemberAddInline]

    def get_queryset(self, request):
        queryset = super().get_queryset(request).alive().select_related("property")
        return queryset.annotate(member_count=count_of(Membership.objects.all(), through="user_group"))

    def has_delete_permission(self, request, obj=None):
        # Area and property groups go only with their area or property (user_group_delete says so).
        if obj is not None and obj.group_source != UserGroupGroupSource.CUSTOM:
            return False
        return super().has_delete_permission(request, obj)

    def autocomplete_label(self, obj) -> str:
        return f"{obj.display_name} · {obj.property.display_name}"

    @admin.display(description="members", ordering="member_count")
    def member_count(self, obj):
        url = f"{reverse('admin:accounts_user_changelist')}?group={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, obj.member_count)

    def service_save(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            return services.user_group_update(group=obj, display_name=data["display_name"], actor=self.actor(request))
        return services.user_group_create(
            prop=data["property"],
            display_name=data["display_name"],
            group_type=data["group_type"],
            actor=self.actor(request),
        )

    def save_related(self, request, form, formsets, change):
        """Members out (ticked rows of MemberInline), then members in (rows of MemberAddInline)."""
        group = UserGroup.objects.get(pk=form.instance.pk)
        actor = self.actor(request)
        for formset in formsets:
            for member_form in formset.deleted_forms:
                services.membership_remove(group=group, user=member_form.instance.user, actor=actor)
        for formset in formsets:
            if issubclass(formset.form, MemberWindowForm):
                for member_form in formset.forms:
                    if member_form in formset.deleted_forms or member_form.lockt_owned or not member_form.has_changed():
                        continue
                    services.membership_window_update(
                        group=group,
                        user=member_form.instance.user,
                        valid_from=member_form.cleaned_data.get("valid_from"),
                        valid_until=member_form.cleaned_data.get("valid_until"),
                        actor=actor,
                    )
                continue
            for member_form in formset.forms:
                user = member_form.cleaned_data.get("user")
                if not (user is not None and member_form.has_changed()):
                    continue
                if not services.membership_add(group=group, user=user, actor=actor):
                    self.message_user(request, f"{user} was already in the group.", messages.INFO)

    def service_delete(self, request, obj):
        services.user_group_delete(group=obj, actor=self.actor(request))
