"""The rule catalogue: one small class per rule type, registered by API name.

``RULES`` maps API names (``notNull``, ``between``, …) to classes; aliases map older
names to the same class. Every module of this package is imported on first use, so
adding a rule type means adding one module here and nothing else.
"""

from __future__ import annotations

import importlib
import pkgutil
import threading

from .base import AggregateRule, CheckSpec, RowRule, Rule, RuleDefinitionError

RULES: dict[str, type[Rule]] = {}
ALIASES: dict[str, str] = {}
_loaded = threading.Event()
_load_lock = threading.Lock()


def register(cls: type[Rule]) -> type[Rule]:
    """Class decorator: add ``cls`` to the catalogue under ``cls.name``."""
    if cls.name in RULES:
        raise RuntimeError(f"rule type {cls.name} registered twice")
    RULES[cls.name] = cls
    return cls


def _load() -> None:
    """Import every rule module once. Worker threads may ask for rules at the same time:
    nobody sees the catalogue until all of it is registered."""
    if _loaded.is_set():
        return
    with _load_lock:
        if _loaded.is_set():
            return
        for mod in pkgutil.iter_modules(__path__):
            if mod.name != "base":
                importlib.import_module(f"{__name__}.{mod.name}")
        _loaded.set()


def get_rule(name: str) -> type[Rule]:
    """The rule class for an API name or alias. Raises KeyError for an unknown name."""
    _load()
    return RULES[ALIASES.get(name, name)]


def all_rules() -> dict[str, type[Rule]]:
    _load()
    return dict(sorted(RULES.items()))


__all__ = ["AggregateRule", "CheckSpec", "Rule", "RuleDefinitionError", "RowRule", "get_rule", "all_rules", "register"]
