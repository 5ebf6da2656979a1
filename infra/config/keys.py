"""Flat config keys: how a field of a group is named, and the ``config:`` block of Pulumi.yaml.

Pulumi only declares flat keys of simple types in ``Pulumi.yaml`` (string, integer, boolean,
array), so the key a user sets joins the section prefix, the group names and the field name in
camelCase: the shared ``postgres.image`` is ``postgresImage``; the AWS section's ``cpu.min_size``
is ``awsCpuMinSize``. Top-level fields keep their own name.

The key table covers the shared ``StackConfig`` and every registered target's section, in that
order; it is built on first use, because the sections come from the target registry.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel

from infra.config.stack import StackConfig

GROUP_PREFIX = {"cluster": "kube", "shared_fs": "sharedFs"}
"""Key prefixes that differ from the group's field name (``kubeconfig`` reads better than
``clusterKubeconfig``)."""

_NOT_KEYS = frozenset({"target_section", "warnings"})
"""``StackConfig`` fields that the loader fills, not the user."""


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def key_name(prefix: str, path: tuple[str, ...]) -> str:
    """The flat key of the field at ``path`` in a section with key prefix ``prefix``."""
    if path == ("cluster", "kubeconfig"):
        return "kubeconfig"
    parts = [prefix, *(GROUP_PREFIX.get(group, _camel(group)) for group in path[:-1])]
    parts.append(_camel(path[-1]))
    parts = [part for part in parts if part]
    return parts[0] + "".join(_upper_first(part) for part in parts[1:])


@dataclass(frozen=True)
class KeySpec:
    """One flat config key and where it lands."""

    key: str
    section: str | None
    """The target that owns the key, or None for a shared key."""
    path: tuple[str, ...]
    """Where the value lands: field names from ``StackConfig`` or from the section model."""
    annotation: Any
    default: Any
    required: bool
    description: str
    secret: bool = False

    @property
    def allowed(self) -> str:
        """The allowed values, where the type alone says them."""
        if get_origin(self.annotation) is Literal:
            return ", ".join(str(a) for a in get_args(self.annotation))
        if self.annotation is bool:
            return "true, false"
        if self.annotation is int:
            return "a whole number"
        return ""


def _walk(
    model: type[BaseModel], section: str | None, prefix: str, path: tuple[str, ...]
) -> Iterator[KeySpec]:
    for name, info in model.model_fields.items():
        if name in _NOT_KEYS and model is StackConfig:
            continue
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from _walk(annotation, section, prefix, (*path, name))
            continue
        key = key_name(prefix, (*path, name))
        yield KeySpec(
            key=key,
            section=section,
            path=(*path, name),
            annotation=annotation,
            default=None if info.is_required() else info.get_default(call_default_factory=True),
            required=info.is_required(),
            description=info.description or "",
            secret=key == "kubeconfig",
        )


@cache
def _specs() -> dict[str, KeySpec]:
    from infra.targets import TARGETS

    specs = {spec.key: spec for spec in _walk(StackConfig, None, "", ())}
    specs["target"] = KeySpec(
        key="target",
        section=None,
        path=("target",),
        annotation=Literal[tuple(TARGETS)],
        default=None,
        required=True,
        description=" ".join(
            ["Where the platform runs."] + [f"{t.name}: {t.summary}" for t in TARGETS.values()]
        ),
    )
    for target in TARGETS.values():
        section = target.section
        for spec in _walk(section.model, section.target, section.prefix, ()):
            if spec.key in specs:
                raise RuntimeError(f"{section.target} redeclares the key {spec.key}")
            specs[spec.key] = spec
    return specs


class _Keys(Mapping[str, KeySpec]):
    """Every flat key a stack may set, in declaration order (shared, then each target)."""

    def __getitem__(self, key: str) -> KeySpec:
        return _specs()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(_specs())

    def __len__(self) -> int:
        return len(_specs())


KEYS: Mapping[str, KeySpec] = _Keys()
"""Every flat key a stack may set, in declaration order."""


def project_config_schema() -> dict[str, dict[str, Any]]:
    """The ``config:`` block of ``Pulumi.yaml``, generated from the models.

    ``kubeconfig`` is not declared ``secret: true`` there: it is optional, and the CLI's handling
    of a secret key that falls back to a default is not something to lean on. ``load_config``
    refuses a plain-text kubeconfig instead, which also covers the offline plan.
    """
    types: dict[Any, str] = {bool: "boolean", int: "integer"}
    block: dict[str, dict[str, Any]] = {}
    for spec in KEYS.values():
        entry: dict[str, Any] = {"type": types.get(spec.annotation, "string")}
        entry["description"] = spec.description
        if spec.section is not None:
            entry["description"] += f" (Target: {spec.section}.)"
        if not spec.required:
            entry["default"] = spec.default
        block[spec.key] = entry
    return block


def misplaced_key(full_key: str) -> bool:
    """Whether a key of another namespace was meant for this project: its namespace is a near
    miss of the project name (``pdk-deployr:target``) or its name is one of our keys. Other
    namespaces (``kubernetes:context``, ``aws:region``) configure providers and are left alone.
    """
    import difflib

    from infra.config.types import PROJECT

    namespace, _, key = full_key.rpartition(":")
    if not namespace or namespace == PROJECT:
        return False
    near = difflib.SequenceMatcher(None, namespace, PROJECT).ratio() >= 0.75
    return near or key in KEYS
