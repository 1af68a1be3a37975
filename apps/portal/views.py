"""Resident portal pages (`/portal/…`): server-rendered, CSRF-protected, no JavaScript.

A page session stands for the unit token it was opened with (`/portal/access/<token>`) or the
person's sign-in token (email + password or emailed code, apps.accounts); session_caller checks
it is still live on every request. Views parse a form, call a policy or service, render.
"""

from functools import wraps
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_http_methods, require_POST
from rest_framework.throttling import BaseThrottle

from apps.accounts import services as account_services
from apps.accounts.selectors import credential_authenticate
from apps.core.exceptions import ApplicationError
from apps.devices import selectors as device_selectors
from apps.devices import services as device_services
from apps.portal import forms, ratelimit, selectors, services
from apps.portal.models import UnitUserStatus, UnitUserType

SESSION_KEY = "portal"


def _address(request) -> str:
    return BaseThrottle().get_ident(request)


def _too_many(request) -> HttpResponse | None:
    decision = ratelimit.failed_auth(_address(request), cost=0)
    if decision.allowed:
        return None
    response = render(request, "portal/sign_in.html", {"form": forms.SignInForm(), "throttled": True}, status=429)
    response["Retry-After"] = str(decision.retry_after)
    return response


def portal_page(view):
    """Resolve the caller from the session (or send to sign-in) and the property's zone."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        caller = selectors.session_caller(request.session.get(SESSION_KEY))
        if caller is None:
            request.session.pop(SESSION_KEY, None)
            return redirect("portal:sign-in")
        request.caller = caller
        request.zone = ZoneInfo(caller.area.property.time_zone)
        return view(request, *args, **kwargs)

    return wrapper


def _context(request, **extra) -> dict:
    caller = request.caller
    return {
        "caller": caller,
        "unit": caller.area,
        "property": caller.area.property,
        "zone": request.zone,
        "zone_name": caller.area.property.time_zone,
        **extra,
    }


def _no_store(response):
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "same-origin"  # no-referrer would make form posts Origin: null (CSRF)
    return response


# --- signing in -------------------------------------------------------------------------------


@sensitive_variables("token", "found", "credential")
def access_link(request, token: str):
    """The unit's sign-in link: check the token, keep it in the session only by id, redirect so
    the token leaves the address bar (and the history entry the browser keeps)."""
    throttled = _too_many(request)
    if throttled is not None:
        return throttled
    found = credential_authenticate(token)
    if found is None or found[0].kind != "unit":
        ratelimit.failed_auth(_address(request), cost=1)
        response = render(request, "portal/sign_in.html", {"form": forms.SignInForm(), "bad_link": True}, status=404)
        return _no_store(response)
    _, credential = found
    request.session.cycle_key()
    request.session[SESSION_KEY] = {"kind": "unit", "token_id": str(credential.pk)}
    return _no_store(redirect("portal:home"))


@sensitive_post_parameters("password", "code")
@require_http_methods(["GET", "POST"])
def sign_in(request):
    form = forms.SignInForm(request.POST or None)
    code_form = forms.CodeRequestForm(prefix="code")
    if request.method == "POST":
        throttled = _too_many(request)
        if throttled is not None:
            return throttled
        if "send_code" in request.POST:
            code_form = forms.CodeRequestForm(request.POST, prefix="code")
            if code_form.is_valid():
                account_services.sign_in_code_request(email=code_form.cleaned_data["email"])
                messages.info(request, "If that email has an account, a code is on its way.")
                form = forms.SignInForm(initial={"email": code_form.cleaned_data["email"]})
        elif form.is_valid():
            data = form.cleaned_data
            try:
                if data["password"]:
                    token, _ = account_services.user_token_create(email=data["email"], password=data["password"])
                else:
                    token, _ = account_services.user_token_create(email=data["email"], code=data["code"])
            except account_services.InvalidCredentials:
                ratelimit.failed_auth(_address(request), cost=1)
                form.add_error(None, "Wrong email, password or code.")
            else:
                property_id = selectors.portal_property_of(user_id=token.user_id)
                if property_id is None:
                    account_services.user_token_revoke(token=token)
                    form.add_error(None, "This account is not a resident of any unit.")
                else:
                    request.session.cycle_key()
                    request.session[SESSION_KEY] = {
                        "kind": "user",
                        "token_id": str(token.pk),
                        "property_id": str(property_id),
                    }
                    return redirect("portal:home")
    return render(request, "portal/sign_in.html", {"form": form, "code_form": code_form})


@require_POST
def sign_out(request):
    data = request.session.pop(SESSION_KEY, None) or {}
    if data.get("kind") == "user":
        token = selectors.sign_in_token(token_id=data.get("token_id"))
        if token is not None:
            account_services.user_token_revoke(token=token)
    request.session.cycle_key()
    return redirect("portal:sign-in")


# --- home -------------------------------------------------------------------------------------


@portal_page
@require_http_methods(["GET", "POST"])
def home(request):
    caller = request.caller
    me = caller.unit_user
    revealed = None
    if request.method == "POST" and "reveal" in request.POST and me is not None:
        revealed = selectors.passphrase_of(me)
    settings_ = selectors.portal_settings(property_id=caller.area.property_id)
    context = _context(
        request,
        me=me,
        revealed=revealed,
        wifi=settings_.wifi_network_name,
        doors=selectors.unit_doors(caller),
        passphrase_form=forms.PassphraseForm(),
    )
    return _no_store(render(request, "portal/home.html", context))


@sensitive_post_parameters("passphrase")
@portal_page
@require_http_methods(["GET", "POST"])
def passphrase(request):
    """Reset (with confirmation) or choose the signed-in person's passphrase."""
    me = request.caller.unit_user
    if me is None:
        raise Http404
    form = forms.PassphraseForm(request.POST if "choose" in request.POST else None)
    if request.method == "POST" and "confirm_reset" in request.POST:
        services.unit_user_update(unit_user=me, passphrase="", actor=request.caller.label)
        messages.success(request, "Your Wi-Fi passphrase was reset. Reveal it to see the new one.")
        return redirect("portal:home")
    if request.method == "POST" and "choose" in request.POST and form.is_valid():
        try:
            services.unit_user_update(
                unit_user=me, passphrase=form.cleaned_data["passphrase"], actor=request.caller.label
            )
        except ApplicationError as error:
            forms.errors_onto(form, error)
        else:
            messages.success(request, "Your Wi-Fi passphrase was changed.")
            return redirect("portal:home")
    return _no_store(render(request, "portal/passphrase.html", _context(request, form=form)))


