"""Other rows holding secrets wrapped under the KEK ring, so `manage.py rotate_kek` covers them.

Keys sit on the ground floor and cannot import the apps above that wrap their own secrets
with `kek.wrap` (integration credentials). Such an app registers a holder from its
AppConfig.ready(); `keys_rewrap` then rewraps its rows too and counts what is left under old
KEKs, so "older keks can be removed" stays true.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class WrappedSecretHolder:
    """`remaining_by_kek(current_id)` → {kekId: rows not under the current KEK};
    `rewrap(ring=, batch_size=)` → (rows rewrapped, {row label: why it failed})."""

    name: str
    remaining_by_kek: Callable[[int], dict[int, int]]
    rewrap: Callable[..., tuple[int, dict[str, str]]]


_HOLDERS: dict[str, WrappedSecretHolder] = {}


def wrapped_secret_holder_register(holder: WrappedSecretHolder) -> None:
    _HOLDERS[holder.name] = holder


def wrapped_secret_holders() -> tuple[WrappedSecretHolder, ...]:
    return tuple(_HOLDERS.values())
