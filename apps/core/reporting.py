"""What an error report (the admins' email, a 500 page with DEBUG on) may show of a request.

Django's `SafeExceptionReporterFilter` hides settings and headers whose names look secret, but
form fields and a frame's local variables only where a view is decorated with
`sensitive_post_parameters` / `sensitive_variables`: one forgotten decorator and a password
or a passphrase is in somebody's inbox. This filter hides them by their names everywhere,
and the password inside a URL setting (`DATABASE_URL`, `REDIS_URL`, the Celery broker).
"""

import re
from urllib.parse import urlsplit, urlunsplit

from django.utils.datastructures import MultiValueDict
from django.views.debug import SafeExceptionReporterFilter

# Names of form fields and local variables that hold a secret (or an object holding one).
SECRET_NAMES = re.compile(r"pass|secret|token|key|code|credential|signature|auth|cookie|parsed", re.IGNORECASE)


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if not parts.password:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit(
        parts._replace(netloc=f"{parts.username or ''}:{SafeExceptionReporterFilter.cleansed_substitute}@{host}")
    )


class RedactingExceptionReporterFilter(SafeExceptionReporterFilter):
    def cleanse_setting(self, key, value):
        cleansed = super().cleanse_setting(key, value)
        if isinstance(cleansed, str) and "://" in cleansed:
            return _without_password(cleansed)
        return cleansed

    def get_post_parameters(self, request):
        parameters = super().get_post_parameters(request)
        if request is None or not self.is_active(request):
            return parameters
        return self._redacted(parameters)

    def get_cleansed_multivaluedict(self, request, multivaluedict):
        multivaluedict = super().get_cleansed_multivaluedict(request, multivaluedict)
        return self._redacted(multivaluedict) if self.is_active(request) else multivaluedict

    def _redacted(self, parameters: MultiValueDict) -> MultiValueDict:
        secret_keys = [key for key in parameters if SECRET_NAMES.search(key)]
        if not secret_keys:
            return parameters
        parameters = parameters.copy()
        for key in secret_keys:
            parameters[key] = self.cleansed_substitute
        return parameters

    def get_traceback_frame_variables(self, request, tb_frame):
        variables = super().get_traceback_frame_variables(request, tb_frame)
        if request is not None and not self.is_active(request):
            return variables
        return [(name, self.cleansed_substitute if SECRET_NAMES.search(name) else value) for name, value in variables]
