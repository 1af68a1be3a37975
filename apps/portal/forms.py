"""Portal page forms. Datetimes are typed in the property's time zone (datetime-local)."""

from zoneinfo import ZoneInfo

from django import forms
from django.utils import timezone

from apps.portal.serializers import E164_PATTERN

E164_MESSAGE = "Use E.164 format: + and up to 15 digits, e.g. +14155550123."
LOCAL = "%Y-%m-%dT%H:%M"


class LocalDateTimeField(forms.DateTimeField):
    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL)
    input_formats = [LOCAL, "%Y-%m-%d %H:%M"]

    def __init__(self, *, time_zone: str = "UTC", **kwargs):
        self.zone = ZoneInfo(time_zone)
        super().__init__(**kwargs)

    def to_python(self, value):
        result = super().to_python(value)
        if result is None:
            return None
        return timezone.make_aware(result.replace(tzinfo=None), self.zone)


class SignInForm(forms.Form):
    email = forms.EmailField(max_length=255)
    password = forms.CharField(required=False, widget=forms.PasswordInput)
    code = forms.CharField(required=False, max_length=6, label="One-time code")


class CodeRequestForm(forms.Form):
    email = forms.EmailField(max_length=255)


class GuestForm(forms.Form):
    user_name = forms.CharField(label="Name", max_length=200)
    email = forms.EmailField(max_length=255)
    phone_number = forms.RegexField(
        E164_PATTERN, label="Phone (optional)", required=False, max_length=16, error_messages={"invalid": E164_MESSAGE}
    )

    def __init__(self, *args, time_zone: str = "UTC", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["valid_from"] = LocalDateTimeField(label="From (optional)", required=False, time_zone=time_zone)
        self.fields["valid_until"] = LocalDateTimeField(label="Until", time_zone=time_zone)


class AccountForm(forms.Form):
    user_name = forms.CharField(label="Name", max_length=200)
    email = forms.EmailField(label="Contact email", max_length=255, required=False)
    phone_number = forms.RegexField(
        E164_PATTERN, label="Phone", required=False, max_length=16, error_messages={"invalid": E164_MESSAGE}
    )


class PassphraseForm(forms.Form):
    passphrase = forms.CharField(
        label="New passphrase (8 to 63 characters)", strip=False, max_length=63, widget=forms.TextInput
    )


SERVICE_FIELDS = {
    "userName": "user_name",
    "phoneNumber": "phone_number",
    "validFrom": "valid_from",
    "validUntil": "valid_until",
}


def errors_onto(form: forms.Form, error) -> None:
    """A service's ApplicationError onto the form, each message next to its field."""
    fields = error.fields or {}
    if not fields:
        form.add_error(None, error.message)
    for name, messages in fields.items():
        field = SERVICE_FIELDS.get(name, name)
        form.add_error(field if field in form.fields else None, messages)
