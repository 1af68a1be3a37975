"""ApiView: the base class of every Keyhouse API view, and `or_404` for its lookups."""

from typing import TypeVar

from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.views import APIView

from apps.core.api.pagination import PageTokenPagination
from apps.core.api.permissions import rule_for

T = TypeVar("T")


def or_404(found: T | None) -> T:
    """What a lookup found (a selector's `..._get`, a queryset's `.first()`); None is a 404.
    Views wrap their lookups in it: `area = or_404(selectors.area_get(...))`."""
    if found is None:
        raise NotFound()
    return found


class ApiView(APIView):
    """APIView with the Keyhouse habits built in.

    - Rate limits run before authentication and permission checks. DRF checks throttles
      last, so floods without credentials and secret guessing would never be limited. Here
      the address limit is counted first on every request; the per-credential limit follows.
    - `paginated(...)`, `filtered(...)`, `body(...)` keep list and write views to a few lines.
    - No OPTIONS: the schema lists no such operation, so it is a 405 with `Allow` like any
      other method the path lacks (DRF's metadata answer would need a permission rule).
    """

    pagination_class = PageTokenPagination
    http_method_names = [m for m in APIView.http_method_names if m != "options"]

    def initial(self, request, *args, **kwargs):
        self.check_throttles(request)
        self._throttles_checked = True
        super().initial(request, *args, **kwargs)

    def check_throttles(self, request):
        if not getattr(self, "_throttles_checked", False):
            super().check_throttles(request)

    @property
    def permissions(self) -> frozenset[str]:
        """The permissions of the operation being served (apps/core/operations.py)."""
        return rule_for(self.request, self).permissions

    def property_scope(self):
        """The properties this call's permissions reach: ALL or a frozenset of ids."""
        return self.request.user.property_ids_for(self.permissions)

    def body(self, serializer_class):
        """Validated request body (400 naming the fields otherwise)."""
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def filtered(self, filterset_class, queryset, *, parent_check=None):
        """`queryset` narrowed by the query parameters (400 naming the refused ones; `parent_check`
        as in `paginated`, run first)."""
        try:
            return self._filtered(filterset_class, queryset)
        except APIException:
            if parent_check is not None:
                parent_check()
            raise

    def _filtered(self, filterset_class, queryset):
        # django-filter reads `?lockId=` as "no filter"; the schema says a UUID (an enum, a
        # pattern): an empty value is not one, so it is a 400 like any other malformed value.
        empty = {
            name: ["Must not be empty."]
            for name, flt in filterset_class.base_filters.items()
            if self.request.query_params.get(name) == "" and _typed(flt)
        }
        if empty:
            raise ValidationError(empty)
        if not any(name in self.request.query_params for name in filterset_class.base_filters):
            return queryset  # nothing to narrow by (django-filter would build its form for nothing)
        filterset = filterset_class(self.request.query_params, queryset=queryset, request=self.request)
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        return filterset.qs

    def paginated(self, queryset, serializer_class, *, parent_check=None, **context):
        """One page of `queryset` through `serializer_class`, in the envelope.

        `parent_check` (raises NotFound when a nested list's parent is gone) runs only when the
        page is empty or its parameters are refused: a child row shows its parent is live (a
        parent is not deleted while it has live children), so a full page needs no query for
        it, and a missing parent still answers 404 before anything else."""
        paginator = self.pagination_class()
        try:
            page = paginator.paginate_queryset(queryset, self.request, view=self)
        except APIException:
            if parent_check is not None:
                parent_check()
            raise
        if not page and parent_check is not None:
            parent_check()
        return paginator.get_paginated_response(serializer_class(page, many=True, context=context).data)


def _typed(flt) -> bool:
    """Whether the schema gives this filter a form an empty string does not have (apps/core/api/schema.py
    filter_parameters: UUID, boolean, number, an enum, a pattern); a free-text filter may be empty."""
    import django_filters

    if isinstance(flt, django_filters.ChoiceFilter | django_filters.TypedChoiceFilter):
        return True
    if getattr(flt, "schema_pattern", None):
        return True
    return not isinstance(flt, django_filters.CharFilter)
