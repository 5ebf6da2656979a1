"""Differences between two plan snapshots, resource by resource and property by property."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from infra.plan.replacements import data_at_risk, triggers

_MISSING: Any = object()


@dataclass(frozen=True)
class Change:
    """One property that differs; ``before``/``after`` are ``None`` when absent on that side."""

    path: str
    before: Any
    after: Any


@dataclass
class ResourceChange:
    type: str
    name: str
    changes: list[Change]
    replaced_by: list[str] = field(default_factory=list)
    """The changed paths that make the provider replace the resource (delete, then create;
    ``infra.plan.replacements``); empty for an update in place."""

    @property
    def replaced(self) -> bool:
        return bool(self.replaced_by)

    @property
    def at_risk(self) -> str | None:
        """What a replacement loses, when the resource holds data."""
        return data_at_risk(self.type) if self.replaced else None


def replacement_triggers(resource_type: str, changes: list[Change]) -> list[str]:
    """The changed paths that replace the resource: a new parent gives it a new URN (Pulumi
    deletes the old one), and the type's force-new inputs."""
    inputs = [c.path.removeprefix("inputs.") for c in changes if c.path.startswith("inputs.")]
    parent = ["parent"] if any(c.path == "parent" for c in changes) else []
    return parent + [f"inputs.{path}" for path in triggers(resource_type, inputs)]


IDENTITY_LABELS = ("pdk-deployer/stack", "pdk-deployer/deployment-id")
"""Labels whose values name the stack itself. Between two different stacks they always differ,
so ``pdk diff A B`` hides those changes unless asked."""


def is_identity_change(change: Change) -> bool:
    return change.path.endswith(IDENTITY_LABELS)


def _is_target_internal(
    change: Change, providers: dict[str, str], only_left: set[str], only_right: set[str]
) -> bool:
    """Between two stacks, changes that only restate what the resource lists already show:
    a Kubernetes provider of another name (each target names its cluster's provider), or a
    dependency on a resource that exists on one side only (already listed as added or removed)."""
    if change.path == "provider":
        kinds = {providers.get(str(change.before)), providers.get(str(change.after))}
        return kinds == {"pulumi:providers:kubernetes"}
    if change.path.startswith("dependsOn."):
        name = change.path.removeprefix("dependsOn.")
        return name in (only_left if change.before else only_right)
    return False


@dataclass
class PlanDiff:
    """What turning snapshot ``left`` into snapshot ``right`` would add, remove and change."""

    left: str
    right: str
    added: list[dict[str, Any]] = field(default_factory=list)
    removed: list[dict[str, Any]] = field(default_factory=list)
    changed: list[ResourceChange] = field(default_factory=list)
    outputs: list[Change] = field(default_factory=list)
    hidden: int = 0
    """Identity-label changes left out (see ``IDENTITY_LABELS``)."""

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.outputs)

    @property
    def replaced(self) -> list[ResourceChange]:
        return [change for change in self.changed if change.replaced]

    @property
    def updated(self) -> list[ResourceChange]:
        return [change for change in self.changed if not change.replaced]

    def data_loss(self) -> list[tuple[str, str, str, str]]:
        """(verb, type, name, what is lost) for every resource holding data that the change
        deletes or replaces: what a reviewer must see first."""
        lost = [
            ("delete", str(r["type"]), str(r["name"]), what)
            for r in self.removed
            if (what := data_at_risk(str(r["type"])))
        ]
        lost += [("replace", c.type, c.name, c.at_risk) for c in self.changed if c.at_risk]
        return lost

    def to_dict(self) -> dict[str, Any]:
        return {
            "left": self.left,
            "right": self.right,
            "added": [{"type": r["type"], "name": r["name"]} for r in self.added],
            "removed": [{"type": r["type"], "name": r["name"]} for r in self.removed],
            "dataLoss": [
                {"action": verb, "type": typ, "name": name, "loses": what}
                for verb, typ, name, what in self.data_loss()
            ],
            "changed": [
                {
                    "type": c.type,
                    "name": c.name,
                    "action": "replace" if c.replaced else "update",
                    "replacedBy": c.replaced_by,
                    "changes": [
                        {"path": x.path, "before": x.before, "after": x.after} for x in c.changes
                    ],
                }
                for c in self.changed
            ],
            "outputs": [
                {"path": x.path, "before": x.before, "after": x.after} for x in self.outputs
            ],
        }


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": [1]}}`` -> ``{"a.b[0]": 1}``. Empty containers vanish: an empty list and
    an absent one mean the same to every resource here."""
    if isinstance(value, dict):
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    if isinstance(value, list):
        flat = {}
        for index, item in enumerate(value):
            flat.update(flatten(item, f"{prefix}[{index}]"))
        return flat
    return {prefix: value}


def _compare(before: Any, after: Any) -> list[Change]:
    left, right = flatten(before), flatten(after)
    return [
        Change(path, left.get(path), right.get(path))
        for path in sorted(left.keys() | right.keys())
        if left.get(path, _MISSING) != right.get(path, _MISSING)
    ]


def _comparable(resource: dict[str, Any]) -> dict[str, Any]:
    view: dict[str, Any] = {
        key: resource[key] for key in ("parent", "provider", "protect", "inputs") if key in resource
    }
    # Dependencies are a set: compared by name, a new one reads as one added entry instead of
    # shifting every later position of a sorted list.
    if "dependencies" in resource:
        view["dependsOn"] = {name: True for name in resource["dependencies"]}
    return view


def diff_snapshots(
    left: dict[str, Any], right: dict[str, Any], hide_identity: bool = False
) -> PlanDiff:
    """Compares two ``Snapshot.to_dict()`` documents; resources match on (type, name).

    ``hide_identity`` (two different stacks) drops changes to ``IDENTITY_LABELS``, a renamed
    Kubernetes provider and dependencies on one-sided resources, and counts them in ``hidden``.
    """
    result = PlanDiff(left=str(left.get("stack")), right=str(right.get("stack")))
    before = {(r["type"], r["name"]): r for r in left.get("resources", [])}
    after = {(r["type"], r["name"]): r for r in right.get("resources", [])}
    result.added = [after[key] for key in sorted(after.keys() - before.keys())]
    result.removed = [before[key] for key in sorted(before.keys() - after.keys())]
    providers = {
        name: typ for typ, name in (*before, *after) if typ.startswith("pulumi:providers:")
    }
    only_left = {name for _, name in before.keys() - after.keys()}
    only_right = {name for _, name in after.keys() - before.keys()}
    for key in sorted(before.keys() & after.keys()):
        changes = _compare(_comparable(before[key]), _comparable(after[key]))
        if hide_identity:
            kept = [
                change
                for change in changes
                if not is_identity_change(change)
                and not _is_target_internal(change, providers, only_left, only_right)
            ]
            result.hidden += len(changes) - len(kept)
            changes = kept
        if changes:
            result.changed.append(
                ResourceChange(
                    type=key[0],
                    name=key[1],
                    changes=changes,
                    replaced_by=replacement_triggers(key[0], changes),
                )
            )
    result.outputs = _compare(left.get("outputs", {}), right.get("outputs", {}))
    return result
