"""Vendors by kind: what each needs to be polled (docs/INTEGRATIONS.md "Vendors").

Each vendor package registers itself from `apps/integrations/<kind>/vendor.py` (imported by
IntegrationsConfig.ready()):

    vendor_register(Vendor(kind="lockt", credential_fields=("apiuser", "apikey"),
                           default_base_url="https://cloudapi.lockt.com/api/v1", poll=lockt_poll))

`poll(context)` does one poll of one account: it reads the remote through `context.http`
(credentials already in its headers), writes through the domain services, reports counts
with `context.progress(...)`, and raises the named errors of apps.integrations.http.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol


class Progress(Protocol):
    def __call__(
        self, *, fetched: int = 0, created: int = 0, updated: int = 0, unchanged: int = 0, failed: int = 0
    ) -> None: ...


@dataclass(frozen=True)
class PollContext:
    """What a vendor's poll gets: the account row, an HTTP client holding its credentials,
    the decrypted credentials (for vendors that sign requests), and the run's counters."""

    account: Any  # IntegrationAccount (not imported: this module is imported by the models' users)
    http: Any  # apps.integrations.http.HttpClient
    credentials: Mapping[str, str]
    progress: Progress

    def __repr__(self) -> str:
        return f"PollContext(account={self.account.pk})"  # never the credentials


@dataclass(frozen=True)
class Vendor:
    kind: str
    credential_fields: tuple[str, ...]
    default_base_url: str
    poll: Callable[[PollContext], None]
    # Header name for each credential field (Lockt sends `apiuser`/`apikey` as headers); a
    # vendor whose credentials are not plain headers leaves this empty and signs in `poll`.
    credential_headers: Mapping[str, str] | None = None
    headers: Mapping[str, str] | None = None  # sent on every request (Lockt: Content-Type on GETs too)
    # "Test connection": one cheap read proving the URL and credentials work; returns what the
    # remote said about itself in plain words (e.g. "Lockt 1.1.0"), or raises the http errors.
    check: Callable[[PollContext], str] | None = None


_VENDORS: dict[str, Vendor] = {}


def vendor_register(vendor: Vendor) -> None:
    """Declare a vendor (its AppConfig-time `vendor` module); registering a kind twice is refused."""
    if vendor.kind in _VENDORS and _VENDORS[vendor.kind] != vendor:
        raise ValueError(f"integration vendor {vendor.kind!r} is already registered")
    _VENDORS[vendor.kind] = vendor


def vendor_get(kind: str) -> Vendor | None:
    return _VENDORS.get(kind)


def vendor_kinds() -> frozenset[str]:
    return frozenset(_VENDORS)
