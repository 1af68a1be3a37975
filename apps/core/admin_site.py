"""The staff admin site: Keyhouse branding and a dashboard of what needs attention (the
sections each app registers in apps.core.attention).

Top floor (docs/ARCHITECTURE.md): the dashboard counts rows of every app, so it lives here
with the admin, not among core's HTTP-free modules on the ground floor."""

from functools import update_wrapper

from django.contrib import admin
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.shortcuts import redirect
from django.urls import path, reverse
from django_otp import login as otp_login

from apps.accounts.models import ApiKey, User
from apps.areas.models import Area
from apps.core.admin_base import admin_property_ids, may_use_admin, scope_to_properties
from apps.core.admin_two_factor import KeyhouseAuthenticationForm, otp_required, two_factor_view
from apps.core.attention import attention_collect
from apps.events.models import Event
from apps.properties.models import Property


def dashboard_figures(user) -> list[tuple[str, int, str]]:
    """(label, count, admin changelist url) for the dashboard; apps add theirs as they land.
    A manager sees the counts of their own properties only (docs/ADMIN.md)."""
    if admin_property_ids(user) is not None:
        props = scope_to_properties(Property.objects.alive(), user, "pk")
        areas = scope_to_properties(Area.objects.alive(), user, "property")
        return [
            ("Properties", props.count(), reverse("admin:properties_property_changelist")),
            ("Areas", areas.count(), reverse("admin:areas_area_changelist")),
        ]
    events_url = reverse("admin:events_event_changelist")
    return [
        ("Properties", Property.objects.alive().count(), reverse("admin:properties_property_changelist")),
        ("Areas", Area.objects.alive().count(), reverse("admin:areas_area_changelist")),
        ("Users", User.objects.alive().count(), reverse("admin:accounts_user_changelist")),
        (
            "Active API keys",
            ApiKey.objects.alive().filter(revoked_at__isnull=True).count(),
            reverse("admin:accounts_apikey_changelist"),
        ),
        (
            "Events waiting to be processed",
            Event.objects.unprocessed().count(),
            f"{events_url}?processed_at__isempty=1",
        ),
    ]


def dashboard_attention(user) -> list[dict]:
    """The needs-attention sections (apps.core.attention) for the properties `user` manages,
    each item with its property's name."""
    sections = attention_collect(admin_property_ids(user))
    ids = {item.property_id for section in sections for item in section["items"] if item.property_id}
    names = dict(Property.objects.filter(pk__in=ids).values_list("pk", "display_name"))
    for section in sections:
        section["rows"] = [
            {"text": item.text, "url": item.url, "property": names.get(item.property_id, "")}
            for item in section["items"]
        ]
    return sections


class KeyhouseAutocompleteJsonView(AutocompleteJsonView):
    """Autocomplete results labelled by the target ModelAdmin's `autocomplete_label(obj)` when it
    has one: many areas are called "Floor 1" and every property has a "Residents" group."""

    def serialize_result(self, obj, to_field_name):
        result = super().serialize_result(obj, to_field_name)
        label = getattr(self.model_admin, "autocomplete_label", None)
        if label is not None:
            result["text"] = label(obj)
        return result


class KeyhouseAdminSite(admin.AdminSite):
    site_header = "Keyhouse"
    site_title = "Keyhouse admin"
    index_title = "Keyhouse dashboard"
    index_template = "admin/keyhouse_index.html"

    login_form = KeyhouseAuthenticationForm

    def has_permission(self, request):
        return may_use_admin(request.user)

    def login(self, request, extra_context=None):
        response = super().login(request, extra_context)
        device = getattr(request.user, "otp_device", None)  # set by the form when a code was checked
        if request.method == "POST" and request.user.is_authenticated and device is not None:
            otp_login(request, device)
        return response

    def admin_view(self, view, cacheable=False):
        """Every admin page; with KEYHOUSE_STAFF_OTP_REQUIRED a person signed in without a code
        goes to "Two-factor sign-in" first (sign-out and that page excepted)."""
        inner = super().admin_view(view, cacheable)

        def wrapper(request, *args, **kwargs):
            exempt = request.path in (reverse("admin:two_factor"), reverse("admin:logout"))
            user = request.user
            if otp_required() and user.is_authenticated and not exempt and not user.is_verified():
                return redirect("admin:two_factor")
            return inner(request, *args, **kwargs)

        return update_wrapper(wrapper, view)

    def get_urls(self):
        two_factor = self.admin_view(lambda request: two_factor_view(request, self))
        return [path("two-factor/", two_factor, name="two_factor"), *super().get_urls()]

    def index(self, request, extra_context=None):
        context = {
            "keyhouse_figures": dashboard_figures(request.user),
            "keyhouse_attention": dashboard_attention(request.user),
        }
        context["keyhouse_attention_any"] = any(section["count"] for section in context["keyhouse_attention"])
        return super().index(request, {**context, **(extra_context or {})})

    def autocomplete_view(self, request):
        return KeyhouseAutocompleteJsonView.as_view(admin_site=self)(request)
