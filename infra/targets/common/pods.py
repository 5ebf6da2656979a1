"""Pod-spec pieces shared by the components that run their own containers."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s


def restricted_container() -> k8s.core.v1.SecurityContextArgs:
    """The container half of the 'restricted' Pod Security Standard."""
    return k8s.core.v1.SecurityContextArgs(
        allow_privilege_escalation=False,
        capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
        seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
    )


def secret_env(name: str, secret: pulumi.Input[str], key: str) -> k8s.core.v1.EnvVarArgs:
    """An environment variable read from a key of a Secret (``secret`` is its name input)."""
    return k8s.core.v1.EnvVarArgs(
        name=name,
        value_from=k8s.core.v1.EnvVarSourceArgs(
            secret_key_ref=k8s.core.v1.SecretKeySelectorArgs(name=secret, key=key)
        ),
    )
