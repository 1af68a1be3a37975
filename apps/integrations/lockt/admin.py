"""Staff admin for what the Lockt poll keeps: its records, the credentials and fobs it reads (and
"Move the selected fob"), and the groups and locks marked for Lockt (docs/INTEGRATIONS.md).
Registered by apps/integrations/admin.py, which Django's admin autodiscovery imports."""

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse

from apps.core.admin_base import ReadOnlyModelAdmin, ServiceModelAdmin, actor_for_staff
from apps.core.exceptions import ApplicationError
from apps.integrations.lockt.credentials import lockt_fob_reassign
from apps.integrations.lockt.marks import lockt_mark_clear, lockt_mark_set
from apps.integrations.models import LocktCredential, LocktMark, LocktRecord
from apps.integrations.selectors import lockt_account_people, lockt_record_object


@admin.register(LocktRecord)
class LocktRecordAdmin(ReadOnlyModelAdmin):
    """Every Lockt record an account's polls saw: the Keyhouse object it is (Lockt-owned, or
    Keyhouse-owned for people Keyhouse pushed), and for a failed one the field, value and
    reason. Filter by status "Failed" for what needs fixing in Lockt."""

    property_field = "account__property"
    list_display = (
        "label_or_id",
        "kind",
        "account",
        "keyhouse_object",
        "owner",
        "status",
        "error_field",
        "error_value",
        "error_reason",
        "updated_at",
    )
    list_select_related = ("account",)
    list_filter = ("status", "kind", ("account", admin.RelatedOnlyFieldListFilter))
    search_fields = ("label", "=external_id", "error_reason")
    ordering = ("account", "kind", "label")

    @staticmethod
    def _object_of(obj):
        if not hasattr(obj, "_keyhouse_object"):
            obj._keyhouse_object = lockt_record_object(obj)  # one lookup for both columns
        return obj._keyhouse_object

    @admin.display(description="Lockt record", ordering="label")
    def label_or_id(self, obj):
        return f"{obj.label} (Lockt id {obj.external_id})" if obj.label else f"Lockt id {obj.external_id}"

    @admin.display(description="Keyhouse object")
    def keyhouse_object(self, obj):
        found = self._object_of(obj)
        return found[0] if found else "— (not linked)"

    @admin.display(description="owned by")
    def owner(self, obj):
        found = self._object_of(obj)
        return found[1] if found else "—"


