"""Who may import what: the same permissions as the API operations the rows stand for."""

from apps.core.exceptions import Forbidden
from apps.core.operations import OWNER
from apps.core.principal import Principal


def check_may_import(principal: Principal | None, *, property_id, kind: str) -> None:
    """Areas are created, moved and deleted by owners only (createArea, updateArea,
    deleteArea); the other kinds by owners and access managers, as the operation map allows
    importing at all (403). The staff admin (None) may import every kind."""
    if principal is None or kind != "areas":
        return
    if not principal.allows(frozenset({OWNER}), property_id=property_id):
        raise Forbidden("importing areas needs the owner permission for this property")
