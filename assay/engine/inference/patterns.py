"""``matchesPattern`` inference: a regular expression (in ``engine.regex``'s flavour)
generalising the training strings by runs of character classes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .core import MAX_PATTERN_ALTERNATIVES

_META = set(".^$*+?()[]{}|\\/")


def _char_class(c: str, coarse: bool) -> str:
    if c.isascii() and c.isalnum():
        if coarse:
            return "W"
        return "A" if c.isupper() else ("a" if c.islower() else "9")
    return c


def _runs(value: str, coarse: bool) -> list[tuple[str, int, set[str]]]:
    out: list[tuple[str, int, set[str]]] = []
    for c in value:
        k = _char_class(c, coarse)
        fine = _char_class(c, False)
        if out and out[-1][0] == k:
            out[-1] = (k, out[-1][1] + 1, out[-1][2] | {fine})
        else:
            out.append((k, 1, {fine}))
    return out


_CLASS_RE = {"A": "A-Z", "a": "a-z", "9": "0-9"}


def _run_regex(k: str, fines: set[str], lo: int, hi: int) -> str:
    if k in ("A", "a", "9", "W"):
        body = "[" + "".join(_CLASS_RE[f] for f in ("A", "a", "9") if f in (fines if k == "W" else {k})) + "]"
    else:
        body = "\\" + k if k in _META else k
    if lo == hi:
        return body if lo == 1 else f"{body}{{{lo}}}"
    return f"{body}{{{lo},{hi}}}"


def infer_pattern(values: list[str]) -> str | None:
    """A regular expression (``^…$``) every value matches, generalising character classes
    (A-Z, a-z, 0-9, other characters literally) and run lengths, with at most
    ``MAX_PATTERN_ALTERNATIVES`` alternative shapes; None when the values have no common shape."""
    if not values:
        return None
    for coarse in (False, True):
        shapes: dict[tuple[str, ...], list[list[tuple[str, int, set[str]]]]] = {}
        for v in values:
            runs = _runs(v, coarse)
            shapes.setdefault(tuple(r[0] for r in runs), []).append(runs)
            if len(shapes) > MAX_PATTERN_ALTERNATIVES:
                break
        if len(shapes) > MAX_PATTERN_ALTERNATIVES:
            continue
        alternatives = []
        for sig, members in sorted(shapes.items()):
            parts = []
            for i, k in enumerate(sig):
                lengths = [m[i][1] for m in members]
                fines = set().union(*(m[i][2] for m in members))
                parts.append(_run_regex(k, fines, min(lengths), max(lengths)))
            alternatives.append("".join(parts))
        if len(alternatives) == 1:
            return f"^{alternatives[0]}$"
        return "^(?:" + "|".join(alternatives) + ")$"
    return None


def _as_text(v: Any) -> str:
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)


def _shape_pattern(strings: list[str]) -> str | None:
    """The pattern of the most common shapes covering ≥ 90 % of the values, if any."""
    counts: dict[tuple, list[str]] = {}
    for s in strings:
        counts.setdefault(tuple(r[0] for r in _runs(s, True)), []).append(s)
    top = sorted(counts.values(), key=len, reverse=True)[:MAX_PATTERN_ALTERNATIVES]
    covered = sum(len(v) for v in top)
    if covered < 0.9 * len(strings):
        return None
    return infer_pattern([s for group in top for s in group])
