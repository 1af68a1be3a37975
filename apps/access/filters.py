import django_filters

from apps.access.models import UserGroup, UserGroupGroupSource, UserGroupGroupType


class UserGroupFilterSet(django_filters.FilterSet):
    """Group list filters: `groupType`, `groupSource`."""

    groupType = django_filters.ChoiceFilter(field_name="group_type", choices=UserGroupGroupType.choices)
    groupSource = django_filters.ChoiceFilter(field_name="group_source", choices=UserGroupGroupSource.choices)

    class Meta:
        model = UserGroup
        fields = []
