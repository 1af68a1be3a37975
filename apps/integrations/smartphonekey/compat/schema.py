"""OpenAPI for the compatibility endpoint: its own schema at `/compat/smartphonekey/schema/`.

The Keyhouse schema (`/api/v1/schema/`) describes the `/api/` envelope and auth, which these
paths do not use, so it leaves them out (`exclude_compat`, a preprocessing hook in settings);
the compat schema keeps only them (`only_compat`)."""

from drf_spectacular.views import SpectacularAPIView

PREFIX = "/compat/"


def exclude_compat(endpoints, **kwargs):
    return [endpoint for endpoint in endpoints if not endpoint[0].startswith(PREFIX)]


def only_compat(endpoints, **kwargs):
    return [endpoint for endpoint in endpoints if endpoint[0].startswith(f"{PREFIX}smartphonekey/")]


class CompatSchemaView(SpectacularAPIView):
    custom_settings = {
        "TITLE": "Keyhouse SmartphoneKey compatibility API",
        "DESCRIPTION": "SmartphoneKey's AddAccessibleLock (seed 003) served by Keyhouse; see docs/INTEGRATIONS.md.",
        "SCHEMA_PATH_PREFIX": "",
        "PREPROCESSING_HOOKS": ["apps.integrations.smartphonekey.compat.schema.only_compat"],
    }
