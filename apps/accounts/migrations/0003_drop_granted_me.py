"""Remove stored `me` grants. `me` is implied for a person's own sign-in and never granted;
before the audit fix an owner could create an API key holding `me` for someone else and act
as them. Such rows no longer authorise anything (selectors._grants skips them); this removes
them so that no listing shows a permission that does nothing."""

from django.db import migrations


def drop_granted_me(apps, schema_editor):
    apps.get_model("accounts", "PermissionGrant").objects.filter(permission="me").delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_alter_user_billing_address_alter_user_phone_number")]

    operations = [migrations.RunPython(drop_granted_me, migrations.RunPython.noop)]
