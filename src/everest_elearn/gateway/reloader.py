"""The rules in force: loaded from the rules file, reloaded when it changes, kept when invalid."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from datetime import UTC, datetime
from pathlib import Path

from everest_elearn.gateway import rules as rules_mod
from everest_elearn.gateway.rules import RuleSet, RulesInvalid

log = logging.getLogger(__name__)

DEFAULT_RULES = """\
# everest-elearn gateway rules (see docs/gateway.md). Reloaded automatically when saved.
version: 1
cache:
  retention: 7d
  budget: 50 GB
  eviction: lru
# Providers the gateway may fetch from; nothing outside these locations is ever fetched.
sources: []
# First matching rule wins.
rules:
  - name: default
    strategy: redirect
"""


class RulesHolder:
    """Holds the current rule set; ``reload()`` swaps it only when the new file is valid."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rules = RuleSet()
        self.loaded_at: datetime | None = None
        self.digest: str | None = None
        self.error: str | None = None
        self.error_at: datetime | None = None
        self._task: asyncio.Task[None] | None = None

    def load_initial(self, create: bool = True) -> None:
        if create and not self.path.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(DEFAULT_RULES)
            log.info("gateway: wrote default rules to %s", self.path)
        self.reload()

    def reload(self) -> bool:
        """Read the file if it changed; True when new rules took effect."""
        try:
            text = self.path.read_text()
        except OSError as exc:
            return self._reject(f"cannot read {self.path}: {exc.strerror or exc}")
        digest = hashlib.sha256(text.encode()).hexdigest()
        if digest == self.digest:
            return False
        self.digest = digest
        try:
            parsed = rules_mod.parse(text, str(self.path))
        except RulesInvalid as exc:
            return self._reject(str(exc))
        self.rules = parsed
        self.loaded_at = datetime.now(UTC)
        self.error = None
        self.error_at = None
        log.info(
            "gateway: rules loaded from %s (%d sources, %d rules, %s policies)",
            self.path,
            len(parsed.sources),
            len(parsed.rules),
            "no" if parsed.policies is None else len(parsed.policies),
        )
        return True

    def _reject(self, why: str) -> bool:
        self.error = why
        self.error_at = datetime.now(UTC)
        state = "keeping the previous rules" if self.loaded_at else "serving nothing until fixed"
        log.error("gateway: rules file rejected, %s: %s", state, why)
        return False

    def status(self) -> dict[str, object]:
        return {
            "file": str(self.path),
            "ok": self.error is None,
            "loaded_at": self.loaded_at.isoformat() if self.loaded_at else None,
            "sha256": self.digest,
            "error": self.error,
            "error_at": self.error_at.isoformat() if self.error_at else None,
            "sources": [s.name for s in self.rules.sources],
            "rules": [r.name for r in self.rules.rules],
            "policies": None
            if self.rules.policies is None
            else [p.name for p in self.rules.policies],
        }

    def watch(self, interval: float) -> None:
        """Poll the file every ``interval`` seconds (portable; no inotify needed)."""

        async def loop() -> None:
            while True:
                await asyncio.sleep(interval)
                try:
                    await asyncio.to_thread(self.reload)
                except Exception:
                    log.exception("gateway: reloading the rules failed")

        self._task = asyncio.create_task(loop(), name="gateway-rules-watch")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
