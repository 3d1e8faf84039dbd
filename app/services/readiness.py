"""Whether each provider we send through works: known before the first customer writes.

Every worker checks its providers with one cheap authenticated read when it starts, and again
when `/readyz` is asked and the last check is older than `every` seconds. What a check finds
(credentials rejected, provider unreachable) is kept in the store, like a refused send, so
every worker's `/readyz` and `/metrics` say the same; a send that goes through clears it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence

from app.errors import StoreUnavailable
from app.services.store import Store
from app.services.store.base import SendError
from dialects.client import ProviderClient

log = logging.getLogger(__name__)

# How /readyz names what the store keeps about a provider.
STATES = {"auth": "auth_failed", "unreachable": "unreachable"}


class ProviderHealth:
    """Runs the providers' health checks in the background, at most every `every` seconds."""

    def __init__(self, store: Store, clients: Mapping[str, ProviderClient],
                 names: Sequence[str], every: float = 60.0):
        self.store = store
        self.clients = clients
        self.names = list(names)
        self.every = every
        self._last: float | None = None
        self._lock = threading.Lock()

    def refresh(self, wait: float = 0) -> bool:
        """Start a check in the background unless one started less than `every` seconds ago,
        and wait up to `wait` seconds for it; whether one was started."""
        with self._lock:
            now = time.monotonic()
            if self._last is not None and now - self._last < self.every:
                return False
            self._last = now
        checking = threading.Thread(target=self.check, name="provider-check", daemon=True)
        checking.start()
        checking.join(wait)
        return True

    def check(self) -> None:
        """Check each configured provider now and keep what it found."""
        for name in self.names:
            result = self.clients[name].health_check()
            if result is None:
                continue
            try:
                known = self.store.providers.auth_failures().get(name)
                if result.accepted:
                    if known is not None:
                        self.store.providers.clear_auth_failure(name)
                        log.info("provider ok dialect=%s: credentials accepted again", name)
                    continue
                kind = "auth" if result.kind == "auth" else (
                    "unreachable" if result.kind == "transient" else "rejected")
                error = SendError(kind, result.error_code, result.error_message)
                self.store.providers.record_auth_failure(name, error)
            except StoreUnavailable:
                return  # the schema gate reports the store; the next check tries again
            if known != error:
                log.error("provider check failed dialect=%s state=%s http=%s error_code=%s: %s",
                          name, STATES.get(kind, kind), result.http_status, result.error_code,
                          result.error_message)

    def states(self, failures: Mapping[str, SendError]) -> dict[str, str]:
        """Each provider's state: ok, not_configured, or what its last check or send found."""
        return {name: STATES.get(failures[name].kind, failures[name].kind)
                if name in failures else
                "not_configured" if self.clients[name].missing else "ok"
                for name in self.names}
