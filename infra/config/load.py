"""``load_config``: a stack's raw key/value pairs in, a validated ``StackConfig`` out, or one
``ConfigError`` listing every problem (key, bad value, what is allowed, how to fix it).

Each key is checked on its own: known, owned by the stack's target, secret where it must be,
typed as the Pulumi CLI types it, then validated by its field. The models are built from the
values that passed, and the rules run across keys of the shared config and of the active
target's section, skipping any that would read a value that failed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import re
from collections.abc import Mapping
from functools import cache
from typing import Annotated, Any

from pydantic import TypeAdapter, ValidationError

from infra.config.keys import KEYS, KeySpec
from infra.config.problems import MISSING, ConfigError, Problem, rm_fix, set_fix
from infra.config.rules import RuleContext, partial, run_rules
from infra.config.stack import SHARED_RULES, StackConfig
from infra.config.types import OFFLINE_SECRET, PROJECT, ConfigObject
from infra.placeholders import placeholder_problems
from infra.targets import TARGETS

Path = tuple[str, ...]


def _is_default(key: str, value: Any) -> bool:
    """Whether ``value`` is the key's declared default, which Pulumi passes for an unset key;
    compared as the CLI passes values (Go's ``%v``: ``true``, ``2``, text as is)."""
    spec = KEYS.get(key)
    if spec is None or spec.required or isinstance(value, ConfigObject):
        return False
    return _as_text(value) == _as_text(spec.default)


def _as_text(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _refused(
    stack: str, key: str, value: Any, active: str | None, secret_keys: frozenset[str]
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
        allowed = "see `pdk config-keys` or Pulumi.yaml"
        return Problem(
            key, value, "is not a known key", allowed, f"{hint}remove it with: {rm_fix(stack, key)}"
        )
    if spec.section is not None and active is not None and spec.section != active:
        reason = f"only applies to target {spec.section}, not '{active}'"
        return Problem(key, value, reason, f"unset on target {active}", rm_fix(stack, key))
    if spec.secret and value and key not in secret_keys:
        fix = f"{rm_fix(stack, key)}; then pulumi config set --secret {key} --stack {stack} < FILE"
        return Problem(key, "[hidden]", "is stored in plain text", "a Pulumi secret", fix)
    return None


@cache
def _field(key: str) -> TypeAdapter[Any]:
    """The validator of the model field behind ``key``: its type and its value checks."""
    spec = KEYS[key]
    return TypeAdapter(
        Annotated[(spec.annotation, *spec.metadata)] if spec.metadata else spec.annotation
    )


def _read(stack: str, spec: KeySpec, value: Any) -> Any:
    """``value`` typed the way the Pulumi CLI checks a declared key before the program runs
    (``ValidateConfigValue`` in pulumi/pulumi ``sdk/go/common/workspace/project.go``: a boolean
    is exactly ``true`` or ``false``, an integer parses as Go's ``strconv.Atoi`` parses it, no
    key takes a list or a mapping), then validated by its field. Returns the value, or the
    ``Problem``. Python values (declared defaults in tests) skip the CLI's typing."""
    key, fix = spec.key, set_fix(stack, spec.key)
    if isinstance(value, ConfigObject):
        reason = "is a list or mapping, but the key takes a single value"
        return Problem(key, str(value), reason, spec.allowed or "a string", fix)
    typed = value
    if isinstance(value, str) and spec.annotation is bool:
        if value not in ("true", "false"):
            reason = "is not a boolean (the Pulumi CLI accepts exactly true or false, lowercase)"
            return Problem(key, value, reason, "true, false", set_fix(stack, key, "true"))
        typed = value == "true"
    elif isinstance(value, str) and spec.annotation is int:
        if not re.fullmatch(r"[+-]?[0-9]+", value) or not -(2**63) <= int(value) < 2**63:
            reason = "is not a whole number (the Pulumi CLI refuses it before the program runs)"
            return Problem(key, value, reason, "a whole number such as 2", fix)
        typed = int(value)
    try:
        return _field(key).validate_python(typed)
    except ValidationError as error:
        found = error.errors()[0]
    if found["type"] == "pdk":
        ctx = found["ctx"]
        return Problem(key, value, ctx["reason"], ctx["allowed"], ctx["fix"])
    if found["type"] == "literal_error":
        first = spec.allowed.split(", ")[0]
        reason = "is not one of the allowed values"
        return Problem(key, value, reason, spec.allowed, set_fix(stack, key, first))
    return Problem(key, value, f"has the wrong type ({found['msg']})", spec.allowed, fix)


def _place(tree: dict[str, Any], path: Path, value: Any) -> None:
    for part in path[:-1]:
        tree = tree.setdefault(part, {})
    tree[path[-1]] = value


def load_config(
    stack: str,
    raw: Mapping[str, Any],
    secret_keys: frozenset[str] = frozenset(),
    deploying: bool = False,
) -> StackConfig:
    """Validates a stack's raw config (flat keys without the project namespace).

    Raises ``ConfigError`` listing every problem. ``secret_keys`` names the keys Pulumi holds
    encrypted; a key that must be secret and is not is a problem of its own. ``deploying``
    (the update of ``pulumi up``, not a preview or the offline plan) makes placeholder values
    errors instead of warnings.
    """
    # Pulumi hands the program every key declared with a default in Pulumi.yaml, set or not.
    # A value equal to its default is treated as unset, so target-only and would-be-ignored
    # checks fire only for what a stack really sets.
    raw = {key: value for key, value in raw.items() if not _is_default(key, value)}
    target = raw.get("target")
    active = TARGETS.get(target) if isinstance(target, str) else None
    problems: list[Problem] = []
    values: dict[str | None, dict[str, Any]] = {None: {}}
    failed: dict[str | None, set[Path]] = {}  # per owner (a target, or None: shared keys)
    for key, value in raw.items():
        spec = KEYS.get(key)
        problem = _refused(stack, key, value, active.name if active else None, secret_keys)
        if problem is None and spec is not None:
            tree = values.setdefault(spec.section, {})
            if key in secret_keys and value == OFFLINE_SECRET:
                # Undecrypted offline: the CLI checks the plaintext under `pulumi up`. The
                # placeholder lands where its field takes it, so an offline plan can show it.
                with contextlib.suppress(ValidationError):
                    _place(tree, spec.path, _field(key).validate_python(value))
            else:
                read = _read(stack, spec, value)
                if not isinstance(read, Problem):
                    _place(tree, spec.path, read)
                    continue
                problem = read
        if problem is not None:
            problems.append(problem)
        if spec is not None:  # the rules must not read what failed, nor an undecrypted secret
            failed.setdefault(spec.section, set()).add(spec.path)
    misplaced = any(key.endswith(":target") for key in raw)
    for spec in KEYS.values():
        owned = spec.section is None or (active is not None and spec.section == active.name)
        if spec.required and owned and spec.key not in raw:
            if spec.key == "target" and misplaced:
                continue  # the misplaced key is the cause, and is reported
            example = spec.allowed.split(", ")[0] if spec.allowed else "VALUE"
            fix = set_fix(stack, spec.key, example)
            problems.append(
                Problem(spec.key, MISSING, "is required and not set", spec.allowed, fix)
            )

    values[None]["target"] = active.name if active else ""
    config = StackConfig.model_validate(values[None])
    section_owner = active.name if active else ""
    section = active.section.model.model_validate(values.get(section_owner, {})) if active else None
    context: RuleContext[Any] = RuleContext(
        stack=stack,
        config=partial(config, failed.get(None, set())),
        raw=raw,
        secret_keys=secret_keys,
        active_section=partial(section, failed.get(section_owner, set())) if section else None,
    )
    problems += run_rules(SHARED_RULES, context)
    if active is not None:
        problems += run_rules(active.section.rules, context)
    problems += placeholder_problems(context, KEYS.values(), active.name if active else None)
    if deploying:
        problems = [
            dataclasses.replace(problem, severity="error") if problem.placeholder else problem
            for problem in problems
        ]
    if any(problem.severity == "error" for problem in problems):
        raise ConfigError(stack, [problem for problem in problems if problem.severity == "error"])
    warnings = tuple(problem for problem in problems if problem.severity == "warning")
    return config.model_copy(update={"target_section": section, "warnings": warnings})
