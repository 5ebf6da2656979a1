"""``load_config``: the raw key/value pairs of a stack in, a validated ``StackConfig`` out, or
one ``ConfigError`` listing every problem (key, bad value, what is allowed, how to fix it).

Order of checks: each key on its own (known, owned by the stack's target, secret where it must
be), then each value against its type, then the rules across keys of the shared config and of
the active target's section.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from infra.config.keys import KEYS, KeySpec
from infra.config.problems import MISSING, ConfigError, Problem, rm_fix, set_fix
from infra.config.rules import SHARED_RULES, RuleContext, partial, run_rules
from infra.config.stack import StackConfig
from infra.config.types import OFFLINE_SECRET, PROJECT, ConfigObject, Model

_INTEGER = re.compile(r"[+-]?[0-9]+")

M = TypeVar("M", bound=BaseModel)
Path = tuple[str, ...]


def _as_text(value: Any) -> str:
    """A value as the Pulumi CLI passes it (Go's ``%v``: ``true``, ``2``, text as is)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _is_default(key: str, value: Any) -> bool:
    """Whether ``value`` is the key's declared default, which Pulumi passes for an unset key."""
    spec = KEYS.get(key)
    return (
        spec is not None
        and not spec.required
        and not isinstance(value, ConfigObject)
        and _as_text(value) == _as_text(spec.default)
    )


def _as_declared(stack: str, spec: KeySpec, value: Any) -> Any:
    """``value`` read the way the Pulumi CLI checks a declared key before the program runs
    (``ValidateConfigValue`` in pulumi/pulumi ``sdk/go/common/workspace/project.go``): a boolean
    is exactly ``true`` or ``false``, an integer must parse as one, and no key takes a list or a
    mapping. Returns the typed value, or the ``Problem`` the CLI would have refused it for.
    Python values (declared defaults in tests) pass through."""
    if isinstance(value, ConfigObject):
        return Problem(
            spec.key,
            str(value),
            "is a list or mapping, but the key takes a single value",
            spec.allowed or "a string",
            set_fix(stack, spec.key),
        )
    if not isinstance(value, str):
        return value
    if spec.annotation is bool:
        if value in ("true", "false"):
            return value == "true"
        return Problem(
            spec.key,
            value,
            "is not a boolean (the Pulumi CLI accepts exactly true or false, lowercase)",
            "true, false",
            set_fix(stack, spec.key, "true"),
        )
    if spec.annotation is int:
        # Go's strconv.Atoi, which the CLI uses: optional sign, decimal digits, 64 bits.
        if _INTEGER.fullmatch(value) and -(2**63) <= int(value) < 2**63:
            return int(value)
        return Problem(
            spec.key,
            value,
            "is not a whole number (the Pulumi CLI refuses it before the program runs)",
            "a whole number such as 2",
            set_fix(stack, spec.key),
        )
    return value


def _refused(
    stack: str, key: str, value: Any, target: Any, active: str | None, secret_keys: frozenset[str]
) -> Problem | None:
    """The problem with setting ``key`` at all on this stack, before its value is read."""
    if ":" in key:
        namespace, _, name = key.rpartition(":")
        return Problem(
            key,
            value,
            f"is in namespace '{namespace}', not this project's '{PROJECT}', so Pulumi would not "
            "pass it to the program",
            f"{PROJECT}:{name}",
            f"rename the key in the stack file to {PROJECT}:{name}",
        )
    spec = KEYS.get(key)
    if spec is None:
        close = difflib.get_close_matches(key, KEYS, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        return Problem(
            key,
            value,
            "is not a known key",
            "see `pdk config-keys` or Pulumi.yaml",
            f"{hint}remove it with: {rm_fix(stack, key)}",
        )
    if spec.section is not None and active is not None and spec.section != active:
        return Problem(
            key,
            value,
            f"only applies to target {spec.section}, not '{target}'",
            f"unset on target {target}",
            rm_fix(stack, key),
        )
    if spec.secret and value and key not in secret_keys:
        return Problem(
            key,
            "[hidden]",
            "is stored in plain text",
            "a Pulumi secret",
            f"{rm_fix(stack, key)}; then pulumi config set --secret {key} --stack {stack} < FILE",
        )
    return None


def _problem_from_pydantic(
    stack: str, error: Mapping[str, Any], raw: Mapping[str, Any], spec: KeySpec | None, loc: str
) -> Problem:
    key = spec.key if spec else loc
    value = raw.get(key, MISSING)
    kind = error["type"]
    allowed = spec.allowed if spec else ""
    if kind == "pdk":
        ctx = error["ctx"]
        return Problem(key, value, ctx["reason"], ctx["allowed"], ctx["fix"])
    if kind == "missing":
        example = allowed.split(", ")[0] if allowed else "VALUE"
        return Problem(key, value, "is required and not set", allowed, set_fix(stack, key, example))
    if kind == "literal_error":
        return Problem(
            key,
            value,
            "is not one of the allowed values",
            allowed,
            set_fix(stack, key, allowed.split(", ")[0]),
        )
    return Problem(key, value, f"has the wrong type ({error['msg']})", allowed, set_fix(stack, key))


def _loc(error: Mapping[str, Any]) -> Path:
    return tuple(str(part) for part in error["loc"])


def _without(data: dict[str, Any], paths: set[Path], above: Path = ()) -> dict[str, Any]:
    """A copy of ``data`` without the values at ``paths``."""
    return {
        name: _without(value, paths, (*above, name)) if isinstance(value, dict) else value
        for name, value in data.items()
        if (*above, name) not in paths
    }


def _validate(
    stack: str,
    raw: Mapping[str, Any],
    owner: str | None,
    model: type[M],
    data: dict[str, Any],
    unread: set[Path],
) -> tuple[M | None, set[Path], list[Problem]]:
    """Validates the values one owner (a target's section, or None for the shared keys) holds.
    On errors, validates again without the failing values so the rules can still read the rest.
    Returns the model, the paths the rules must not read (failed or ``unread``) and the problems
    (none for ``unread`` paths: undecrypted secrets, whose plaintext the CLI checks under
    ``pulumi up``)."""
    try:
        return model.model_validate(data), unread, []
    except ValidationError as error:
        errors = error.errors()
    specs = {spec.path: spec for spec in KEYS.values() if spec.section == owner}
    problems = [
        _problem_from_pydantic(stack, e, raw, specs.get(_loc(e)), ".".join(_loc(e)))
        for e in errors
        if _loc(e) not in unread
    ]
    failed = {_loc(e) for e in errors}
    try:
        validated: M | None = model.model_validate(_without(data, failed))
    except ValidationError:
        validated = None
    return validated, failed | unread, problems


def _place(tree: dict[str, Any], path: Path, value: Any) -> None:
    for part in path[:-1]:
        tree = tree.setdefault(part, {})
    tree[path[-1]] = value


def load_config(
    stack: str,
    raw: Mapping[str, Any],
    secret_keys: frozenset[str] = frozenset(),
) -> StackConfig:
    """Validates a stack's raw config (flat keys without the project namespace).

    Raises ``ConfigError`` listing every problem. ``secret_keys`` names the keys Pulumi holds
    encrypted; a key that must be secret and is not is a problem of its own.
    """
    from infra.targets import TARGETS

    problems: list[Problem] = []
    # Pulumi hands the program every key declared with a default in Pulumi.yaml, set or not.
    # A value equal to its default is treated as unset, so target-only and would-be-ignored
    # checks fire only for what a stack really sets.
    raw = {key: value for key, value in raw.items() if not _is_default(key, value)}
    target = raw.get("target")
    active = TARGETS.get(target) if isinstance(target, str) else None
    shared: dict[str, Any] = {}
    sections: dict[str, dict[str, Any]] = {}
    offline_secrets: set[tuple[str | None, Path]] = set()
    for key, value in raw.items():
        problem = _refused(stack, key, value, target, active.name if active else None, secret_keys)
        if problem is not None:
            problems.append(problem)
            continue
        if key == "target":
            continue
        spec = KEYS[key]
        if value == OFFLINE_SECRET and key in secret_keys:
            # Undecrypted offline: the CLI checks the plaintext under `pulumi up`; here only
            # rules that do not read the value can run.
            offline_secrets.add((spec.section, spec.path))
        else:
            value = _as_declared(stack, spec, value)
            if isinstance(value, Problem):
                problems.append(value)
                continue
        tree = shared if spec.section is None else sections.setdefault(spec.section, {})
        _place(tree, spec.path, value)

    if target is None and any(key.endswith(":target") for key in raw):
        pass  # the misplaced key is the cause, and is reported
    elif target is None or active is None:
        kind = "missing" if target is None else "literal_error"
        problems.append(_problem_from_pydantic(stack, {"type": kind}, raw, KEYS["target"], ""))
    shared["target"] = active.name if active else ""

    def unread(owner: str | None) -> set[Path]:
        return {path for section, path in offline_secrets if section == owner}

    config, failed, found = _validate(stack, raw, None, StackConfig, shared, unread(None))
    problems += found
    section_model: Model | None = None
    section_failed: set[Path] = set()
    # Only the active target's section counts; without a valid target, still check the values
    # of every section that has keys set, so their problems come in the same round.
    for owner in [active] if active else [TARGETS[name] for name in sections]:
        data = sections.get(owner.name, {})
        model, failed_here, found = _validate(
            stack, raw, owner.name, owner.section.model, data, unread(owner.name)
        )
        problems += found
        if owner is active:
            section_model, section_failed = model, failed_here

    if config is not None:
        context: RuleContext[Any] = RuleContext(
            stack=stack,
            config=partial(config, failed),
            raw=raw,
            secret_keys=secret_keys,
            active_section=(
                partial(section_model, section_failed) if section_model is not None else None
            ),
        )
        problems += run_rules(SHARED_RULES, context)
        if active is not None:
            problems += run_rules(active.section.rules, context)
    errors_found = [p for p in problems if p.severity == "error"]
    if errors_found:
        raise ConfigError(stack, errors_found)
    assert config is not None and active is not None and section_model is not None
    warnings = tuple(p for p in problems if p.severity == "warning")
    return config.model_copy(update={"target_section": section_model, "warnings": warnings})
