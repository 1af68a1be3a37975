from django.contrib.admin.apps import AdminConfig


class KeyhouseAdminConfig(AdminConfig):
    """django.contrib.admin, with the Keyhouse site (dashboard figures on the index)."""

    default_site = "apps.core.admin_site.KeyhouseAdminSite"
