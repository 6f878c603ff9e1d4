from __future__ import annotations

from pydantic import BaseModel, ConfigDict, field_validator

from .. import regex
from . import register
from .base import RowRule


class PatternProperties(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pattern: str

    @field_validator("pattern")
    @classmethod
    def _in_flavour(cls, v: str) -> str:
        try:
            return regex.validate(v)
        except regex.RegexError as e:
            raise ValueError(f"unsupported regular expression: {e}") from None


@register
class MatchesPattern(RowRule):
    """The value matches the regular expression ``pattern``, written in Assay's one
    regex flavour (``assay.engine.regex``; docs/semantics.md "Regular expressions"):
    search semantics as Spark's RLIKE (anchor with ``^…$`` for a whole-value match),
    case-sensitive, ASCII ``\\d \\w \\s`` and POSIX classes, translated for the engine
    of the table so every engine gives the same answer. NULLs are skipped; a
    non-string field is cast to text first.

    Raises: RuleDefinitionError on ``properties.pattern`` (→ 422) for a pattern outside
    the flavour (backreferences, lookaround, inline flags, …), naming the construct.
    """

    name = "matchesPattern"
    description = "Asserts that a field's value matches a regular expression pattern."
    Properties = PatternProperties
    violation = "does not match the pattern"
    shape_violation = "do not match the pattern"

    def failing(self, t, key):
        v = t[self.field_name]
        if not v.type().is_string():
            v = v.cast("string")
        return v.notnull() & ~regex.search(v, self.props.pattern)