class MoveFobForm(forms.Form):
    """The intermediate page of "Move the selected fob…": the account's Lockt people."""

    holder = forms.ChoiceField(
        required=False, help_text="A person linked to a Lockt user of the fob's account; empty: nobody."
    )

    def __init__(self, *args, people=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["holder"].choices = [("", "— nobody —"), *((str(p.pk), p.display_name) for p in people)]


@admin.register(LocktCredential)
class LocktCredentialAdmin(ReadOnlyModelAdmin):
    """Lockt credentials and fobs, read-only, on their holders (managed in Lockt; a fob moved
    to another person is pushed with PUT /fob). Card numbers show their last 4 digits only."""

    property_field = "record__account__property"
    list_display = (
        "__str__",
        "kind",
        "holder_name",
        "card",
        "claim_status",
        "valid_from",
        "valid_until",
        "account",
        "sync",
    )
    list_select_related = ("record__account", "holder")
    list_filter = ("fob", "claim_status", ("record__account", admin.RelatedOnlyFieldListFilter))
    search_fields = ("name", "holder__display_name", "=record__external_id", "=card_last4")
    exclude = ("card_last4",)
    readonly_fields = ("card",)
    ordering = ("record__account", "name")
    actions = ["move_fob"]

    def has_move_permission(self, request):
        return self.may_write_pages(request, "integrations.view_locktcredential")

    @admin.action(permissions=["move"], description="Move the selected fob to another person…")
    def move_fob(self, request, queryset):
        """One fob at a time: pick the new holder among the account's Lockt people (or nobody);
        lockt_fob_reassign marks it and requests the poll whose push sends PUT /fob."""
        fobs = list(queryset.filter(fob=True).select_related("record__account"))
        if len(fobs) != 1 or queryset.count() != 1:
            self.message_user(request, "Select exactly one fob to move.", messages.ERROR)
            return None
        fob = fobs[0]
        people = lockt_account_people(account=fob.record.account)
        form = MoveFobForm(request.POST if "apply" in request.POST else None, people=people)
        if form.is_valid():
            holder = next((p for p in people if str(p.pk) == form.cleaned_data["holder"]), None)
            try:
                lockt_fob_reassign(credential=fob, holder=holder, actor=self.actor(request))
            except ApplicationError as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return None
            to = holder.display_name if holder else "nobody"
            self.message_user(
                request, f"{fob.name} now goes to {to}; Lockt is told at the poll just requested.", messages.SUCCESS
            )
            return None
        return TemplateResponse(
            request,
            "admin/action_intermediate.html",
            {
                **self.admin_site.each_context(request),
                "title": f"Move {fob.name}",
                "opts": self.opts,
                "queryset": queryset,
                "form": form,
                "action": "move_fob",
                "submit_label": "Move",
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )

    def actor(self, request):
        return actor_for_staff(request.user)

    @admin.display(description="kind", ordering="fob")
    def kind(self, obj):
        return "Fob" if obj.fob else "Credential"

    @admin.display(description="holder", ordering="holder__display_name")
    def holder_name(self, obj):
        return obj.holder.display_name if obj.holder else "—"

    @admin.display(description="card")
    def card(self, obj):
        return obj.card_masked or "—"

    @admin.display(description="Lockt account", ordering="record__account__display_name")
    def account(self, obj):
        return obj.record.account.display_name

    @admin.display(description="sync")
    def sync(self, obj):
        text = obj.record.get_status_display()
        return f"{text} · reassignment waiting for the next push" if obj.reassign_pending else text


class LocktMarkForm(forms.ModelForm):
    class Meta:
        model = LocktMark
        fields = ("account", "group", "lock")
        help_texts = {
            "group": "A Keyhouse custom group: pushed as a Lockt access level (its doors and schedules).",
            "lock": "Or a Keyhouse lock: pushed as a Lockt door.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = self.fields["account"].queryset.filter(kind="lockt")

    def clean(self):
        data = super().clean()
        if bool(data.get("group")) == bool(data.get("lock")):
            raise forms.ValidationError({"group": "Pick one group or one lock."})
        return data

    def _post_clean(self):
        """The model's own checks (group or lock) run in the service, with a named message."""


@admin.register(LocktMark)
class LocktMarkAdmin(ServiceModelAdmin):
    """Keyhouse groups and locks marked for a Lockt account: added with lockt_mark_set (the
    poll it requests pushes them), deleted ("unmarked") with lockt_mark_clear (Lockt's copy is
    deleted at the next poll). The state and the reason of a failed push are shown by name."""

    property_field = "account__property"
    form = LocktMarkForm
    list_display = ("__str__", "kind_shown", "target_name", "account", "state", "reason", "pushed_at")
    list_select_related = ("account", "group", "lock")
    list_filter = ("state", ("account", admin.RelatedOnlyFieldListFilter))
    search_fields = ("group__display_name", "lock__display_name", "reason")
    readonly_fields = ("account", "group", "lock", "state", "external_id", "reason", "marked_at", "pushed_at")
    ordering = ("account", "-marked_at")

    @admin.display(description="kind")
    def kind_shown(self, obj):
        return "Group → Lockt access level" if obj.group_id else "Lock → Lockt door"

    @admin.display(description="name")
    def target_name(self, obj):
        return (obj.group or obj.lock).display_name

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def get_fields(self, request, obj=None):
        return LocktMarkForm.Meta.fields if obj is None else self.readonly_fields

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request)

    def service_save(self, request, obj, form, change):
        data = form.cleaned_data
        return lockt_mark_set(
            account=data["account"], group=data.get("group"), lock=data.get("lock"), actor=self.actor(request)
        )

    def service_delete(self, request, obj):
        lockt_mark_clear(mark=obj, actor=self.actor(request))
