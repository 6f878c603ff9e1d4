"""Assay's one regular-expression flavour, translated for each engine.

Every pattern a check carries (``matchesPattern``'s ``pattern``, the patterns behind
``containsEmail`` & co.) is written in the flavour below and gives the same answer on
DuckDB (RE2), SQLite (Python's ``re``, through Ibis' ``_ibis_regex_search`` function),
PostgreSQL (ARE) and MySQL/MariaDB (PCRE2). :func:`parse` reads a pattern into a small
syntax tree, rejecting what the flavour does not have with a :class:`RegexError` that
names the construct; :func:`translate` writes the tree back out in the engine's own
syntax, spelling every class out as explicit ASCII ranges so no engine's locale,
collation or Unicode tables can change the answer.

The flavour
-----------
* **Search semantics**: a value passes when the pattern matches *somewhere* in it
  (Spark's ``RLIKE``); anchor with ``^…$`` for a whole-value match.
* **Case-sensitive** on every engine, whatever the column's collation (MariaDB's
  ``_ci`` collations included). There are no inline flags: write ``[Aa]``.
* ``^`` matches only at the start of the value and ``$`` only at its very end (never
  before a trailing newline, never at line breaks); ``\\A``, ``\\z`` and ``\\Z`` are
  accepted as synonyms.
* ``.`` matches any one character except a newline (``\\n``) — including non-ASCII
  characters, which count as one character each.
* Classes are ASCII: ``\\d`` = ``[0-9]``, ``\\w`` = ``[A-Za-z0-9_]``, ``\\s`` =
  ``[ \\t\\n\\v\\f\\r]``, and ``\\D``, ``\\W``, ``\\S`` their complements (any other
  character, non-ASCII ones included).
* Bracket expressions ``[…]`` / ``[^…]`` with single characters, ranges (by code
  point), ``\\d \\w \\s`` and the POSIX classes ``[:alpha:]`` (``A-Za-z``),
  ``[:digit:]``, ``[:alnum:]``, ``[:upper:]``, ``[:lower:]``, ``[:space:]``,
  ``[:blank:]`` (space, tab), ``[:punct:]`` (ASCII punctuation), ``[:xdigit:]``,
  ``[:word:]``, ``[:cntrl:]``, ``[:print:]``, ``[:graph:]`` — all ASCII. A POSIX class
  is only valid inside brackets: ``[[:alpha:]]``.
* Quantifiers ``* + ?``, ``{n}``, ``{n,}``, ``{n,m}`` with counts up to 255 (and at
  most 1000 for counts nested inside each other); a lazy suffix ``?`` is accepted and
  changes nothing (a search only asks *whether* there is a match). A ``{`` that does not
  start a quantifier must be escaped as ``\\{``.
* Groups ``(…)``, ``(?:…)``, ``(?P<name>…)``, ``(?<name>…)`` and alternation ``|``.
* Escapes: ``\\t \\n \\r \\f \\v``, ``\\xHH``, ``\\x{H…}``, ``\\uHHHH``, and a
  backslash before any punctuation character stands for that character.

Rejected, with the construct named: backreferences (``\\1``, ``\\k<n>``,
``(?P=n)``), lookahead/lookbehind (``(?=``, ``(?!``, ``(?<=``, ``(?<!``), atomic
groups, conditionals, inline flags (``(?i)``), possessive quantifiers (``a*+``), word
boundaries (``\\b``, ``\\B``: their notion of a word differs per engine), Unicode
property classes (``\\p{…}``), octal escapes and any other unknown escape.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .dialects import DIALECTS, backend_name, dialect_named

#: The engines :func:`translate` knows, by Ibis backend name (those with a dialect).
ENGINES = tuple(DIALECTS)
#: Largest count in a quantifier (PostgreSQL's RE_DUP_MAX).
MAX_REPEAT = 255
#: Largest product of quantifier counts nested inside each other (RE2's limit).
MAX_NESTED_REPEAT = 1000
_MAX_CODE_POINT = 0x10FFFF


class RegexError(ValueError):
    """A pattern outside the flavour. ``str(e)`` names the construct and its position."""


# -- syntax tree ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Chars:
    """One character from ``ranges`` (inclusive code-point pairs), or not in them if ``negate``."""

    ranges: tuple[tuple[int, int], ...]
    negate: bool = False


@dataclass(frozen=True)
class Anchor:
    kind: str  # "begin" | "end"


@dataclass(frozen=True)
class Repeat:
    node: Any
    min: int
    max: int | None  # None: unbounded


@dataclass(frozen=True)
class Seq:
    items: tuple[Any, ...]


@dataclass(frozen=True)
class Alt:
    branches: tuple[Seq, ...]


@dataclass(frozen=True)
class Group:
    body: Alt


def _r(*pairs: str) -> tuple[tuple[int, int], ...]:
    return tuple((ord(p[0]), ord(p[-1])) for p in pairs)


DIGIT = _r("09")
WORD = _r("09", "AZ", "_", "az")
SPACE = _r("\t\r", " ")  # \t \n \v \f \r and space
POSIX: dict[str, tuple[tuple[int, int], ...]] = {
    "alpha": _r("AZ", "az"),
    "digit": DIGIT,
    "alnum": _r("09", "AZ", "az"),
    "upper": _r("AZ"),
    "lower": _r("az"),
    "space": SPACE,
    "blank": _r("\t", " "),
    "punct": _r("!/", ":@", "[`", "{~"),
    "xdigit": _r("09", "AF", "af"),
    "word": WORD,
    "cntrl": ((0, 31), (127, 127)),
    "print": ((32, 126),),
    "graph": ((33, 126),),
}
_CLASS_ESCAPES = {"d": DIGIT, "w": WORD, "s": SPACE}
_CHAR_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f", "v": "\v"}
_NAMED_ESCAPES = {
    "b": "word boundary \\b",
    "B": "word boundary \\B",
    "p": "Unicode property class \\p",
    "P": "Unicode property class \\P",
    "k": "backreference \\k",
    "g": "backreference \\g",
    "G": "\\G anchor",
    "K": "\\K (match reset)",
    "Q": "\\Q…\\E quoting",
    "E": "\\E",
    "R": "\\R",
    "X": "\\X",
    "N": "\\N",
    "C": "\\C",
    "h": "\\h",
    "H": "\\H",
    "V": "\\V",
    "a": "\\a (bell) escape",
    "e": "\\e escape",
    "c": "\\c control escape",
    "0": "octal escape \\0",
    "o": "octal escape \\o",
    "U": "\\U escape",
    "L": "\\L",
    "l": "\\l",
    "y": "\\y",
    "m": "\\m",
    "M": "\\M",
}


# -- parser ---------------------------------------------------------------------------------------


class _Parser:
    def __init__(self, pattern: str):
        self.p = pattern
        self.i = 0

    def error(self, message: str, at: int | None = None) -> RegexError:
        return RegexError(f"{message} at position {self.i if at is None else at}")

    def peek(self, k: int = 0) -> str:
        j = self.i + k
        return self.p[j] if j < len(self.p) else ""

    def parse(self) -> Alt:
        alt = self.alternation()
        if self.i < len(self.p):  # only a stray ")" stops the top level early
            raise self.error("unbalanced parenthesis ')'")
        return alt

    def alternation(self) -> Alt:
        branches = [self.sequence()]
        while self.peek() == "|":
            self.i += 1
            branches.append(self.sequence())
        return Alt(tuple(branches))

    def sequence(self) -> Seq:
        items: list[Any] = []
        while self.i < len(self.p) and self.peek() not in "|)":
            start = self.i
            atom = self.atom()
            items.append(self.quantified(atom, start))
        return Seq(tuple(items))

    def quantified(self, atom: Any, start: int) -> Any:
        q = self.quantifier()
        if q is None:
            return atom
        lo, hi = q
        if isinstance(atom, Anchor):
            raise self.error("nothing to repeat (a quantifier after an anchor)", start)
        if self.peek() == "+":
            raise self.error("possessive quantifier (e.g. a*+) is not supported")
        if self.peek() == "?":  # lazy: no difference for a search
            self.i += 1
        if self.peek() and (self.peek() in "*+?" or self._quantifier_brace()):
            raise self.error("multiple repeat (a quantifier directly after a quantifier)")
        return Repeat(atom, lo, hi)

    def _quantifier_brace(self) -> tuple[int, int | None] | None:
        if self.peek() != "{":
            return None
        end = self.p.find("}", self.i)
        if end < 0:
            return None
        body = self.p[self.i + 1 : end]
        lo_s, comma, hi_s = body.partition(",")
        if not lo_s.isdigit() or not (hi_s.isdigit() or hi_s == ""):
            return None
        if not lo_s.isascii() or not hi_s.isascii():
            return None
        lo = int(lo_s)
        hi = int(hi_s) if hi_s else (None if comma else lo)
        return lo, hi

    def quantifier(self) -> tuple[int, int | None] | None:
        c = self.peek()
        if c in ("*", "+", "?") and c:
            self.i += 1
            return {"*": (0, None), "+": (1, None), "?": (0, 1)}[c]
        if c == "{":
            q = self._quantifier_brace()
            if q is None:
                raise self.error("'{' does not start a quantifier {n}, {n,} or {n,m}; escape a literal brace as \\{")
            lo, hi = q
            if lo > MAX_REPEAT or (hi is not None and hi > MAX_REPEAT):
                raise self.error(f"repetition count above {MAX_REPEAT}")
            if hi is not None and hi < lo:
                raise self.error(f"quantifier {{{lo},{hi}}}: the maximum is below the minimum")
            self.i = self.p.find("}", self.i) + 1
            return q
        return None

    def atom(self) -> Any:
        c = self.peek()
        start = self.i
        if c == "(":
            return self.group()
        if c == "[":
            return self.bracket()
        if c in "*+?":
            raise self.error(f"nothing to repeat before '{c}'")
        if c == "{" and self._quantifier_brace() is not None:
            raise self.error("nothing to repeat before '{'")
        if c == "{":
            raise self.error("'{' does not start a quantifier {n}, {n,} or {n,m}; escape a literal brace as \\{")
        self.i += 1
        if c == ".":
            return Chars(((10, 10),), negate=True)
        if c == "^":
            return Anchor("begin")
        if c == "$":
            return Anchor("end")
        if c == "\\":
            return self.escape(in_class=False, start=start)
        return Chars(((ord(c), ord(c)),))

    def group(self) -> Any:
        start = self.i
        self.i += 1
        if self.peek() == "?":
            rest = self.p[self.i + 1 :]
            if rest.startswith(":"):
                self.i += 2
            elif rest.startswith("P<") or (rest.startswith("<") and not rest.startswith(("<=", "<!"))):
                close = self.p.find(">", self.i)
                name = self.p[self.p.find("<", self.i) + 1 : close] if close > 0 else ""
                if close < 0 or not name.isidentifier():
                    raise self.error("bad group name", start)
                self.i = close + 1
            elif rest.startswith(("=", "!")):
                raise self.error(f"lookahead (?{rest[0]}…) is not supported", start)
            elif rest.startswith(("<=", "<!")):
                raise self.error(f"lookbehind (?{rest[:2]}…) is not supported", start)
            elif rest.startswith("P="):
                raise self.error("backreference (?P=name) is not supported", start)
            elif rest.startswith(">"):
                raise self.error("atomic group (?>…) is not supported", start)
            elif rest.startswith("("):
                raise self.error("conditional group (?(…)…) is not supported", start)
            elif rest.startswith("#"):
                raise self.error("comment group (?#…) is not supported", start)
            elif rest[:1].isalpha() or rest.startswith("-"):
                raise self.error(
                    "inline flags such as (?i) are not supported: patterns are case-sensitive, write [Aa]", start
                )
            else:
                raise self.error("unsupported group syntax '(?'", start)
        body = self.alternation()
        if self.peek() != ")":
            raise self.error("missing ')', unterminated group", start)
        self.i += 1
        return Group(body)

    def escape(self, *, in_class: bool, start: int) -> Any:
        """Read what follows a backslash (``self.i`` is just past it)."""
        c = self.peek()
        if not c:
            raise self.error("pattern ends with a lone backslash", start)
        self.i += 1
        if c in _CLASS_ESCAPES:
            return Chars(_CLASS_ESCAPES[c])
        if c.lower() in _CLASS_ESCAPES:
            return Chars(_CLASS_ESCAPES[c.lower()], negate=True)
        if c in _CHAR_ESCAPES:
            return Chars(((ord(_CHAR_ESCAPES[c]),) * 2,))
        if c in ("x", "u"):
            return Chars(((self.hex_escape(c, start),) * 2,))
        if not in_class and c in ("A",):
            return Anchor("begin")
        if not in_class and c in ("z", "Z"):
            return Anchor("end")
        if c in "123456789":
            raise self.error(f"backreference \\{c} is not supported", start)
        if c in _NAMED_ESCAPES:
            raise self.error(f"{_NAMED_ESCAPES[c]} is not supported", start)
        if c.isalnum() or not c.isascii():
            raise self.error(f"unknown escape \\{c}", start)
        return Chars(((ord(c), ord(c)),))

    def hex_escape(self, kind: str, start: int) -> int:
        if kind == "x" and self.peek() == "{":
            end = self.p.find("}", self.i)
            digits = self.p[self.i + 1 : end] if end > 0 else ""
            self.i = end + 1 if end > 0 else self.i
        else:
            n = 2 if kind == "x" else 4
            digits = self.p[self.i : self.i + n]
            if len(digits) != n:
                digits = ""
            self.i += len(digits)
        try:
            if not digits or not all(ch in "0123456789abcdefABCDEF" for ch in digits):
                raise ValueError
            value = int(digits, 16)
        except ValueError:
            raise self.error(f"bad \\{kind} escape (hex digits expected)", start) from None
        if value > _MAX_CODE_POINT or 0xD800 <= value <= 0xDFFF:
            raise self.error(f"\\{kind} escape is not a valid character", start)
        return value

    def bracket(self) -> Chars:
        start = self.i
        self.i += 1
        negate = False
        if self.peek() == "^":
            negate = True
            self.i += 1
        posix = re.match(r":(\^?[a-z]+):\]", self.p[self.i :])
        if posix:
            raise self.error(f"POSIX class [:{posix.group(1)}:] must be inside brackets: [[:{posix.group(1)}:]]", start)
        ranges: list[tuple[int, int]] = []
        first = True
        while True:
            c = self.peek()
            if not c:
                raise self.error("missing ']', unterminated character class", start)
            if c == "]" and not first:
                self.i += 1
                break
            first = False
            item_start = self.i
            lo = self.class_item()
            if isinstance(lo, tuple):  # a class (\d, [:alpha:]) cannot start a range
                ranges.extend(lo)
                continue
            if self.peek() == "-" and self.peek(1) not in ("]", ""):
                self.i += 1
                hi = self.class_item()
                if isinstance(hi, tuple):
                    raise self.error("bad character range (a class as range end)", item_start)
                if hi < lo:
                    raise self.error(f"bad character range {chr(lo)}-{chr(hi)}", item_start)
                ranges.append((lo, hi))
            else:
                ranges.append((lo, lo))
        return Chars(_merge(ranges), negate)

    def class_item(self) -> int | tuple[tuple[int, int], ...]:
        """One bracket item: a code point, or the ranges of a class."""
        c = self.peek()
        start = self.i
        if c == "[" and self.peek(1) in (":", ".", "="):
            kind = self.peek(1)
            end = self.p.find(kind + "]", self.i + 2)
            if end < 0:
                raise self.error(f"unterminated [{kind} in a character class", start)
            name = self.p[self.i + 2 : end]
            self.i = end + 2
            if kind != ":":
                raise self.error(f"collating element [{kind}{name}{kind}] is not supported", start)
            if name not in POSIX:
                raise self.error(f"unknown POSIX class [:{name}:]", start)
            return POSIX[name]
        self.i += 1
        if c == "\\":
            node = self.escape(in_class=True, start=start)
            if isinstance(node, Chars):
                if node.negate:
                    raise self.error(f"negated class {self.p[start : self.i]} inside brackets is not supported", start)
                if len(node.ranges) == 1 and node.ranges[0][0] == node.ranges[0][1]:
                    return node.ranges[0][0]
                return node.ranges
            raise self.error("anchor inside a character class", start)  # pragma: no cover
        return ord(c)


def _merge(ranges: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    out: list[list[int]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return tuple((lo, hi) for lo, hi in out)


def _check_nesting(node: Any, product: int = 1) -> None:
    if isinstance(node, Repeat):
        count = max(node.min, node.max or 0)
        product *= max(count, 1)
        if product > MAX_NESTED_REPEAT:
            raise RegexError(f"nested repetition counts multiply to more than {MAX_NESTED_REPEAT}")
        _check_nesting(node.node, product)
    elif isinstance(node, Alt):
        for b in node.branches:
            _check_nesting(b, product)
    elif isinstance(node, Seq):
        for item in node.items:
            _check_nesting(item, product)
    elif isinstance(node, Group):
        _check_nesting(node.body, product)


def parse(pattern: str) -> Alt:
    """Parse ``pattern`` in Assay's flavour (module docstring).

    Returns: the syntax tree. Raises: RegexError naming the unsupported construct.
    """
    if not isinstance(pattern, str):
        raise RegexError("a pattern must be a string")
    tree = _Parser(pattern).parse()
    _check_nesting(tree)
    return tree


def validate(pattern: str) -> str:
    """``pattern`` unchanged when it is in the flavour. Raises: RegexError."""
    parse(pattern)
    return pattern


# -- writers --------------------------------------------------------------------------------------

_META = set("\\.^$|?*+()[]{}")
_CLASS_META = set("\\[]^-&~|")


def _char(cp: int, engine: str, in_class: bool) -> str:
    ch = chr(cp)
    if ch.isascii() and (ch.isalnum() or ch in " _"):
        return ch
    if 33 <= cp <= 126:  # ASCII punctuation: escaped only where it could mean something
        if ch in _META or (in_class and ch in _CLASS_META):
            return "\\" + ch
        return ch
    if cp > 127 and ch.isprintable() and not ch.isspace():
        return ch
    return dialect_named(engine).regex_escape(cp)


def _chars(node: Chars, engine: str) -> str:
    if not node.negate and len(node.ranges) == 1 and node.ranges[0][0] == node.ranges[0][1]:
        return _char(node.ranges[0][0], engine, in_class=False)
    parts = []
    for lo, hi in node.ranges:
        if lo == hi:
            parts.append(_char(lo, engine, True))
        elif hi == lo + 1:
            parts.append(_char(lo, engine, True) + _char(hi, engine, True))
        else:
            parts.append(f"{_char(lo, engine, True)}-{_char(hi, engine, True)}")
    return "[" + ("^" if node.negate else "") + "".join(parts) + "]"


def _write(node: Any, engine: str) -> str:
    if isinstance(node, Chars):
        return _chars(node, engine)
    if isinstance(node, Anchor):
        if node.kind == "begin":
            return "^"
        return dialect_named(engine).regex_end
    if isinstance(node, Alt):
        return "|".join(_write(b, engine) for b in node.branches)
    if isinstance(node, Seq):
        return "".join(_write(i, engine) for i in node.items)
    if isinstance(node, Group):
        return "(?:" + _write(node.body, engine) + ")"
    if isinstance(node, Repeat):
        inner = _write(node.node, engine)
        if not isinstance(node.node, (Chars, Group)):
            inner = "(?:" + inner + ")"
        if (node.min, node.max) == (0, None):
            q = "*"
        elif (node.min, node.max) == (1, None):
            q = "+"
        elif (node.min, node.max) == (0, 1):
            q = "?"
        elif node.max is None:
            q = f"{{{node.min},}}"
        elif node.max == node.min:
            q = f"{{{node.min}}}"
        else:
            q = f"{{{node.min},{node.max}}}"
        return inner + q
    raise TypeError(f"unknown regex node {node!r}")  # pragma: no cover


def translate(pattern: str, engine: str) -> str:
    """``pattern`` (Assay's flavour) written for ``engine`` (an Ibis backend name).

    An engine not in :data:`ENGINES` gets the RE2/PCRE spelling (``\\x{…}``, ``\\z``).
    Raises: RegexError when the pattern is outside the flavour.
    """
    # (MariaDB/MySQL match case-insensitively under a _ci collation: their prefix switches it off)
    return dialect_named(engine).regex_prefix + _write(parse(pattern), engine)


def engine_of(expr: Any) -> str:
    """The Ibis backend name (``duckdb``, ``sqlite``, ``postgres``, ``mysql``, …) an
    expression will run on; an unbound expression (a memtable) runs on Ibis' default
    backend, DuckDB. (``dialects.backend_name``.)"""
    return backend_name(expr)


def search(value: Any, pattern: str) -> Any:
    """Boolean Ibis expression: ``pattern`` (Assay's flavour) matches somewhere in the
    string expression ``value``, translated for the engine ``value`` belongs to.
    NULL in, NULL out. Raises: RegexError."""
    return value.re_search(translate(pattern, engine_of(value)))


def literal(text: str) -> str:
    """A pattern (in the flavour) matching ``text`` literally."""
    return "".join("\\" + ch if ch in _META or ch == "-" else ch for ch in text)


def caseless(word: str) -> str:
    """A pattern (in the flavour) matching ``word`` in any letter case: ``St`` → ``[Ss][Tt]``."""
    out = []
    for ch in word:
        if ch.isascii() and ch.isalpha():
            out.append(f"[{ch.upper()}{ch.lower()}]")
        else:
            out.append(literal(ch))
    return "".join(out)
