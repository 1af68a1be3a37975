"""Staff sign-in hardening for the admin (docs/ADMIN.md "Signing in"): the client address that
django-axes locks out, the sign-in form's two-factor code, and the page where a staff member
sets up (or turns off) two-factor sign-in with an authenticator app (TOTP, django-otp).

Top floor (an admin module): it uses django-otp's models and Django's admin."""

import base64

import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.db import transaction
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.throttling import BaseThrottle

from apps.core.admin_base import may_use_admin

CODE_HELP = "The 6-digit code your authenticator app shows for Keyhouse."


def client_address(request) -> str | None:
    """The address axes counts failures of: the API throttles' (X-Forwarded-For only behind
    KEYHOUSE_NUM_PROXIES trusted proxies), so one notion of "address" across Keyhouse."""
    return BaseThrottle().get_ident(request)


def otp_required() -> bool:
    return bool(getattr(settings, "KEYHOUSE_STAFF_OTP_REQUIRED", False))


def _confirmed_devices(user) -> list[TOTPDevice]:
    return list(TOTPDevice.objects.devices_for_user(user, confirmed=True))


WRONG_CODE = "That code is not right (or has expired). Try the next one."
WAIT = "Too many wrong codes: wait a few seconds, then enter the next code your app shows."


def _waiting(devices) -> bool:
    """django-otp pauses a device after a wrong code (1 s, doubling with each further one)."""
    return any(not device.verify_is_allowed()[0] for device in devices)


def _check_code(devices, code: str) -> tuple[TOTPDevice | None, str]:
    """(the device the code is from, "") or (None, why not). A paused device is not tried: the
    code may be right, and the person must hear "wait", not "wrong"."""
    if _waiting(devices):
        return None, WAIT
    code = (code or "").replace(" ", "")
    for device in devices:
        if device.verify_token(code):
            return device, ""
    return None, WRONG_CODE


class KeyhouseAuthenticationForm(AdminAuthenticationForm):
    """Staff, and property managers by their owner / manage-access grants (docs/ADMIN.md). A
    person who has set up two-factor sign-in also enters the code of their authenticator app."""

    otp_token = forms.CharField(
        label="Authentication code",
        required=False,
        help_text="Only if you set up two-factor sign-in. " + CODE_HELP,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "code_required": "Enter the code from your authenticator app: two-factor sign-in is on for this account.",
        "code_wrong": WRONG_CODE,
        "code_wait": WAIT,
    }

    def confirm_login_allowed(self, user):
        if not may_use_admin(user):
            raise forms.ValidationError(
                self.error_messages["invalid_login"], code="invalid_login", params={"username": "email"}
            )
        if user_has_device(user, confirmed=True):
            code = self.cleaned_data.get("otp_token", "")
            if not code:
                raise forms.ValidationError(self.error_messages["code_required"], code="code_required")
            device, error = _check_code(_confirmed_devices(user), code)
            if device is None:
                key = "code_wait" if error == WAIT else "code_wrong"
                raise forms.ValidationError(self.error_messages[key], code=key)
            user.otp_device = device  # django_otp.login() after the session exists (see the site)


class CodeForm(forms.Form):
    code = forms.CharField(label="Authentication code", max_length=8, help_text=CODE_HELP)


def _qr_svg(device: TOTPDevice) -> str:
    return segno.make(device.config_url, error="m").svg_inline(scale=4, dark="#1b1f24", omitsize=False)


def _secret_base32(device: TOTPDevice) -> str:
    """The key for typing into an app by hand, in groups of four."""
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@transaction.atomic
def two_factor_view(request, admin_site):
    """Set up two-factor sign-in (scan, confirm with a code), or turn it off with a code."""
    user = request.user
    confirmed = _confirmed_devices(user)
    form = CodeForm(request.POST or None)
    if confirmed:
        if request.method == "POST" and form.is_valid():
            if otp_required():
                messages.error(request, "Two-factor sign-in is required here; it cannot be turned off.")
            elif (error := _check_code(confirmed, form.cleaned_data["code"])[1]) != "":
                form.add_error("code", error)
            else:
                TOTPDevice.objects.filter(user=user).delete()
                messages.success(request, "Two-factor sign-in is off. Your password alone now signs you in.")
                return redirect("admin:two_factor")
        state = "on"
        device = None
    else:
        device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
        if request.method == "POST" and form.is_valid():
            error = _check_code([device], form.cleaned_data["code"])[1]
            if not error:
                device.confirmed = True
                device.save()
                otp_login(request, device)
                messages.success(request, "Two-factor sign-in is on. Each sign-in now asks for a code.")
                return redirect("admin:index")
            form.add_error("code", error)
        state = "setup"
    context = {
        **admin_site.each_context(request),
        "title": "Two-factor sign-in",
        "state": state,
        "required": otp_required(),
        "form": form,
        "qr_svg": _qr_svg(device) if device else "",
        "secret": _secret_base32(device) if device else "",
    }
    return TemplateResponse(request, "admin/two_factor.html", context, status=400 if form.errors else 200)
