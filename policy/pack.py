"""The rules of ``policy.rules`` as CrossGuard policies.

Building the ``PolicyPack`` itself starts the analyzer's gRPC server and never returns, so it
happens only in ``policy/__main__.py``; tests build these policy objects and call ``validate``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from policy.rules import RULES, Resource, Rule

PACK_NAME = "pdk-deployer"


def _config(args: Any, rule: Rule) -> Mapping[str, Any]:
    config = dict(args.get_config() or {})
    for key, schema in rule.config_schema.items():
        config.setdefault(key, schema.get("default"))
    return config


def _resource_policy(rule: Rule) -> ResourceValidationPolicy:
    check = rule.check_resource
    assert check is not None

    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        resource = Resource(args.resource_type, args.name, args.props)
        for message in check(resource, _config(args, rule)):
            report(message, None)

    schema = PolicyConfigSchema(properties=dict(rule.config_schema)) if rule.config_schema else None
    return ResourceValidationPolicy(
        name=rule.name,
        description=rule.description,
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=schema,
    )


def _stack_policy(rule: Rule) -> StackValidationPolicy:
    check = rule.check_stack
    assert check is not None

    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        urns = {r.urn: r.name for r in args.resources}
        resources = [
            Resource(
                r.resource_type,
                r.name,
                r.props,
                tuple(urns.get(d.urn, d.name) for d in r.dependencies),
            )
            for r in args.resources
        ]
        by_name = {r.name: r.urn for r in args.resources}
        for name, message in check(resources, _config(args, rule)):
            report(message, by_name.get(name))

    return StackValidationPolicy(
        name=rule.name,
        description=rule.description,
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
    )


def policies() -> list[Policy]:
    return [
        _resource_policy(rule) if rule.check_resource is not None else _stack_policy(rule)
        for rule in RULES
    ]
