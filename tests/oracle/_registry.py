"""
The registry of differential scenarios.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from tests.oracle._world import World

__all__ = ["SCENARIOS", "Scenario", "allScenarios", "scenario"]

ScenarioFunction = Callable[[World], Coroutine[Any, Any, None]]


@dataclass(frozen=True)
class Scenario:
    """
    One registered scenario.

    @ivar name: the function's name, unique across families.
    @ivar family: the module's short name (C{scenarios_close} -> C{close}).
    @ivar doc: what it checks (the docstring).
    @ivar varies: L{None} if the real reactor always gives one outcome; else
        why its outcome legitimately varies (then every outcome seen on the
        real reactor is recorded, and the memory one must be among them).
    """

    name: str
    family: str
    doc: str
    function: ScenarioFunction
    varies: str | None


SCENARIOS: dict[str, Scenario] = {}


def scenario(
    function: ScenarioFunction | None = None, *, varies: str | None = None
) -> Any:
    """
    Register an C{async def name(w: World)} scenario (usable bare or as
    C{@scenario(varies="why")}).
    """

    def register(f: ScenarioFunction) -> ScenarioFunction:
        module = f.__module__.rsplit(".", 1)[-1]
        family = module.removeprefix("scenarios_")
        if f.__name__ in SCENARIOS:
            raise ValueError(f"scenario {f.__name__!r} registered twice")
        doc = " ".join((f.__doc__ or "").split())
        if not doc:
            raise ValueError(f"scenario {f.__name__!r} has no docstring")
        SCENARIOS[f.__name__] = Scenario(f.__name__, family, doc, f, varies)
        return f

    if function is not None:
        return register(function)
    return register


def allScenarios() -> dict[str, Scenario]:
    """
    Import every C{tests.oracle.scenarios_*} module and return the registry.
    """
    import tests.oracle as package

    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("scenarios_"):
            importlib.import_module(f"tests.oracle.{info.name}")
    return SCENARIOS
