"""drf-spectacular: document SecretAuthentication as the bearer scheme."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class SecretAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "apps.accounts.authentication.SecretAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key (khk_…) or a sign-in token (khu_…). "
            "The same secret is also accepted in an `X-API-Key` header.",
        }
