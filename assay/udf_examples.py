"""Example functions for the ``userDefinedFunction`` rule, registered through the
``assay.udf`` entry-point group in pyproject.toml (``[project.entry-points."assay.udf"]``).

A UDF takes one non-NULL field value (as the engine returns it: ``str``, ``int``,
``float``, ``Decimal``, ``date``/``datetime``, …) and returns True when the value is
valid. Any installed package can add its own in the same way.
"""

from __future__ import annotations

import json
import string
from typing import Any

_IBAN_CHARS = set(string.ascii_uppercase + string.digits)


def is_iban(value: Any) -> bool:
    """True for an IBAN: 2 letters, 2 check digits, 11–30 letters/digits (spaces
    allowed and ignored, upper case), passing the ISO 13616 mod-97 check."""
    if not isinstance(value, str):
        return False
    s = value.replace(" ", "")
    if not 15 <= len(s) <= 34 or not set(s) <= _IBAN_CHARS:
        return False
    if not (s[:2].isalpha() and s[2:4].isdigit()):
        return False
    rearranged = s[4:] + s[:4]
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(number) % 97 == 1


def is_json_object(value: Any) -> bool:
    """True when the value is text holding one JSON object (``{…}``)."""
    if not isinstance(value, str):
        return False
    try:
        return isinstance(json.loads(value), dict)
    except ValueError:
        return False
