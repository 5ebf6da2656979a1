"""``StackConfig``: the keys every stack has, and the active target's section.

It gathers the groups, which live next to what they configure (``infra/platform/config.py``,
``infra/flow/config.py``).

The target's own keys are not fields here: each target owns a section model in
``infra/targets/<t>/config.py``, the loader validates the active one, and the target reads it
with ``config.section(AwsConfig)``, typed. So adding a target changes nothing in this file.
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import Field

from infra import versions
from infra.config.problems import Problem
from infra.config.types import DnsLabel, KubernetesVersion, Model
from infra.flow.config import FlowConfig
from infra.platform.config import (
    CertManagerConfig,
    ExposeConfig,
    GatewayConfig,
    GpuConfig,
    IstioConfig,
    KnativeConfig,
    KserveConfig,
    MldeConfig,
    MldmConfig,
    PlatformConfig,
    PostgresConfig,
    SharedFsConfig,
    TlsConfig,
)

S = TypeVar("S", bound=Model)


class StackConfig(Model):
    """Everything one stack can set. See ``infra.config.keys`` for how keys are named."""

    target: str = Field(description="Where the platform runs.")
    ephemeral: bool = Field(
        False,
        description="Throwaway stack (CI, demos): stateful resources are not protected and are "
        "deleted with the stack. Keep false for anything holding real data.",
    )
    deployment_id: DnsLabel = Field(
        "",
        description="Short id placed in resource names and the deployment-id label, so leftovers "
        "can be found. Empty: the stack name.",
    )
    kubernetes_version: KubernetesVersion = Field(
        versions.KUBERNETES.version,
        description="Kubernetes MAJOR.MINOR the cluster runs; manifests are validated against it.",
    )
    gpu: GpuConfig = Field(default_factory=GpuConfig)
    shared_fs: SharedFsConfig = Field(default_factory=SharedFsConfig)
    postgres: PostgresConfig = Field(default_factory=PostgresConfig)
    expose: ExposeConfig = Field(default_factory=ExposeConfig)
    cert_manager: CertManagerConfig = Field(default_factory=CertManagerConfig)
    istio: IstioConfig = Field(default_factory=IstioConfig)
    knative: KnativeConfig = Field(default_factory=KnativeConfig)
    kserve: KserveConfig = Field(default_factory=KserveConfig)
    platform: PlatformConfig = Field(default_factory=PlatformConfig)
    gateway: GatewayConfig = Field(default_factory=GatewayConfig)
    tls: TlsConfig = Field(default_factory=TlsConfig)
    mldm: MldmConfig = Field(default_factory=MldmConfig)
    mlde: MldeConfig = Field(default_factory=MldeConfig)
    flow: FlowConfig = Field(default_factory=FlowConfig)
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
