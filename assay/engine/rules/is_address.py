from __future__ import annotations

import functools
import operator
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .. import regex
from ..text import as_text
from . import register
from .base import TEXT, RowRule

Label = Literal["road", "house_number", "postcode", "city", "state", "country"]

ROAD_WORDS = (
    "Street",
    "St",
    "Road",
    "Rd",
    "Avenue",
    "Ave",
    "Boulevard",
    "Blvd",
    "Lane",
    "Ln",
    "Drive",
    "Dr",
    "Court",
    "Ct",
    "Place",
    "Pl",
    "Way",
    "Terrace",
    "Ter",
    "Highway",
    "Hwy",
    "Parkway",
    "Pkwy",
    "Square",
    "Sq",
    "Circle",
    "Cir",
)
US_STATES = [
    "AL",
    "AK",
    "AZ",
    "AR",
    "CA",
    "CO",
    "CT",
    "DE",
    "DC",
    "FL",
    "GA",
    "HI",
    "ID",
    "IL",
    "IN",
    "IA",
    "KS",
    "KY",
    "LA",
    "ME",
    "MD",
    "MA",
    "MI",
    "MN",
    "MS",
    "MO",
    "MT",
    "NE",
    "NV",
    "NH",
    "NJ",
    "NM",
    "NY",
    "NC",
    "ND",
    "OH",
    "OK",
    "OR",
    "PA",
    "RI",
    "SC",
    "SD",
    "TN",
    "TX",
    "UT",
    "VT",
    "VA",
    "WA",
    "WV",
    "WI",
    "WY",
    "PR",
]
COUNTRIES = (
    "United States of America",
    "United States",
    "USA",
    "U.S.A.",
    "United Kingdom",
    "UK",
    "Great Britain",
    "England",
    "Scotland",
    "Wales",
    "Ireland",
    "Canada",
    "Mexico",
    "Brazil",
    "Argentina",
    "Germany",
    "France",
    "Spain",
    "Portugal",
    "Italy",
    "Netherlands",
    "Belgium",
    "Switzerland",
    "Austria",
    "Sweden",
    "Norway",
    "Denmark",
    "Finland",
    "Poland",
    "Australia",
    "New Zealand",
    "Japan",
    "China",
    "India",
    "South Africa",
)
_LETTER = r"[A-Za-z\x{c0}-\x{24f}]"  # ASCII and Latin-1/Latin Extended-A/B letters


def _words(words, case_sensitive: bool = False) -> str:
    alts = "|".join(regex.literal(w) if case_sensitive else regex.caseless(w) for w in words)
    return f"(?:^|[^A-Za-z])(?:{alts})(?:[^A-Za-z]|$)"


#: The pattern (Assay's regex flavour) that decides each label; see IsAddress.
LABEL_PATTERNS: dict[str, str] = {
    "house_number": r"(?:^|[ ,])[0-9]{1,5}[A-Za-z]? [A-Za-z]",
    "road": _words(ROAD_WORDS),
    "postcode": (
        r"[ ,](?:[0-9]{5}(?:-[0-9]{4})?|[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}|[A-Z][0-9][A-Z] [0-9][A-Z][0-9])"
        r"(?:[^A-Za-z0-9]|$)"
    ),
    "city": f", *{_LETTER}{_LETTER}",
    "state": _words(US_STATES, case_sensitive=True),
    "country": _words(COUNTRIES),
}


class AddressProperties(BaseModel):
    model_config = ConfigDict(extra="forbid")
    required_labels: list[Label] = Field(
        min_length=1, description="address parts the value must contain: " + ", ".join(LABEL_PATTERNS)
    )


@register
class IsAddress(RowRule[AddressProperties]):
    """The value contains every address part in ``required_labels``. Deterministic
    heuristics, one pattern per label (``LABEL_PATTERNS``, searched on the engine):

    * ``house_number``: 1–5 digits, optionally one letter (``221B``), at the start of the
      value or after a space or comma, then a space and a letter (``12 Main…``);
    * ``road``: a whole word (any case, optionally followed by ``.``) from ``ROAD_WORDS``
      (Street, St, Road, Rd, Avenue, Ave, …);
    * ``postcode``: after a space or comma, a US ZIP (``12345``, ``12345-6789``), a UK
      postcode (``SW1A 1AA``, upper case, with its space) or a Canadian one (``K1A 0B1``),
      not followed by a letter or digit;
    * ``city``: a comma followed (after optional spaces) by two letters (ASCII or Latin),
      i.e. a named part after the first comma-separated part;
    * ``state``: a two-letter upper-case USPS code from ``US_STATES`` as a whole word;
    * ``country``: a whole word/phrase (any case) from ``COUNTRIES``.

    NULLs are skipped; a non-string field is rendered as text the same way on every
    engine (``engine.text.as_text``).
    """

    name = "isAddress"
    description = "Asserts that the values contain the required address parts."
    field_types = TEXT
    Properties = AddressProperties

    def failing(self, t, key):
        v = as_text(t[self.field_name])  # one text for non-string fields on every engine
        found = [regex.search(v, LABEL_PATTERNS[label]) for label in dict.fromkeys(self.props.required_labels)]
        return v.notnull() & ~functools.reduce(operator.and_, found)

    @property
    def violation(self):  # type: ignore[override]
        return f"does not contain the address parts {', '.join(self.props.required_labels)}"

    @property
    def shape_violation(self):  # type: ignore[override]
        return f"do not contain the address parts {', '.join(self.props.required_labels)}"
