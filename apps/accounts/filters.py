import django_filters
from django.db.models import Q

from apps.accounts.models import User


class UserFilterSet(django_filters.FilterSet):
    """User list filters: `q` (name or email contains), `email` (exact, any case), `userGroupId`."""

    q = django_filters.CharFilter(method="filter_q", help_text="Name or email contains (case-insensitive).")
    email = django_filters.CharFilter(
        field_name="email",
        lookup_expr="iexact",
        help_text="Exactly this email address, any case: how to look a person up by email "
        "(among the people the caller may see).",
    )
    userGroupId = django_filters.UUIDFilter(
        field_name="memberships__user_group_id", help_text="Only members of this user group."
    )

    class Meta:
        model = User
        fields = []

    def filter_q(self, queryset, name, value):
        return queryset.filter(
            Q(display_name__icontains=value)
            | Q(email__icontains=value)
            | Q(first_name__icontains=value)
            | Q(last_name__icontains=value)
        )
