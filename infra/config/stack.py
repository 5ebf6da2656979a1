"""``StackConfig``: the keys every stack has, the platform's and the flow's groups (declared next
to what they configure), and the rules every stack runs.

A target's own keys are not fields here: each target owns a section model, the loader validates
the active one, and the target reads it typed with ``config.section(AwsConfig)``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, Field

from infra import versions
from infra.config.problems import MISSING, Problem, fail, set_fix
from infra.config.rules import Rule, RuleContext
from infra.config.types import Model
from infra.flow import config as flow
from infra.flow.config import FlowConfig
from infra.platform import config as platform

S = TypeVar("S", bound=Model)

DEPLOYMENT_ID_ALLOWED = "1-20 lowercase letters, digits and '-', starting and ending alphanumeric"


def is_deployment_id(value: str) -> bool:
    """Whether ``value`` can sit in every derived name: buckets (3-63 characters, no '_' or
    '.'), IAM roles (64), EKS node groups (63) and label values (63), all of which add at most
    43 characters of their own."""
    return bool(re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", value)) and len(value) <= 20


def stack_deployment_id(stack: str) -> str:
    """The deployment id of a stack whose ``deploymentId`` is empty: its name as a label value,
    lowercased (``stack_name_as_deployment_id`` checks it before anything runs)."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]", "-", stack)[:63]
    return (cleaned.strip("-_.") or "unnamed").lower()


def _deployment_id(value: str) -> str:
    if value and not is_deployment_id(value):
        fix = "choose an id such as 'ci-1234' (it ends up in bucket and label values)"
        raise fail("is not a short DNS label", DEPLOYMENT_ID_ALLOWED, fix)
    return value


def _kubernetes_version(value: str) -> str:
    # ``pins_support_kubernetes`` then rejects a version that a pinned component does not support.
    if value not in versions.KUBERNETES_VERSIONS:
        allowed = ", ".join(versions.KUBERNETES_VERSIONS)
        fix = "set the MAJOR.MINOR version your cluster runs"
        raise fail("is not a supported Kubernetes version", allowed, fix)
    return value


class StackKeys(Model):
    """The keys every stack has, and what the loader adds."""

    target: str = Field(description="Where the platform runs.")
    ephemeral: bool = Field(
        False,
        description="Throwaway stack (CI, demos): stateful resources are not protected and are "
        "deleted with the stack. Keep false for anything holding real data.",
    )
    deployment_id: Annotated[str, AfterValidator(_deployment_id)] = Field(
        "",
        description="Short id placed in resource names and the deployment-id label, so leftovers "
        "can be found. Empty: the stack name.",
    )
    kubernetes_version: Annotated[str, AfterValidator(_kubernetes_version)] = Field(
        versions.KUBERNETES.version,
        description="Kubernetes MAJOR.MINOR the cluster runs; manifests are validated against it.",
    )
    target_section: Model | None = Field(None, exclude=True)
    """The validated section of ``target`` (set by the loader; not a key)."""
    warnings: tuple[Problem, ...] = Field((), exclude=True)
    """Allowed but risky settings the rules found (set by the loader; not a key): ``pdk plan``
    prints them and ``pulumi up`` reports them as Pulumi warnings."""

    def section(self, model: type[S]) -> S:
        """The active target's section as its model: ``config.section(AwsConfig).region``."""
        if not isinstance(self.target_section, model):
            raise TypeError(f"target {self.target!r} has no {model.__name__} section")
        return self.target_section


class StackConfig(platform.PlatformGroups, StackKeys):
    """Everything one stack can set (``infra.config.keys`` names the keys). Pydantic takes the
    fields of the last base first: the keys every stack has, the platform's, then the flow's."""

    flow: FlowConfig = Field(default_factory=FlowConfig)


def stack_name_as_deployment_id(ctx: RuleContext[Any]) -> list[Problem]:
    """Without ``deploymentId`` the stack name goes into every cloud-side name (buckets, IAM
    roles, node groups); one that cannot would fail mid-deployment, after other resources."""
    derived = stack_deployment_id(ctx.stack)
    if ctx.config.deployment_id or is_deployment_id(derived):
        return []
    reason = (
        f"is not set, so the stack name {ctx.stack!r} would be the deployment id, but it "
        f"becomes {derived!r}, which cannot be part of bucket and resource names"
    )
    fix = set_fix(ctx.stack, "deploymentId", "<short-id>")
    return [Problem("deploymentId", MISSING, reason, DEPLOYMENT_ID_ALLOWED, fix)]


SHARED_RULES: tuple[Rule, ...] = (stack_name_as_deployment_id, *platform.RULES, *flow.RULES)
"""The rules across shared keys, run on every stack, before the active target's rules."""
