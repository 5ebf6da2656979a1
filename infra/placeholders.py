"""Values that only stand in for the user's own: documentation address ranges and names.

The committed stacks and the docs use them on purpose (RFC 5737 and RFC 3849 ranges reach
nothing; ``example.com`` names belong to nobody), so a copied stack plans offline. Deployed,
they fail late and far from the cause: an EKS API that accepts no client after a 15-minute
build, a gateway whose names resolve nowhere. So each is a warning for ``pdk plan`` and
``pulumi preview`` and an error for the update of ``pulumi up`` (``load_config(deploying=True)``),
naming the key and the fix. Every key's *effective* value is checked, defaults included (the
default ``kserveDomain`` is ``example.com``). Targets add their own (a placeholder cloud project)
through ``placeholder(...)``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from typing import Any

from infra.config.problems import Problem, set_fix
from infra.config.rules import RuleContext, SkipRule

DOCUMENTATION_NETWORKS = {
    "192.0.2.0/24": "RFC 5737",
    "198.51.100.0/24": "RFC 5737",
    "203.0.113.0/24": "RFC 5737",
    "2001:db8::/32": "RFC 3849",
}
"""Address ranges reserved for documentation: routed nowhere, owned by no one."""

DOCUMENTATION_DOMAINS = ("example.com", "example.net", "example.org", "example")
"""Names reserved for documentation (RFC 2606 and RFC 6761): the three second-level names and
the ``.example`` top-level domain. ``.test``, ``.localhost`` and ``.internal`` are reserved for
real private use and are not placeholders."""

_HOST = re.compile(r"(?<![A-Za-z0-9.-])([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")
_NETWORK = re.compile(r"[0-9A-Fa-f:.]+(?:/[0-9]{1,3})?")


def documentation_network(text: str) -> str | None:
    """The reserved range ``text`` (an address or CIDR) lies inside, with its RFC. A wider
    range that merely contains one (0.0.0.0/0) is a real choice, not a placeholder."""
    try:
        network = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None
    for reserved, rfc in DOCUMENTATION_NETWORKS.items():
        candidate = ipaddress.ip_network(reserved)
        if network.version == candidate.version and network.subnet_of(candidate):  # type: ignore[arg-type]
            return f"{reserved} ({rfc})"
    return None


def documentation_domain(host: str) -> str | None:
    """The reserved name ``host`` is or sits under."""
    name = host.lower().rstrip(".")
    for domain in DOCUMENTATION_DOMAINS:
        if name == domain or name.endswith("." + domain):
            return domain
    return None


def findings(value: str) -> list[str]:
    """What in one config value is a documentation placeholder, in words."""
    found: list[str] = []
    for part in re.split(r"[,\s]+", value):
        if _NETWORK.fullmatch(part) and (network := documentation_network(part)):
            found.append(f"{part} is in the documentation range {network}, which reaches nothing")
    for match in _HOST.finditer(value):
        host = match.group(1)
        if domain := documentation_domain(host):
            where = "is" if host.lower() == domain else f"is under {domain},"
            found.append(f"{host} {where} a name reserved for documentation (RFC 2606)")
    return list(dict.fromkeys(found))


def placeholder(
    stack: str,
    key: str,
    value: Any,
    what: str,
    fix_value: str = "<your value>",
    allowed: str = "your own value",
) -> Problem:
    """The problem of one placeholder: a warning that ``load_config(deploying=True)`` raises to
    an error, phrased for both."""
    return Problem(
        key,
        value,
        f"{what}; pulumi up refuses placeholders",
        allowed,
        set_fix(stack, key, fix_value),
        severity="warning",
        placeholder=True,
    )


_FIXES = {
    "Cidrs": ("<your-address>/32", "the ranges your clients connect from"),
    "Ranges": ("<your-networks>", "the ranges your clients connect from"),
    "Domain": (
        "<pdk.your-domain>",
        "a DNS domain you control; pdk.localhost for a cluster on this machine, or a .test "
        "name for a throwaway",
    ),
    "Address": ("<host>:<port>", "where the machine running pulumi up reaches it"),
    "Url": ("https://<host>", "where the machine running pulumi up reaches it"),
}


def _fix(key: str) -> tuple[str, str]:
    return next(
        (fix for suffix, fix in _FIXES.items() if key.endswith(suffix)),
        ("<your value>", "your own value"),
    )


def _read(model: Any, path: tuple[str, ...]) -> Any:
    for name in path:
        model = getattr(model, name)
    return model


def placeholder_problems(
    ctx: RuleContext[Any], specs: Iterable[Any], target: str | None
) -> list[Problem]:
    """A problem per key whose effective value (set or default) holds a placeholder. ``specs``:
    the ``KeySpec`` of every key; the shared ones and those of ``target`` are read."""
    problems: list[Problem] = []
    for spec in specs:
        if spec.section is not None and spec.section != target:
            continue
        owner: Any = ctx.config if spec.section is None else ctx.active_section
        if owner is None:
            continue
        try:
            value = _read(owner, spec.path)
        except (SkipRule, AttributeError):
            continue
        if not isinstance(value, str) or not value:
            continue
        found = findings(value)
        if found:
            source = "" if ctx.is_set(spec.key) else " (not set, so the default)"
            fix_value, allowed = _fix(spec.key)
            what = "; ".join(found) + source
            problems.append(placeholder(ctx.stack, spec.key, value, what, fix_value, allowed))
    return problems
