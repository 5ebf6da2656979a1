"""The rules engine, and the list of rules every stack runs.

A rule is a small function of a ``RuleContext`` returning the problems it finds, one message
family each. Rules read typed, validated values. A key that failed its own check is not there to
read: touching it raises ``SkipRule`` inside the rule, which then does not run, so the user sees
the key's own problem rather than a knock-on one, and every other rule still runs.

Rules live next to the keys they read (``infra/platform/config.py``, ``infra/flow/config.py``,
each target's ``config.py``); ``SHARED_RULES`` lists those every stack runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from infra.config.problems import MISSING, Problem, set_fix
from infra.config.types import DEPLOYMENT_ID_ALLOWED, Model, is_deployment_id, stack_deployment_id
from infra.flow import config as flow
from infra.platform import config as platform

if TYPE_CHECKING:
    from infra.config.stack import StackConfig

S = TypeVar("S", bound=Model)


class SkipRule(Exception):
    """Raised when a rule reads a value that failed validation."""


class Partial:
    """A validated model seen through a list of paths that failed: reading one raises
    ``SkipRule``; everything else reads as the model's value."""

    __slots__ = ("_failed", "_model")

    def __init__(self, model: Any, failed: set[tuple[str, ...]]) -> None:
        object.__setattr__(self, "_model", model)
        object.__setattr__(self, "_failed", failed)

    def __getattr__(self, name: str) -> Any:
        failed: set[tuple[str, ...]] = object.__getattribute__(self, "_failed")
        if (name,) in failed:
            raise SkipRule(name)
        value = getattr(object.__getattribute__(self, "_model"), name)
        nested = {path[1:] for path in failed if len(path) > 1 and path[0] == name}
        return Partial(value, nested) if nested else value


@dataclass(frozen=True)
class RuleContext(Generic[S]):
    """What a rule reads."""

    stack: str
    """The stack name, for the fix commands."""
    config: StackConfig
    """The shared keys, validated (failed ones raise ``SkipRule``)."""
    raw: Mapping[str, Any]
    """The keys the stack sets (declared defaults left out), as given."""
    secret_keys: frozenset[str]
    """Keys whose values are Pulumi secrets."""
    active_section: S | None = None

    @property
    def section(self) -> S:
        """The active target's section (rules of a section only run on that target)."""
        if self.active_section is None:
            raise SkipRule("section")
        return self.active_section

    def is_set(self, key: str) -> bool:
        return key in self.raw


Rule = Callable[[RuleContext[Any]], list[Problem]]


def partial(model: S, failed: set[tuple[str, ...]]) -> S:
    """``model`` as rules see it (typed as the model: the proxy reads the same)."""
    return cast(S, Partial(model, failed)) if failed else model


def run_rules(rules: Iterable[Rule], context: RuleContext[Any]) -> list[Problem]:
    problems: list[Problem] = []
    for rule in rules:
        try:
            problems.extend(rule(context))
        except SkipRule:
            continue
    return problems


def stack_name_as_deployment_id(ctx: RuleContext[Any]) -> list[Problem]:
    """Without ``deploymentId`` the stack name goes into every cloud-side name (buckets, IAM
    roles, node groups); one that cannot would fail mid-deployment, after other resources."""
    if ctx.config.deployment_id:
        return []
    derived = stack_deployment_id(ctx.stack)
    if is_deployment_id(derived):
        return []
    return [
        Problem(
            "deploymentId",
            MISSING,
            f"is not set, so the stack name {ctx.stack!r} would be the deployment id, but it "
            f"becomes {derived!r}, which cannot be part of bucket and resource names",
            DEPLOYMENT_ID_ALLOWED,
            set_fix(ctx.stack, "deploymentId", "<short-id>"),
        )
    ]


SHARED_RULES: tuple[Rule, ...] = (
    stack_name_as_deployment_id,
    platform.exposed_to_the_internet,
    flow.unused_flow_keys,
    platform.unused_models_web_app_image,
    platform.serverless_needs_istio,
    platform.gpu_pool_needs_gpus,
    platform.unused_gpu_keys,
    platform.unused_knative_keys,
    platform.unused_istio_keys,
    flow.flow_example_exists,
    flow.flow_addresses_reachable,
    flow.flow_address_format,
    platform.pins_support_kubernetes,
    platform.servers_match_clients,
    platform.acme_needs_a_contact_and_a_domain,
    platform.plaintext_needs_acknowledgement,
)
"""The rules across shared keys, run on every stack, before the active target's rules."""
