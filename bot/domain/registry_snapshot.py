"""What OFREP serves, built once per registry change instead of once per request.

A `RegistrySnapshot` is immutable: every key's answer already rendered to the bytes sent, the
bulk answer and its entity tag. A process swaps in a new one when the registry changes; a
request only looks a key up. `version` is the registry's version counter when it was read
(bumped by every commit that changes the registry), so a newer snapshot can be told apart
without comparing contents.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bot.domain.evaluation import KEY_FORMAT, Evaluation, FlagNotFound, evaluate_all, keys
from bot.domain.registry import Running

REASON = "STATIC"  # no targeting rules: every caller gets the same value


@dataclass(frozen=True)
class RegistrySnapshot:
    version: int
    services: Mapping[str, tuple[str, ...]]  # service → its keys, in declared order
    answers: Mapping[str, bytes] = field(repr=False)  # key → its single-key answer, as JSON
    bulk: bytes = field(repr=False)  # every key's answer: `{"flags": […]}`
    etag: str = ""  # of `bulk`; equal bytes give equal tags on every replica

    def answer(self, key: str) -> bytes | FlagNotFound:
        """The key's answer, or why there is none (naming what exists)."""
        found = self.answers.get(key)
        if found is not None:
            return found
        service, _, _ = key.partition(".")
        if service not in self.services:
            known = ", ".join(self.services) or "none are declared"
            return FlagNotFound(
                key, f"No service `{service}`. Known services: {known}. {KEY_FORMAT}"
            )
        valid = ", ".join(self.services[service])
        return FlagNotFound(key, f"`{key}` is not a key of `{service}`. Its keys: {valid}.")


def build_snapshot(version: int, running: Sequence[Running]) -> RegistrySnapshot:
    """Every service's flags and pinned versions, services in catalog order, each service's
    keys as `evaluate_all` orders them."""
    evaluations = [e for r in running for e in evaluate_all(r)]
    answers = {e.key: _json(success(e)) for e in evaluations}
    bulk = _json({"flags": [success(e) for e in evaluations]})
    return RegistrySnapshot(
        version,
        {r.spec.name: tuple(keys(r)) for r in running},
        answers,
        bulk,
        entity_tag(bulk),
    )


def success(evaluation: Evaluation) -> dict[str, object]:
    """One key's answer in OFREP's shape (open-feature/protocol, service/openapi.yaml)."""
    return {
        "key": evaluation.key,
        "value": evaluation.value,
        "reason": REASON,
        "variant": evaluation.variant,
        "metadata": evaluation.metadata,
    }


def entity_tag(body: bytes) -> str:
    return f'"{hashlib.sha256(body).hexdigest()[:32]}"'


def _json(answer: object) -> bytes:
    # As Starlette's JSONResponse renders, so the bytes are what callers always got.
    return json.dumps(answer, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


EMPTY = build_snapshot(-1, [])  # before the first load: older than any stored version
