"""The door page "who can open this door" (from the lock change page): the people the lock's
derived lines name, expanded from groups and grants (selectors.lock_people, the Explain
page's rules), paged and searchable, each with the reason; and whether the lock has applied
the newest signed key map, i.e. whether a revocation is still pending at the door."""

from zoneinfo import ZoneInfo

from django.contrib.admin.utils import unquote
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from apps.access import selectors
from apps.access.admin.display import pending_event_count
from apps.access.admin.person import local_text
from apps.accounts.models import User
from apps.locks import selectors as lock_selectors

PER_PAGE = 50
SHOW = {"now": "Can open now", "all": "Everyone named on this door"}


def key_map_context(lock, tz: ZoneInfo) -> dict:
    """The lock's key-map state in words: revocations pending at the door or effective."""
    status = lock_selectors.key_map_status(lock=lock)
    if not status["signed"]:
        state = "No key map has been signed for this lock yet: it opens for nobody with a phone."
    elif status["pending"]:
        since = status["pendingSince"]
        waited = timezone.now() - since if since else None
        hours = f" for {waited.days} d {waited.seconds // 3600} h" if waited and waited.days else ""
        hours = hours or (f" for {int(waited.total_seconds() // 60)} min" if waited else "")
        state = (
            f"Pending{hours}: key map version {status['signed']} was signed"
            f"{' at ' + local_text(since, tz) if since else ''}, the lock still runs version {status['applied']}. "
            "Changes since then, revocations included, take effect at the door at its next sync."
        )
    else:
        state = (
            f"Effective: the lock applied the newest key map (version {status['applied']}"
            f"{', acknowledged ' + local_text(status['appliedAt'], tz) if status['appliedAt'] else ''})."
        )
    return {"key_map": status, "key_map_text": state}


def who_can_open_view(model_admin, request, object_id):
    lock = model_admin.get_object(request, unquote(object_id))
    if lock is None or not model_admin.has_view_permission(request, lock):
        raise Http404("No such lock.")
    show = request.GET.get("show") if request.GET.get("show") in SHOW else "now"
    query = request.GET.get("q", "").strip()
    now = timezone.now()
    prop = lock.property
    tz = ZoneInfo(prop.time_zone) if prop else ZoneInfo("UTC")
    rows = selectors.lock_people(prop=prop, lock=lock, at=now) if prop and lock.area_id else []
    people = User.objects.alive().filter(pk__in=[row["userId"] for row in rows])
    if query:
        people = people.filter(display_name__icontains=query) | people.filter(email__icontains=query)
    people = {str(person.pk): person for person in people}
    rows = [row for row in rows if row["userId"] in people and (show == "all" or row["allowed"])]
    for row in rows:
        row["person"] = people[row["userId"]]
        row["url"] = reverse("admin:accounts_user_person", args=[row["userId"]])
    rows.sort(key=lambda row: ((row["person"].display_name or row["person"].email).casefold(), row["userId"]))
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"Who can open {lock.display_name}",
        "opts": model_admin.opts,
        "lock": lock,
        "page": page,
        "count": len(rows),
        "query": query,
        "show": show,
        "show_choices": SHOW.items(),
        "at": f"{local_text(now, tz)} {tz.key}",
        "pending_events": pending_event_count(prop.pk) if prop else 0,
        **key_map_context(lock, tz),
    }
    return render(request, "admin/locks/lock/who.html", context)
