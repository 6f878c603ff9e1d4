from __future__ import annotations

import functools
import operator

import ibis

from .. import regex
from ..text import as_text
from . import register
from .base import TEXT, NoProperties, RowRule

#: The whole value: 13–19 digits, optionally separated by single spaces or dashes.
CARD_FORMAT = r"^[0-9](?:[ -]?[0-9]){12,18}$"
MAX_DIGITS = 19


def luhn_ok(value):
    """Boolean Ibis expression: the digits of string ``value`` (spaces and dashes
    removed) pass the Luhn checksum. Computed on the engine: the digits are left-padded
    with zeros to 19 (zeros add nothing to the sum), then each position's character code
    minus 48 is taken, every second digit from the right doubled (minus 9 above 9) and
    the total compared modulo 10. Meaningful only for a value of ``CARD_FORMAT``."""
    digits = value.replace(" ", "").replace("-", "")
    padded = ibis.literal("0" * MAX_DIGITS).concat(digits).right(MAX_DIGITS)
    terms = []
    for j in range(MAX_DIGITS):
        d = padded.substr(j, 1).ascii_str() - 48
        if (MAX_DIGITS - 1 - j) % 2 == 1:  # every second digit from the right
            d = ibis.ifelse(d > 4, d * 2 - 9, d * 2)
        terms.append(d)
    return functools.reduce(operator.add, terms) % 10 == 0


@register
class IsCreditCard(RowRule[NoProperties]):
    """The whole value is a card number: 13 to 19 digits, optionally separated by
    single spaces or dashes (no other characters, no surrounding blanks), whose digits
    pass the Luhn checksum. NULLs are skipped; an integer field is rendered as its
    digits (``engine.text.as_text``), so a card number stored as BIGINT is checked as such."""

    name = "isCreditCard"
    description = "Asserts that the values are credit card numbers (Luhn checksum)."
    field_types = (*TEXT, "Integral")
    violation = "is not a valid credit card number"
    shape_violation = "are not valid credit card numbers"

    def failing(self, t, key):
        v = as_text(t[self.field_name])  # one text for non-string fields on every engine
        return v.notnull() & ~(regex.search(v, CARD_FORMAT) & luhn_ok(v))
