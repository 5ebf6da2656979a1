"""The flow's config group and the rules across its keys; ``StackConfig`` gathers the group.

Imports only pydantic and the shared config package (no Pulumi), so config errors stay fast.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from pydantic import Field

from infra.config.problems import MISSING, Problem, ignored, set_fix
from infra.config.types import Model

if TYPE_CHECKING:
    from infra.config.rules import Rule, RuleContext


class FlowConfig(Model):
    """The PDK flow in the stack: images built from source, MLDM project/repo/pipelines and the
    MLDE workspace/project of one example."""

    enabled: bool = Field(
        False,
        description="Declare the flow. Its MLDM and MLDE objects are created through the "
        "platform's own APIs during pulumi up, so the machine running Pulumi must reach MLDM "
        "and MLDE (see flowMldmAddress). Off by default: a stack opts in once it knows how.",
    )
    example: str = Field(
        "dog-cat",
        description="The example under examples/ whose flow the stack deploys "
        "(`pdk example list`).",
    )
    autoscaling: bool = Field(
        True,
        description="Scale the flow's pipeline workers to zero between jobs, so idle "
        "pipelines hold no node. false keeps one worker per pipeline up (jobs start sooner).",
    )
    mldm_address: str = Field(
        "",
        description="HOST:PORT where the machine running Pulumi reaches MLDM through the "
        "gateway (TLS unless tlsEnabled is false). Empty: mldm.<kserveDomain>:443, which must "
        "resolve to the gateway. Required with exposeServiceType NodePort, e.g. "
        "mldm.example.com:8443 behind a port-forward of the gateway.",
    )
    mlde_url: str = Field(
        "",
        description="URL where the machine running Pulumi reaches the MLDE master through the "
        "gateway. Empty: https://mlde.<kserveDomain>, which must resolve to the gateway. "
        "Required with exposeServiceType NodePort, e.g. https://mlde.example.com:8443.",
    )


def unused_flow_keys(ctx: RuleContext[Any]) -> list[Problem]:
    if ctx.config.flow.enabled:
        return []
    keys = ("flowExample", "flowMldmAddress", "flowMldeUrl")
    allowed = "unset while flowEnabled is false"
    return [ignored(ctx.stack, key, ctx.raw[key], allowed) for key in keys if ctx.is_set(key)]


def flow_example_exists(ctx: RuleContext[Any]) -> list[Problem]:
    """The flow deploys one of the repository's examples."""
    if not ctx.config.flow.enabled:
        return []
    from pdk_assets.manifest import EXAMPLES_DIR, MANIFEST_FILE

    example = ctx.config.flow.example
    known = sorted(p.parent.name for p in EXAMPLES_DIR.glob(f"*/{MANIFEST_FILE}"))
    if example in known:
        return []
    return [
        Problem(
            "flowExample",
            example,
            "is not an example of this repository",
            ", ".join(known) or "(none found under examples/)",
            set_fix(ctx.stack, "flowExample", known[0] if known else "<example>"),
        )
    ]


def flow_addresses_reachable(ctx: RuleContext[Any]) -> list[Problem]:
    """Without load balancers Pulumi cannot find MLDM and MLDE by itself."""
    flow = ctx.config.flow
    if not flow.enabled or ctx.config.expose.service_type != "NodePort":
        return []
    problems: list[Problem] = []
    for key, current, example in (
        ("flowMldmAddress", flow.mldm_address, "localhost:30080"),
        ("flowMldeUrl", flow.mlde_url, "http://localhost:30081"),
    ):
        if not current:
            problems.append(
                Problem(
                    key,
                    MISSING,
                    "is required with exposeServiceType NodePort: there is no load balancer "
                    "address for Pulumi to reach",
                    "an address reachable from the machine running pulumi up",
                    set_fix(ctx.stack, key, example),
                )
            )
    return problems


def flow_address_format(ctx: RuleContext[Any]) -> list[Problem]:
    flow = ctx.config.flow
    if not flow.enabled:
        return []
    problems: list[Problem] = []
    address = flow.mldm_address
    if address and not re.fullmatch(r"[A-Za-z0-9.-]+:[0-9]{1,5}", address):
        problems.append(
            Problem(
                "flowMldmAddress",
                address,
                "is not HOST:PORT",
                "e.g. localhost:30080 or mldm.pdk.internal:80",
                set_fix(ctx.stack, "flowMldmAddress", "localhost:30080"),
            )
        )
    url = flow.mlde_url
    if url and not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?/?", url):
        problems.append(
            Problem(
                "flowMldeUrl",
                url,
                "is not an http(s) URL of a host",
                "e.g. http://localhost:30081 or https://mlde.pdk.internal",
                set_fix(ctx.stack, "flowMldeUrl", "http://localhost:30081"),
            )
        )
    return problems


RULES: tuple[Rule, ...] = (
    unused_flow_keys,
    flow_example_exists,
    flow_addresses_reachable,
    flow_address_format,
)
"""The flow's rules, run on every stack."""
