"""The built-in driver's read side: AI services evaluate their flags and pinned versions."""

from __future__ import annotations

from bot.domain.evaluation import Evaluation, FlagNotFound, evaluate, evaluate_all, service_of
from bot.services.deps import Deps
from bot.services.registry import running


async def evaluate_key(deps: Deps, key: str) -> Evaluation | FlagNotFound:
    spec = service_of(key, deps.catalog)
    if isinstance(spec, FlagNotFound):
        return spec
    return evaluate(key, await running(deps, spec.name))


async def evaluate_every_key(deps: Deps) -> list[Evaluation]:
    """Every service's flags and pinned versions, in declared order."""
    evaluations: list[Evaluation] = []
    for spec in deps.catalog:
        evaluations += evaluate_all(await running(deps, spec.name))
    return evaluations