# --- people -----------------------------------------------------------------------------------


@portal_page
@require_http_methods(["GET", "POST"])
def people(request):
    caller = request.caller
    zone_name = caller.area.property.time_zone
    form = forms.GuestForm(request.POST if "invite" in request.POST else None, time_zone=zone_name)
    if request.method == "POST" and "invite" in request.POST and form.is_valid():
        data = form.cleaned_data
        try:
            services.guest_invite(
                area=caller.area,
                user_name=data["user_name"],
                email=data["email"],
                phone_number=data["phone_number"],
                valid_from=data["valid_from"],
                valid_until=data["valid_until"],
                actor=caller.label,
                portal_url=request.build_absolute_uri("/portal/"),
            )
        except ApplicationError as error:
            forms.errors_onto(form, error)
        else:
            messages.success(request, f"{data['user_name']} is invited.")
            return redirect("portal:people")
    rows = list(selectors.unit_user_list(area_id=caller.area.pk).order_by("user_type", "user_name"))
    revealed = None
    if request.method == "POST" and "reveal" in request.POST and caller.unit_rights:
        target = selectors.unit_user_get(area_id=caller.area.pk, user_id=request.POST.get("user_id"))
        if target is not None:
            revealed = {"user_id": target.user_id, "passphrase": selectors.passphrase_of(target)}
    leaseholders = [p for p in rows if p.user_type == UnitUserType.UNIT and p.status == UnitUserStatus.ACTIVE]
    # The last active leaseholder cannot be blocked (services.unit_user_block): offer no button.
    sole_leaseholder = leaseholders[0].user_id if len(leaseholders) == 1 else None
    context = _context(
        request,
        people=rows,
        form=form,
        revealed=revealed,
        guest_type=UnitUserType.GUEST,
        sole_leaseholder=sole_leaseholder,
    )
    return _no_store(render(request, "portal/people.html", context, status=400 if form.errors else 200))


@portal_page
@require_POST
def person_action(request, user_id):
    caller = request.caller
    target = selectors.unit_user_get(area_id=caller.area.pk, user_id=user_id)
    if target is None:
        raise Http404
    action = request.POST.get("action")
    if not caller.unit_rights and not (action == "end_guest" and target.granted_by == caller.label):
        messages.error(request, "Only the unit's leaseholder (UNIT rights) can do that.")
        return redirect("portal:people")
    try:
        if action == "block":
            services.unit_user_block(unit_user=target, actor=caller.label)
            messages.success(request, f"{target.user_name} is blocked.")
        elif action == "unblock":
            services.unit_user_unblock(unit_user=target, actor=caller.label)
            messages.success(request, f"{target.user_name} is active again.")
        elif action == "end_guest":
            services.guest_end(unit_user=target, actor=caller.label)
            messages.success(request, f"{target.user_name}'s access has ended.")
        else:
            raise Http404
    except ApplicationError as error:
        fields = error.fields
        messages.error(request, " ".join(sum(fields.values(), [])) or error.message)
    return redirect("portal:people")


# --- devices and account ----------------------------------------------------------------------


@portal_page
@require_http_methods(["GET", "POST"])
def devices(request):
    caller = request.caller
    people_ = (
        list(selectors.unit_user_list(area_id=caller.area.pk).filter(status=UnitUserStatus.ACTIVE))
        if caller.unit_rights
        else [caller.unit_user]
    )
    if request.method == "POST":
        owner = next((p for p in people_ if str(p.user_id) == request.POST.get("user_id")), None)
        device = (
            device_selectors.user_device_get(user_id=owner.user_id, user_device_id=request.POST.get("device_id"))
            if owner is not None
            else None
        )
        if device is None:
            raise Http404
        device_services.user_device_deprovision(device=device, actor=caller.label)
        messages.success(request, f"{device.display_name} was removed.")
        return redirect("portal:devices")
    listed = [(p, list(device_selectors.user_device_list(user_id=p.user_id))) for p in people_]
    return render(request, "portal/devices.html", _context(request, listed=listed))


@portal_page
@require_http_methods(["GET", "POST"])
def account(request):
    me = request.caller.unit_user
    if me is None:
        return render(request, "portal/account.html", _context(request, form=None))
    initial = {"user_name": me.user_name, "email": me.email, "phone_number": me.phone_number}
    form = forms.AccountForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.unit_user_update(
                unit_user=me,
                user_name=data["user_name"],
                email=data["email"],
                phone_number=data["phone_number"],
                actor=request.caller.label,
            )
        except ApplicationError as error:
            forms.errors_onto(form, error)
        else:
            messages.success(request, "Your details were saved.")
            return redirect("portal:account")
    return render(request, "portal/account.html", _context(request, form=form), status=400 if form.errors else 200)
