"""Error reports (the admins' email, a 500 page) never show a secret the request or code held."""

import secrets
import sys

from django.views.debug import ExceptionReporter

from apps.core.reporting import RedactingExceptionReporterFilter

# made at run time: a literal would show in the report as source code around the failing line
BEARER = f"khk_{secrets.token_hex(6)}_{secrets.token_urlsafe(32)}"

PASSWORD = secrets.token_urlsafe(12)
PASSPHRASE = secrets.token_urlsafe(12)


def _fail(request):
    api_key_secret = BEARER  # a local variable of the failing frame
    lookup_id = "visible-local"
    raise RuntimeError(f"failed for {lookup_id} {len(api_key_secret)}")


def _report(request) -> tuple[str, str]:
    try:
        _fail(request)
    except RuntimeError:
        reporter = ExceptionReporter(request, *sys.exc_info())
    return reporter.get_traceback_text(), reporter.get_traceback_html()


def test_form_fields_headers_and_locals_that_hold_secrets_are_hidden(rf, settings):
    settings.DEBUG = False
    request = rf.post(
        "/portal/sign-in",
        {"email": "resident@example.test", "password": PASSWORD, "passphrase": PASSPHRASE},
        headers={"Authorization": f"Bearer {BEARER}"},
    )
    for report in _report(request):
        for secret in (PASSWORD, PASSPHRASE, BEARER):
            assert secret not in report
        assert "resident@example.test" in report  # what is not secret stays, to debug with
        assert "visible-local" in report


def test_a_password_inside_a_url_setting_is_hidden():
    cleansed = RedactingExceptionReporterFilter().cleanse_setting(
        "DATABASE_URL", "postgres://keyhouse:db-password@db.internal:5432/keyhouse"
    )
    assert cleansed == "postgres://keyhouse:********************@db.internal:5432/keyhouse"
