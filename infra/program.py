"""The Pulumi program: validate the stack's config, then build the target and export it.

``pulumi up`` runs ``run()`` through ``__main__.py``; ``pdk plan`` calls ``build()`` under
Pulumi's mock engine with the same validated config.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config

from infra import charts
from infra.config.keys import misplaced_key
from infra.config.load import load_config
from infra.config.problems import ConfigError
from infra.config.stack import StackConfig
from infra.config.types import PROJECT
from infra.contract import TargetContract
from infra.naming import Naming
from infra.outputs import export_platform, export_target
from infra.platform import layer as platform
from infra.targets import TARGETS


def build(stack: str, config: StackConfig) -> TargetContract:
    """Registers every resource of the stack. ``config`` must already be validated."""
    charts.use_archives(config.charts.archives)
    naming = Naming.for_stack(stack, config)
    contract = TARGETS[config.target].build(naming, config)
    export_target(contract, naming)
    result = platform.build(naming, config, contract)
    export_platform(contract, result)
    if config.flow.enabled:
        # Imported here: the flow's modules are only needed by stacks that declare it.
        from infra.flow.layer import Flow, FlowArgs

        Flow(
            "flow",
            FlowArgs(naming=naming, config=config, contract=contract, platform=result),
            opts=pulumi.ResourceOptions(providers=[contract.provider]),
        )
    return contract


def runtime_stack_config() -> tuple[dict[str, Any], frozenset[str]]:
    """This project's config keys (namespace stripped) and which of them are secret, as the
    Pulumi language host passes them to the program."""
    prefix = f"{PROJECT}:"
    merged: Mapping[str, Any] = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    # Keys meant for this project under a mistyped namespace are kept, namespace and all, so the
    # loader names them (the same rule as the offline reader, infra.plan.stackfiles).
    raw = {
        key.removeprefix(prefix): value
        for key, value in merged.items()
        if key.startswith(prefix) or misplaced_key(key)
    }
    env_secret = set(runtime_config.get_config_secret_keys_env())
    secret = {
        key
        for key in raw
        if f"{prefix}{key}" in env_secret or runtime_config.is_config_secret(f"{prefix}{key}")
    }
    return raw, frozenset(secret)


def run() -> None:
    stack = pulumi.get_stack()
    raw, secret_keys = runtime_stack_config()
    try:
        # The update of `pulumi up` refuses placeholders; a preview only warns of them.
        config = load_config(stack, raw, secret_keys, deploying=not pulumi.runtime.is_dry_run())
    except ConfigError as error:
        # RunError prints its message without a Python traceback.
        raise pulumi.RunError(str(error)) from None
    for warning in config.warnings:
        pulumi.warn(warning.render())
    try:
        build(stack, config)
    except charts.MissingArchiveError as error:
        raise pulumi.RunError(str(error)) from None
