"""Directory factories (properties, areas, groups, members) that go through the real services.

Each helper calls the same service the API and the admin call (actor "system"), so the
rows, the derived fields (containingAreaIds, area groups, property groups) and the events
are exactly what production code makes.
"""

import itertools

from apps.access import services as access_services
from apps.access.models import UserGroup, UserGroupGroupSource
from apps.accounts import services as account_services
from apps.core.actors import SYSTEM

_seq = itertools.count(1)

ADDRESS = {"line1": "1 Harbour Street", "city": "Portsmouth", "country": "GB", "postalCode": "PO1 1AA"}


def address(**overrides) -> dict:
    return {**ADDRESS, **overrides}


def property_create(*, display_name: str | None = None, owner=None, time_zone: str = "UTC", access_managers=(), **kw):
    """A live property (with its Residents and Staff groups)."""
    return access_services.property_create(
        display_name=display_name or f"Property {next(_seq)}",
        address=kw.pop("address", None) or address(),
        time_zone=time_zone,
        owner_id=owner.pk if owner is not None else None,
        access_manager_ids=[u.pk for u in access_managers],
        actor=SYSTEM,
        **kw,
    )


def area_create(prop, *, display_name: str | None = None, area_type: str = "resident", parent=None, access_list=None):
    """A live area of `prop` (with its area group), optionally under `parent`."""
    return access_services.area_create(
        prop=prop,
        display_name=display_name or f"Area {next(_seq)}",
        area_type=area_type,
        parent_id=parent.pk if parent is not None else None,
        access_list=access_list,
        actor=SYSTEM,
    )


def area_move(area, parent):
    return access_services.area_update(area=area, parent_id=parent.pk if parent is not None else None, actor=SYSTEM)


def group_create(prop, *, display_name: str | None = None, group_type: str = "resident", members=()):
    """A custom group of `prop`, with `members` added."""
    group = access_services.user_group_create(
        prop=prop, display_name=display_name or f"Group {next(_seq)}", group_type=group_type, actor=SYSTEM
    )
    for user in members:
        member_add(group, user)
    return group


def member_add(group, user) -> bool:
    return access_services.membership_add(group=group, user=user, actor=SYSTEM)


def property_group(prop, group_type: str = "resident") -> UserGroup:
    """The property's own Residents / Staff group."""
    return UserGroup.objects.get(property=prop, group_source=UserGroupGroupSource.PROPERTY, group_type=group_type)


def user_create(*, email: str | None = None, display_name: str | None = None, password: str | None = None, **fields):
    """A person, made by the accounts service (event `user.created`)."""
    n = next(_seq)
    return account_services.user_create(
        email=email or f"person{n}@example.test",
        display_name=display_name or f"Person {n}",
        password=password,
        actor=SYSTEM,
        **fields,
    )


# -- API helpers ---------------------------------------------------------------------------


def ok(response) -> dict:
    """The `data` of a successful enveloped response (asserting 200 and the envelope)."""
    assert response.status_code == 200, (response.status_code, response.content[:500])
    body = response.json()
    write = (getattr(response, "request", None) or {}).get("REQUEST_METHOD", "GET") not in ("GET", "HEAD", "OPTIONS")
    # a write also answers the ids of the events it appended (docs/API.md "Following a write")
    assert set(body) == {"success", "error", "data", *(["eventIds"] if write else [])}, body
    assert all(isinstance(event_id, str) for event_id in body.get("eventIds", [])), body
    assert body["success"] is True and body["error"] is None, body
    return body["data"]


def refused(response, status: int) -> dict:
    """The body of an enveloped error response with `status` (asserting the envelope)."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    body = response.json()
    assert set(body) == {"success", "error", "data"}, body
    assert body["success"] is False and isinstance(body["error"], str) and body["error"], body
    return body


def all_pages(client, url: str, items_key: str, *, page_size: int, **params) -> list[list[dict]]:
    """Every page of a paged list, following `pageToken` until it is null."""
    pages, token = [], None
    while True:
        query = {**params, "pageSize": page_size, **({"pageToken": token} if token else {})}
        data = ok(client.get(url, query))
        assert set(data) == {items_key, "pageToken"}, data.keys()
        pages.append(data[items_key])
        token = data["pageToken"]
        if token is None:
            return pages
        assert len(pages) < 1000, "pageToken never ran out"
