"""The PII detectors ``containsEmail``, ``containsUrl``, ``containsCreditCard`` and
``containsSocialSecurityNumber``: the value *contains* such a token somewhere.

Each is a fixed pattern in Assay's regex flavour (``assay.engine.regex``), searched on
the engine of the table, so every engine gives the same answer. A row fails when its
value does NOT contain the token; NULLs are skipped; a non-string field is rendered as
text first, the same way on every engine (``engine.text.as_text``). The exact patterns are the ``PATTERN`` attributes below.
"""

from __future__ import annotations

from typing import ClassVar

from .. import regex
from ..text import as_text
from . import register
from .base import TEXT, NoProperties, RowRule

#: ``[0-9]`` bounded by non-digits (or the ends of the value) on both sides.
_NOT_DIGIT_BEFORE = r"(?:^|[^0-9])"
_NOT_DIGIT_AFTER = r"(?:[^0-9]|$)"
_HOST = r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"


class _ContainsRule(RowRule[NoProperties]):
    PATTERN: ClassVar[str]
    field_types = TEXT
    token: ClassVar[str]

    def failing(self, t, key):
        v = as_text(t[self.field_name])  # one text for non-string fields on every engine
        return v.notnull() & ~regex.search(v, self.PATTERN)

    @property
    def violation(self):  # type: ignore[override]
        return f"does not contain {self.token}"

    @property
    def shape_violation(self):  # type: ignore[override]
        return f"do not contain {self.token}"


@register
class ContainsEmail(_ContainsRule):
    """The value contains an e-mail address: ``local@domain.tld`` where ``local`` is
    ``[A-Za-z0-9._%+-]+``, the domain is dot-separated ``[A-Za-z0-9-]+`` labels and the
    last label is at least two ASCII letters."""

    name = "containsEmail"
    description = "Asserts that the values contain e-mail addresses."
    PATTERN = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
    token = "an e-mail address"


@register
class ContainsUrl(_ContainsRule):
    """The value contains a URL: ``http://``, ``https://`` or ``ftp://`` (any letter
    case) followed by a host name (dot-separated ``[A-Za-z0-9-]+`` labels), or ``www.``
    (any case) followed by at least two such labels."""

    name = "containsUrl"
    description = "Asserts that the values contain URLs."
    PATTERN = (
        f"(?:{regex.caseless('http')}[Ss]?|{regex.caseless('ftp')})://{_HOST}"
        f"|{regex.caseless('www')}\\.[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)+"
    )
    token = "a URL"


@register
class ContainsCreditCard(_ContainsRule):
    """The value contains a card-number-shaped token: 13 to 19 digits, optionally
    separated by single spaces or dashes, not preceded or followed by another digit.
    No checksum here (``isCreditCard`` checks Luhn on a whole value)."""

    name = "containsCreditCard"
    description = "Asserts that the values contain credit card numbers."
    PATTERN = f"{_NOT_DIGIT_BEFORE}[0-9](?:[ -]?[0-9]){{12,18}}{_NOT_DIGIT_AFTER}"
    token = "a credit card number"


#: US SSN ``AAA-GG-SSSS``: area 001–899 except 666, group 01–99, serial 0001–9999.
_SSN_AREA = r"(?:00[1-9]|0[1-9][0-9]|[1-5][0-9]{2}|6[0-5][0-9]|66[0-57-9]|6[7-9][0-9]|[78][0-9]{2})"
_SSN_GROUP = r"(?:0[1-9]|[1-9][0-9])"
_SSN_SERIAL = r"(?:000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})"


@register
class ContainsSocialSecurityNumber(_ContainsRule):
    """The value contains a US Social Security number written ``AAA-GG-SSSS`` (dashes
    required): area 001–899 except 666, group 01–99, serial 0001–9999, not preceded or
    followed by another digit."""

    name = "containsSocialSecurityNumber"
    description = "Asserts that the values contain social security numbers."
    PATTERN = f"{_NOT_DIGIT_BEFORE}{_SSN_AREA}-{_SSN_GROUP}-{_SSN_SERIAL}{_NOT_DIGIT_AFTER}"
    token = "a social security number"
