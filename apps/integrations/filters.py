import django_filters

from apps.integrations.choices import IntegrationAccountKind, IntegrationAccountStatus
from apps.integrations.models import IntegrationAccount, LocktRecord, LocktRecordKind, LocktRecordStatus


class IntegrationAccountFilterSet(django_filters.FilterSet):
    """listIntegrationAccounts filters: `propertyId`, `kind`, `status`."""

    propertyId = django_filters.UUIDFilter(field_name="property_id", help_text="Only this property's accounts.")
    kind = django_filters.ChoiceFilter(choices=IntegrationAccountKind.choices, help_text="Only this remote system.")
    status = django_filters.ChoiceFilter(choices=IntegrationAccountStatus.choices, help_text="Only this status.")

    class Meta:
        model = IntegrationAccount
        fields = []


class LocktRecordFilterSet(django_filters.FilterSet):
    """listIntegrationRecords filters: `kind`, `status`."""

    kind = django_filters.ChoiceFilter(choices=LocktRecordKind.choices, help_text="Only records of this kind.")
    status = django_filters.ChoiceFilter(
        choices=LocktRecordStatus.choices, help_text="Only this status (`failed`: what to fix in Lockt)."
    )

    class Meta:
        model = LocktRecord
        fields = []
