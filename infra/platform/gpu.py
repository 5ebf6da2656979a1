"""GPU enablement: the NVIDIA device plugin, where the target's GPU nodes lack it.

The plugin advertises ``nvidia.com/gpu`` on GPU nodes; without it MLDE's GPU pods never
schedule. Managed GPU images differ: GKE installs the plugin itself (its node pools carry the
driver installation setting), EKS's NVIDIA AMIs ship drivers but not the plugin, and an
on-prem cluster has whatever its operator installed. The target says which case it is
(``NodePlacement.needs_device_plugin``).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra import charts
from infra.contract import NodePlacement

NAMESPACE = "nvidia-device-plugin"


@dataclass(frozen=True)
class GpuEnablementArgs:
    nodes: NodePlacement
    """The GPU label and taint the plugin's DaemonSet must select and tolerate."""
    chart_version: str
    """Version of the nvidia-device-plugin chart."""


class GpuEnablement(pulumi.ComponentResource):
    """Installs the NVIDIA device plugin on GPU nodes only."""

    release: k8s.helm.v3.Release

    def __init__(
        self, name: str, args: GpuEnablementArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("pdk:platform:GpuEnablement", name, None, opts)
        label_key, label_value = args.nodes.gpu_label
        self.release = charts.release(
            f"{name}-device-plugin",
            chart=charts.NVIDIA_DEVICE_PLUGIN,
            version=args.chart_version,
            release_name="nvidia-device-plugin",
            namespace=NAMESPACE,
            values={
                # Only GPU nodes. The chart's default affinity requires labels that only
                # node-feature-discovery sets; without clearing it the DaemonSet runs nowhere.
                "nodeSelector": {label_key: label_value},
                "affinity": None,
                "tolerations": [
                    args.nodes.gpu_toleration,
                    {"key": "CriticalAddonsOnly", "operator": "Exists"},
                ],
                "priorityClassName": "system-node-critical",
            },
            allow_null_values=True,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"release": self.release.name})
