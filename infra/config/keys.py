"""The flat config keys of ``StackConfig`` and of every registered target's section, in that
order (``Pulumi.yaml``'s ``config:`` block is generated from them). Pulumi declares only flat keys
of simple types, so a key joins the section prefix, the group names and the field name in
camelCase: the shared ``postgres.image`` is ``postgresImage``, AWS's ``cpu.min_size`` is
``awsCpuMinSize``."""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel

from infra.config.stack import StackConfig
from infra.config.types import PROJECT
from infra.targets import TARGETS

GROUP_PREFIX = {"cluster": "kube", "shared_fs": "sharedFs", "charts": "chart"}
"""Key prefixes that differ from the group's field name (``kubeconfig`` reads better than
``clusterKubeconfig``)."""

_NOT_KEYS = frozenset({"target_section", "warnings"})
"""``StackConfig`` fields that the loader fills, not the user."""


def key_name(prefix: str, path: tuple[str, ...]) -> str:
    """The flat key of the field at ``path`` in a section with key prefix ``prefix``."""
    if path == ("cluster", "kubeconfig"):
        return "kubeconfig"
    names = [prefix, *(GROUP_PREFIX.get(group, group) for group in path[:-1]), path[-1]]
    words = [word for name in names for word in name.split("_") if word]
    return words[0] + "".join(word[:1].upper() + word[1:] for word in words[1:])


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
    metadata: tuple[Any, ...] = ()
    """The field's value checks (``Annotated`` validators), run by the loader."""

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
            metadata=tuple(info.metadata),
        )


def _table() -> dict[str, KeySpec]:
    specs = {spec.key: spec for spec in _walk(StackConfig, None, "", ())}
    targets = [f"{t.name}: {t.summary}" for t in TARGETS.values()]
    specs["target"] = replace(
        specs["target"],
        annotation=Literal[tuple(TARGETS)],
        description=" ".join([specs["target"].description, *targets]),
    )
    for target in TARGETS.values():
        section = target.section
        for spec in _walk(section.model, section.target, section.prefix, ()):
            if spec.key in specs:
                raise RuntimeError(f"{section.target} redeclares the key {spec.key}")
            specs[spec.key] = spec
    return specs


KEYS: Mapping[str, KeySpec] = MappingProxyType(_table())
"""Every flat key a stack may set, in declaration order (shared, then each target)."""


def misplaced_key(full_key: str) -> bool:
    """Whether a key of another namespace was meant for this project: its namespace is a near
    miss of the project name (``pdk-deployr:target``) or its name is one of our keys. Other
    namespaces (``kubernetes:context``, ``aws:region``) configure providers and are left alone.
    """
    namespace, _, key = full_key.rpartition(":")
    if not namespace or namespace == PROJECT:
        return False
    near = difflib.SequenceMatcher(None, namespace, PROJECT).ratio() >= 0.75
    return near or key in KEYS
