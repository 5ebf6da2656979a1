"""A stack file's values as the Pulumi CLI passes them to the program.

The CLI (v3.276, ``sdk/go/common/resource/config``) decodes the stack file with Go's
``gopkg.in/yaml.v3`` into plain values, then hands the program a string: the text of a string,
and ``encoding/json``'s rendering of anything else (``object.MarshalString``). So an unquoted
``1.30`` arrives as ``1.3``, ``0x10`` as ``16``, ``010`` as ``8`` (yaml.v3 keeps YAML 1.1
octals), ``2e1`` as ``20``, ``True`` as ``true``, while ``yes`` and ``on`` stay text (YAML 1.2
has no such booleans). Found by the rig: the real CLI gave the program ``1.3`` for ``1.30``,
where this project had assumed the literal text.

PyYAML resolves plain scalars by YAML 1.1 (``yes`` is a boolean, ``2e1`` a string), so only its
node tree is used here; each plain scalar is resolved by yaml.v3's rules (``resolve.go``),
written out below.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

import yaml

from infra.config.problems import ConfigError

_NULL = ("", "~", "null", "Null", "NULL")
_TRUE = ("true", "True", "TRUE")
_FALSE = ("false", "False", "FALSE")
_SPECIAL_FLOATS = {
    **dict.fromkeys((".nan", ".NaN", ".NAN"), math.nan),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), math.inf),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), -math.inf),
}
_YAML_STYLE_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_DATE = re.compile(r"^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})$")
_TIMESTAMP_START = re.compile(r"^[0-9]{4}-")
_INT64 = (-(2**63), 2**63 - 1)
_UINT64_MAX = 2**64 - 1


class Retyped(str):
    """A value the CLI passes otherwise than the stack file writes it (``1.3`` for an unquoted
    ``1.30``); ``written`` keeps the file's text, for messages."""

    written: str

    def __new__(cls, passed: str, written: str) -> Retyped:
        text = super().__new__(cls, passed)
        text.written = written
        return text


class Unrepresentable(ValueError):
    """A value the CLI cannot pass as text (NaN or infinity), or one this reader does not
    reproduce (a timestamp with a time of day)."""


def _go_parse_int(text: str) -> int | None:
    """Go's ``strconv.ParseInt(text, 0, 64)`` (then ``ParseUint``), or None."""
    sign, body = (text[0], text[1:]) if text[:1] in "+-" else ("", text)
    lowered = body.lower()
    if lowered.startswith(("0x", "0b", "0o")):
        base, digits = {"x": 16, "b": 2, "o": 8}[lowered[1]], body[2:]
    elif len(body) > 1 and body.startswith("0"):
        base, digits = 8, body[1:]
    else:
        base, digits = 10, body
    alphabet = "0123456789abcdef"[:base]
    if not digits or any(c not in alphabet for c in digits.lower()):
        return None
    value = int(digits, base) * (-1 if sign == "-" else 1)
    if _INT64[0] <= value <= _INT64[1] or (sign != "-" and value <= _UINT64_MAX):
        return value
    return None


def resolve_plain(text: str) -> Any:
    """The value yaml.v3 decodes an unquoted scalar into (``resolve`` in resolve.go)."""
    if text in _NULL:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    if text in _SPECIAL_FLOATS:
        return _SPECIAL_FLOATS[text]
    first = text[:1]
    if first == ".":
        if "_" not in text and _YAML_STYLE_FLOAT.match(text):
            return float(text)
        return text
    if first and (first.isdigit() or first in "+-"):
        if _TIMESTAMP_START.match(text):
            date = _DATE.match(text)
            if date:
                year, month, day = (int(part) for part in date.groups())
                return f"{year:04d}-{month:02d}-{day:02d} 00:00:00 +0000 UTC"
            if re.match(r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}[Tt ]", text):
                raise Unrepresentable("a timestamp; quote it to pass it as text")
        plain = text.replace("_", "")
        integer = _go_parse_int(plain)
        if integer is not None:
            return integer
        if _YAML_STYLE_FLOAT.match(plain):
            return float(plain)
    return text


def go_json(value: Any) -> str:
    """Go's ``encoding/json`` text of a decoded value (``float64`` formatting included)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise Unrepresentable("NaN and infinity have no JSON form")
        size = abs(value)
        if size != 0 and (size < 1e-6 or size >= 1e21):
            text = repr(value)  # shortest digits, exponent form, like Go's 'e' with -1
            mantissa, _, exponent = text.partition("e")
            sign, digits = exponent[0], exponent[1:].lstrip("0") or "0"
            return f"{mantissa}e{sign}{digits}"
        text = format(Decimal(repr(value)), "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    if value is None:
        return "null"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ",".join(go_json(item) for item in value) + "]"
    if isinstance(value, dict):
        # Go's encoding/json writes a map's keys sorted.
        items = sorted(value.items())
        return "{" + ",".join(f"{json.dumps(str(k))}:{go_json(v)}" for k, v in items) + "}"
    raise Unrepresentable(f"no JSON form for {value!r}")


def decode(node: yaml.Node) -> Any:
    """The node as yaml.v3 decodes it into Go's ``any``. (PyYAML's node tree does not say
    whether a plain scalar's tag was explicit, so a rare ``!!str 1.30`` is resolved too.)"""
    if isinstance(node, yaml.ScalarNode):
        if node.style is None:
            return resolve_plain(node.value)
        # Quoted or block scalars: the text itself.
        return node.value
    if isinstance(node, yaml.SequenceNode):
        return [decode(item) for item in node.value]
    if isinstance(node, yaml.MappingNode):
        return {str(decode(key)): decode(value) for key, value in node.value}
    raise Unrepresentable(f"unsupported YAML node {type(node).__name__}")


def scalar_text(value: Any) -> str:
    """What the CLI passes for a decoded scalar: a string's text, else its JSON."""
    return value if isinstance(value, str) else go_json(value)


def explained(error: ConfigError, raw: Mapping[str, Any]) -> ConfigError:
    """The loader's error, each refused value that YAML retyped saying so: the user wrote
    ``1.30`` and is told about ``1.3`` otherwise. (The program under the CLI cannot add this:
    it only ever sees ``1.3``.)"""
    problems = []
    for problem in error.problems:
        value = raw.get(problem.key)
        if isinstance(value, Retyped):
            kind = "a boolean" if value in ("true", "false") else "a number"
            hint = (
                f"the stack file has {value.written} unquoted, which YAML reads as {kind} and "
                f"Pulumi passes as {str(value)!r}; to mean the text, quote it: '{value.written}'"
            )
            problem = replace(problem, fix=f"{problem.fix}; {hint}" if problem.fix else hint)
        problems.append(problem)
    return ConfigError(error.stack, problems)
