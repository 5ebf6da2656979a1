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


def _misplaced(stack: str, key: str, value: Any) -> Problem:
    namespace, _, name = key.rpartition(":")
    return Problem(
        key,
        value,
        f"is in namespace '{namespace}', not this project's '{PROJECT}', so Pulumi would not "
        "pass it to the program",
        f"{PROJECT}:{name}",
        f"rename the key in the stack file to {PROJECT}:{name}",
    )


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


def _prune(data: dict[str, Any], path: tuple[str, ...]) -> None:
    node: Any = data
    for part in path[:-1]:
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node.pop(path[-1], None)


def _validate(
    model: type[M], data: dict[str, Any]
) -> tuple[M | None, list[Any], set[tuple[str, ...]]]:
    """Validates ``data``; on errors, validates again without the failing values so the rules
    can still read everything else (the failing paths are returned)."""
    try:
        return model.model_validate(data), [], set()
    except ValidationError as error:
        errors = list(error.errors())
    failed = {tuple(str(part) for part in e["loc"]) for e in errors}
    pruned = _deep_copy(data)
    for path in failed:
        _prune(pruned, path)
    try:
        return model.model_validate(pruned), errors, failed
    except ValidationError:
        return None, errors, failed


def _without_offline_secrets(
    errors: list[Any],
    section: str | None,
    secrets: set[tuple[str | None, tuple[str, ...]]],
) -> list[Any]:
    paths = {path for owner, path in secrets if owner == section}
    return [e for e in errors if tuple(str(part) for part in e["loc"]) not in paths]


def _deep_copy(data: dict[str, Any]) -> dict[str, Any]:
    return {k: _deep_copy(v) if isinstance(v, dict) else v for k, v in data.items()}


def _place(tree: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
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
    misplaced = {key for key in raw if ":" in key}
    offline_secrets: set[tuple[str | None, tuple[str, ...]]] = set()
    for key, value in raw.items():
        if key in misplaced:
            problems.append(_misplaced(stack, key, value))
            continue
        spec = KEYS.get(key)
        if spec is None:
            close = difflib.get_close_matches(key, KEYS, n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            problems.append(
                Problem(
                    key,
                    value,
                    "is not a known key",
                    "see `pdk config-keys` or Pulumi.yaml",
                    f"{hint}remove it with: {rm_fix(stack, key)}",
                )
            )
            continue
        if spec.section is not None and active is not None and spec.section != active.name:
            problems.append(
                Problem(
                    key,
                    value,
                    f"only applies to target {spec.section}, not '{target}'",
                    f"unset on target {target}",
                    rm_fix(stack, key),
                )
            )
            continue
        if spec.secret and value and key not in secret_keys:
            problems.append(
                Problem(
                    key,
                    "[hidden]",
                    "is stored in plain text",
                    "a Pulumi secret",
                    f"{rm_fix(stack, key)}; then pulumi config set --secret "
                    f"{key} --stack {stack} < FILE",
                )
            )
            continue
        if key == "target":
            continue
        if value == OFFLINE_SECRET and key in secret_keys:
            # Undecrypted offline: the CLI checks the plaintext under `pulumi up`; here only
            # rules that do not read the value can run.
            offline_secrets.add((spec.section, spec.path))
        else:
            value = _as_declared(stack, spec, value)
            if isinstance(value, Problem):
                problems.append(value)
                continue
        if spec.section is None:
            _place(shared, spec.path, value)
        else:
            _place(sections.setdefault(spec.section, {}), spec.path, value)

    target_spec = KEYS["target"]
    if target is None and any(key.endswith(":target") for key in misplaced):
        pass  # the misplaced key is the cause, and is reported
    elif target is None:
        problems.append(
            _problem_from_pydantic(stack, {"type": "missing"}, raw, target_spec, "target")
        )
    elif active is None:
        problems.append(
            _problem_from_pydantic(stack, {"type": "literal_error"}, raw, target_spec, "target")
        )
    shared["target"] = active.name if active else ""

    by_path = {(spec.section, spec.path): spec for spec in KEYS.values()}
    config, errors, failed = _validate(StackConfig, shared)
    errors = _without_offline_secrets(errors, None, offline_secrets)
    failed |= {path for section, path in offline_secrets if section is None}
    for error in errors:
        loc = tuple(str(part) for part in error["loc"])
        problems.append(
            _problem_from_pydantic(stack, error, raw, by_path.get((None, loc)), ".".join(loc))
        )
    section_model: Model | None = None
    section_failed: set[tuple[str, ...]] = set()
    # Only the active target's section counts; without a valid target, still check the values
    # of every section that has keys set, so their problems come in the same round.
    checked = [active] if active else [TARGETS[name] for name in sections]
    for owner in checked:
        model, errors, failed_here = _validate(owner.section.model, sections.get(owner.name, {}))
        errors = _without_offline_secrets(errors, owner.name, offline_secrets)
        failed_here |= {path for section, path in offline_secrets if section == owner.name}
        for error in errors:
            loc = tuple(str(part) for part in error["loc"])
            problems.append(
                _problem_from_pydantic(
                    stack, error, raw, by_path.get((owner.name, loc)), ".".join(loc)
                )
            )
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
        problems.extend(run_rules(SHARED_RULES, context))
        if active is not None:
            problems.extend(run_rules(active.section.rules, context))
    errors_found = [p for p in problems if p.severity == "error"]
    if errors_found:
        raise ConfigError(stack, errors_found)
    assert config is not None and active is not None and section_model is not None
    warnings = tuple(p for p in problems if p.severity == "warning")
    return config.model_copy(update={"target_section": section_model, "warnings": warnings})
