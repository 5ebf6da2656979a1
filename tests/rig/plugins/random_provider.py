"""``pulumi-resource-random`` stand-in: ``RandomPassword`` and ``RandomId``, the two types the
program uses, with terraform-provider-random's inputs, defaults and outputs (pulumi-random
4.21.4 bridges it; the names are those of the ``pulumi_random`` SDK).

A password is generated once, at creation: updates never change it, and a change of any input
replaces the resource (every input of both types is ``RequiresReplace`` upstream).
"""

from __future__ import annotations

import base64
import secrets
from typing import Any

import bcrypt

from . import provider
from .provider import REQUIRED, Failures, ResourceProvider, ResourceType

VERSION = "4.21.4"
"""pulumi-random's version, as pinned by the pulumi_random SDK's pulumi-plugin.json."""

UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
LOWER = "abcdefghijklmnopqrstuvwxyz"
NUMERIC = "0123456789"
SPECIAL = "!@#$%&*()-_=+[]{}<>:?"
"""terraform-provider-random's default special characters."""

BCRYPT_COST = 10
"""Go's bcrypt.DefaultCost, which the real provider uses for ``bcryptHash``."""

_rng = secrets.SystemRandom()

PASSWORD_INPUTS: dict[str, Any] = {
    "length": REQUIRED,
    "keepers": None,
    "lower": True,
    "upper": True,
    "special": True,
    "number": None,
    "numeric": None,
    "minLower": 0,
    "minUpper": 0,
    "minNumeric": 0,
    "minSpecial": 0,
    "overrideSpecial": None,
}
"""``number`` and ``numeric`` default to each other, then to true (``_numeric``)."""


def _numeric(inputs: dict[str, Any]) -> dict[str, Any]:
    """``number`` (deprecated) and ``numeric`` mean the same: one set gives the other its value,
    as the real provider's plan modifier does."""
    number, numeric = inputs.get("number"), inputs.get("numeric")
    value = numeric if numeric is not None else number if number is not None else True
    return {**inputs, "number": number if number is not None else value, "numeric": value}


def check_password(inputs: dict[str, Any]) -> Failures:
    """The real provider's validators: length at least 1 and at least the sum of the
    minimums, counts not negative, and at least one character class on."""
    failures: Failures = []
    mins = ("minLower", "minUpper", "minNumeric", "minSpecial")
    known = {k: v for k, v in inputs.items() if not isinstance(v, str) or k == "overrideSpecial"}
    length = known.get("length")
    if isinstance(length, int):
        if length < 1:
            failures.append(("length", f"Attribute length value must be at least 1, got: {length}"))
        total = sum(v for k in mins if isinstance(v := known.get(k), int))
        if total > length:
            failures.append(
                (
                    "length",
                    f"Attribute length value must be at least sum of {', '.join(mins)} "
                    f"({total}), got: {length}",
                )
            )
    for key in mins:
        value = known.get(key)
        if isinstance(value, int) and value < 0:
            failures.append((key, f"Attribute {key} value must be at least 0, got: {value}"))
    classes = [known.get(k) for k in ("lower", "upper", "numeric", "special")]
    if all(v is False for v in classes):
        failures.append(
            ("special", "At least one attribute out of [special,upper,lower,numeric] must be true")
        )
    return failures


def generate(inputs: dict[str, Any]) -> str:
    """A password as the real provider makes one: the minimum count of each class drawn from
    that class, the rest from the enabled classes, then shuffled."""
    special = inputs.get("overrideSpecial") or SPECIAL
    pool = "".join(
        chars
        for chars, on in (
            (UPPER, inputs["upper"]),
            (LOWER, inputs["lower"]),
            (NUMERIC, inputs["numeric"]),
            (special, inputs["special"]),
        )
        if on
    )
    chars: list[str] = []
    for charset, key in (
        (NUMERIC, "minNumeric"),
        (LOWER, "minLower"),
        (UPPER, "minUpper"),
        (special, "minSpecial"),
    ):
        chars.extend(_rng.choice(charset) for _ in range(int(inputs[key])))
    remaining = int(inputs["length"]) - len(chars)
    if remaining > 0 and not pool:
        raise provider.ProviderError("no character class is enabled for the rest of the password")
    chars.extend(_rng.choice(pool) for _ in range(remaining))
    _rng.shuffle(chars)
    return "".join(chars)


def create_password(inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """ID ``none`` (the real provider's), the password and its bcrypt hash."""
    result = generate(inputs)
    # bcrypt reads at most 72 bytes; Go's bcrypt (the real provider) used the same prefix.
    digest = bcrypt.hashpw(result.encode()[:72], bcrypt.gensalt(BCRYPT_COST, prefix=b"2a"))
    return "none", {"result": result, "bcryptHash": digest.decode()}


def check_id(inputs: dict[str, Any]) -> Failures:
    """``byteLength`` at least 1, as the real provider validates."""
    length = inputs.get("byteLength")
    if isinstance(length, int) and length < 1:
        return [("byteLength", f"Attribute byte_length value must be at least 1, got: {length}")]
    return []


def create_id(inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Random bytes in the real provider's encodings; the ID is the unprefixed base64url."""
    data = secrets.token_bytes(int(inputs["byteLength"]))
    prefix = inputs.get("prefix") or ""
    raw_url = base64.urlsafe_b64encode(data).decode().rstrip("=")
    return raw_url, {
        "b64Url": prefix + raw_url,
        "b64Std": prefix + base64.b64encode(data).decode(),
        "hex": prefix + data.hex(),
        "dec": prefix + str(int.from_bytes(data, "big")),
    }


RANDOM_PASSWORD = ResourceType(
    token="random:index/randomPassword:RandomPassword",
    inputs=PASSWORD_INPUTS,
    outputs=("result", "bcryptHash"),
    create=create_password,
    check=check_password,
    normalize=_numeric,
    secret_outputs=frozenset({"result", "bcryptHash"}),
)

RANDOM_ID = ResourceType(
    token="random:index/randomId:RandomId",
    inputs={"byteLength": REQUIRED, "prefix": None, "keepers": None},
    outputs=("b64Url", "b64Std", "hex", "dec"),
    create=create_id,
    check=check_id,
)


def make_provider() -> ResourceProvider:
    """The provider with both types."""
    return ResourceProvider(
        package="random",
        version=VERSION,
        types={t.token: t for t in (RANDOM_PASSWORD, RANDOM_ID)},
    )


def main(argv: list[str]) -> None:
    """Plugin entry point (``pulumi-resource-random``)."""
    provider.main(argv, make_provider())
