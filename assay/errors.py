"""Domain errors every layer may raise; ``assay.api.errors`` maps each to one HTTP answer.

* ``NotFound`` → 404, ``Conflict`` → 409, ``ValidationError`` → 422 naming the field.
* A check definition that does not fit its rule type raises
  ``assay.engine.rules.RuleDefinitionError`` (also a 422 naming the field).
"""

from __future__ import annotations


class NotFound(LookupError):
    """No row with that id: the API answers 404 with this message as ``detail``."""


class Conflict(RuntimeError):
    """The request conflicts with the stored state: the API answers 409."""


class SettingError(ValueError):
    """An ``ASSAY_*`` environment variable with a value Assay cannot use; the message names
    the variable, its value and what it must be. ``assay serve`` and ``assay worker`` check
    their settings before they start and exit with it."""


class ValidationError(ValueError):
    """Input that is well-formed JSON but not acceptable (a connection setting, an operation
    payload on the wrong datastore, an unknown container name…).

    ``loc`` is the path of the offending input inside the request's ``part`` (``body``,
    ``query`` or ``path``), e.g. ``("connection", "host")``; the API answers 422 naming it
    (``["body", "connection", "host"]``).
    """

    def __init__(self, loc: tuple[str | int, ...] | str, message: str, part: str = "body"):
        super().__init__(message)
        self.loc: tuple[str | int, ...] = (loc,) if isinstance(loc, str) else tuple(loc)
        self.message = message
        self.part = part
