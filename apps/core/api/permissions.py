"""OperationPermission: enforces apps/core/operations.py for every API view.

Each view method is tagged with its operationId by `@operation(...)`; an untagged handler is
refused (deny by default), so no endpoint can ship without an entry in the map.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.permissions import BasePermission

from apps.core.operations import ME, OPERATIONS, OperationRule, Scope


def operation(
    operation_id: str,
    *,
    envelope: str | None = None,
    envelope_extra: dict | None = None,
    errors: dict[int, str] | None = None,
    **schema,
):
    """Pin a view method to a spec operationId (schema + permission rule).

    `envelope` names the response envelope component when it is not derived from the
    serializer; `envelope_extra` ({name: OpenAPI schema}) documents members the envelope
    carries beside success/error/data, e.g. `signatures` (see apps/core/api/schema.py);
    `errors` ({status: when}) documents statuses this operation answers beyond the ones
    every operation may (apps/core/api/schema.py ERROR_CODES), as ErrorOutput."""
    if operation_id not in OPERATIONS:
        raise LookupError(f"{operation_id} is not in apps/core/operations.py")

    # Always a {code: body} dict, so success is documented as 200 even for POST and DELETE.
    responses = schema.pop("responses", None)
    schema["responses"] = responses if isinstance(responses, dict) else {200: responses}

    def decorate(func):
        func = extend_schema(operation_id=operation_id, **schema)(func)
        func.operation_id = operation_id
        func.envelope_name = envelope
        func.envelope_extra = envelope_extra
        func.error_codes = {str(code): text for code, text in (errors or {}).items()}
        return func

    return decorate


def rule_for(request, view) -> OperationRule | None:
    handler = getattr(view, request.method.lower(), None)
    operation_id = getattr(handler, "operation_id", None)
    return OPERATIONS.get(operation_id) if operation_id else None


def require_property_scope(request, rule: OperationRule, property_id, *, user_id=None) -> None:
    """404 unless the caller's grants for this operation reach `property_id` (and `user_id`)."""
    if not request.user.allows(rule.permissions, property_id=property_id, user_id=user_id):
        raise exceptions.NotFound()


class OperationPermission(BasePermission):
    """403 without the operation's permission; 404 when the path names an object out of scope."""

    message = "insufficient permission"

    def has_permission(self, request, view) -> bool:
        if request.method.lower() not in view.http_method_names or not hasattr(view, request.method.lower()):
            return True  # the view answers 405 next
        rule = rule_for(request, view)
        if rule is None:
            return False
        if rule.scope == Scope.PUBLIC:
            return True
        principal = request.user
        if principal is None:
            raise exceptions.NotAuthenticated()
        if not principal.has_any(rule.permissions):
            return False
        kwargs = view.kwargs
        if rule.scope == Scope.GLOBAL:
            if not principal.allows(rule.permissions):
                raise exceptions.PermissionDenied("this operation needs a grant that is not scoped to a property")
        elif rule.scope == Scope.SELF:
            if principal.user_id is None or not principal.allows(frozenset({ME}), user_id=principal.user_id):
                return False
        elif rule.scope == Scope.PROPERTY:
            require_property_scope(request, rule, kwargs.get("propertyId"), user_id=kwargs.get("userId"))
        elif rule.scope == Scope.USER:
            user_id = kwargs.get("userId")
            if not principal.allows(rule.permissions, user_id=user_id) and not self._may_reach_users(principal, rule):
                raise exceptions.NotFound()
        return True

    @staticmethod
    def _may_reach_users(principal, rule: OperationRule) -> bool:
        """Property-scoped non-`me` grants reach users through membership; the view's user
        selector does that check (apps/accounts/selectors.py)."""
        return any(
            g.permission in rule.permissions and g.permission != ME and g.user_id is None for g in principal.grants
        )
