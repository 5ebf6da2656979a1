"""IAM helpers of the AWS target: trust policies and IAM roles for service accounts (IRSA).

Every role a Kubernetes workload assumes trusts the cluster's OIDC provider for exactly the
service accounts that need it (``sub`` and ``aud`` conditions), so no other pod can take it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.contract import ServiceAccountRef

MANAGED_POLICY = "arn:aws:iam::aws:policy/"
"""Prefix of AWS-managed policy ARNs (commercial partition)."""

ROLE_ARN_ANNOTATION = "eks.amazonaws.com/role-arn"
"""The service-account annotation EKS's pod identity webhook reads."""


def document(statements: Sequence[Mapping[str, Any]]) -> str:
    """An IAM policy document."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, sort_keys=True)


def service_trust(service: str) -> str:
    """Trust policy letting an AWS service (``eks.amazonaws.com``) assume the role."""
    return document(
        [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]
    )


@dataclass(frozen=True)
class Oidc:
    """The cluster's OIDC identity provider."""

    arn: pulumi.Input[str]
    """ARN of the IAM OIDC provider."""
    issuer: pulumi.Input[str]
    """Issuer URL (``https://oidc.eks.<region>.amazonaws.com/id/<id>``)."""


def irsa_trust(oidc: Oidc, accounts: Sequence[ServiceAccountRef]) -> pulumi.Output[str]:
    """Trust policy for exactly ``accounts``, through the cluster's OIDC provider."""

    def render(arn: str, issuer: str) -> str:
        host = issuer.removeprefix("https://")
        subjects = [f"system:serviceaccount:{a.namespace}:{a.name}" for a in accounts]
        return document(
            [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": arn},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        "StringEquals": {
                            f"{host}:sub": subjects if len(subjects) > 1 else subjects[0],
                            f"{host}:aud": "sts.amazonaws.com",
                        }
                    },
                }
            ]
        )

    return pulumi.Output.all(oidc.arn, oidc.issuer).apply(lambda args: render(*args))


def service_account_role(
    resource_name: str,
    *,
    name: str,
    oidc: Oidc,
    accounts: Sequence[ServiceAccountRef],
    tags: Mapping[str, str],
    inline_policy: pulumi.Input[str] | None = None,
    managed_policies: Sequence[str] = (),
    opts: pulumi.ResourceOptions,
) -> aws.iam.Role:
    """An IRSA role for ``accounts`` with an inline policy and/or AWS-managed policies
    (names after ``arn:aws:iam::aws:policy/``)."""
    role = aws.iam.Role(
        resource_name,
        name=name,
        assume_role_policy=irsa_trust(oidc, accounts),
        tags=dict(tags),
        opts=opts,
    )
    child = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(parent=role))
    if inline_policy is not None:
        aws.iam.RolePolicy(
            f"{resource_name}-policy", role=role.id, policy=inline_policy, opts=child
        )
    for policy in managed_policies:
        aws.iam.RolePolicyAttachment(
            f"{resource_name}-{policy.rsplit('/', 1)[-1]}",
            role=role.name,
            policy_arn=f"{MANAGED_POLICY}{policy}",
            opts=child,
        )
    return role
