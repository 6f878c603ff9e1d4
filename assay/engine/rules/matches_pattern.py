from __future__ import annotations

from pydantic import BaseModel, ConfigDict, field_validator

from .. import regex
from ..text import as_text
from . import register
from .base import RowRule


class PatternProperties(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pattern: str

    @field_validator("pattern")
    @classmethod
    def _in_flavour(cls, v: str) -> str:
        if v == "":
            raise ValueError("must not be empty (an empty pattern matches every value)")
        try:
            return regex.validate(v)
        except regex.RegexError as e:
            raise ValueError(f"unsupported regular expression: {e}") from None


@register
class MatchesPattern(RowRule[PatternProperties]):
    """The value matches the regular expression ``pattern``, written in Assay's one
    regex flavour (``assay.engine.regex``; docs/semantics.md "Regular expressions"):
    search semantics as Spark's RLIKE (anchor with ``^…$`` for a whole-value match),
    case-sensitive, ASCII ``\\d \\w \\s`` and POSIX classes, translated for the engine
    of the table so every engine gives the same answer. NULLs are skipped; a
    non-string field is first rendered as text the same way on every engine
    (``engine.text.as_text``: ``-2`` for the double -2.0, ``NaN``, DECIMAL at its scale,
    dates ``YYYY-MM-DD``, timestamps ``YYYY-MM-DD HH:MM:SS[.ffffff]`` in UTC, ``true``/``false``).

    Raises: RuleDefinitionError on ``properties.pattern`` (→ 422) for a pattern outside
    the flavour (backreferences, lookaround, inline flags, …), naming the construct.
    """

    name = "matchesPattern"
    description = "Asserts that a field's value matches a regular expression pattern."
    Properties = PatternProperties
    violation = "does not match the pattern"
    shape_violation = "do not match the pattern"

    def failing(self, t, key):
        v = as_text(t[self.field_name])  # one text for non-string fields on every engine
        return v.notnull() & ~regex.search(v, self.props.pattern)
