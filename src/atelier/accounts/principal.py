"""Who is making a request: a small immutable value, cheap to cache and to pass around.

Services take a Principal rather than the ORM User so that authenticating a request
does not need to load (or cache) a mutable database row.
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass

from atelier.accounts.models import User, UserRole


@dataclass(frozen=True, slots=True)
class Principal:
    id: uuid.UUID
    role: UserRole
    # None: signed in with a password (a session), which may do all its user may. An API
    # key's scopes otherwise (atelier.accounts.scopes).
    scopes: frozenset[str] | None = None
    api_key_id: uuid.UUID | None = None

    @property
    def via_api_key(self) -> bool:
        return self.api_key_id is not None

    @classmethod
    def of(cls, user: User) -> Principal:
        return cls(id=user.id, role=user.role)


class AuthCache:
    """Token digest → Principal for a few seconds, so most requests skip the auth query.

    Logout and key revocation evict the entry at once in this process; other server
    processes notice within ``ttl`` seconds. ``ttl`` 0 turns the cache off.

    Each entry also keeps the ``stamp`` of its user row (``users.updated_at`` when the
    entry was made): ``accounts.service.authenticate`` compares it with the row on every
    hit, so that deactivating a user or changing their role, in any process, is seen at
    once rather than after ``ttl``.
    """

    def __init__(self, ttl: float, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[Principal, object, float]] = OrderedDict()

    def get(self, digest: str) -> Principal | None:
        entry = self.entry(digest)
        return entry[0] if entry is not None else None

    def entry(self, digest: str) -> tuple[Principal, object] | None:
        """The cached principal and the stamp of its user row, while still valid."""
        entry = self._entries.get(digest)
        if entry is None:
            return None
        principal, stamp, valid_until = entry
        if time.monotonic() >= valid_until:
            self._entries.pop(digest, None)
            return None
        return principal, stamp

    def put(
        self, digest: str, principal: Principal, *, seconds_left: float, stamp: object = None
    ) -> None:
        if self.ttl <= 0:
            return
        valid_until = time.monotonic() + min(self.ttl, seconds_left)
        self._entries[digest] = (principal, stamp, valid_until)
        self._entries.move_to_end(digest)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def forget(self, digest: str) -> None:
        self._entries.pop(digest, None)

    def forget_user(self, user_id: uuid.UUID) -> None:
        for digest in [d for d, (p, _, _) in self._entries.items() if p.id == user_id]:
            self._entries.pop(digest, None)
