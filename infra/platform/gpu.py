"""GPU enablement: the NVIDIA device plugin, where the target's GPU nodes lack it.

The plugin advertises ``nvidia.com/gpu`` on GPU nodes; without it MLDE's GPU pods never
schedule. Managed GPU images differ: GKE installs the plugin itself (its node pools carry the
driver installation setting), EKS's NVIDIA AMIs ship drivers but not the plugin, and an
on-prem cluster has whatever its operator installed. The target says which case it is
(``NodePlacement.needs_device_plugin``).

The plugin is our own DaemonSet (the shape of NVIDIA's static manifest), not NVIDIA's chart:
every chart release up to 0.20.0 renders, next to the plugin, a privileged MPS control-daemon
DaemonSet that no value turns off and that only schedules on nodes labelled for MPS. MPS
(sharing one GPU between processes) is not offered here.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra.contract import NodePlacement
from infra.naming import Naming
from infra.sizing import Resources

NAMESPACE = "nvidia-device-plugin"
IMAGE = "nvcr.io/nvidia/k8s-device-plugin"
_SOCKETS = "/var/lib/kubelet/device-plugins"
"""The kubelet's device-plugin directory, where the plugin registers its socket."""


@dataclass(frozen=True)
class GpuEnablementArgs:
    naming: Naming
    """The stack's naming rules."""
    nodes: NodePlacement
    """The GPU label and taint the plugin's DaemonSet must select and tolerate."""
    version: str
    """NVIDIA device plugin release (image tag without the ``v``), e.g. 0.17.4."""
    resources: Resources
    """Requests and limits of the plugin container."""


class GpuEnablement(pulumi.ComponentResource):
    """Installs the NVIDIA device plugin on GPU nodes only."""

    daemon_set: k8s.apps.v1.DaemonSet

    def __init__(
        self, name: str, args: GpuEnablementArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("pdk:platform:GpuEnablement", name, None, opts)
        naming = args.naming
        labels = {"app.kubernetes.io/name": "nvidia-device-plugin"}
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=naming.metadata(NAMESPACE, None, labels),
            opts=pulumi.ResourceOptions(parent=self),
        )
        label_key, label_value = args.nodes.gpu_label
        taint_key, taint_value, taint_effect = args.nodes.gpu_taint
        self.daemon_set = k8s.apps.v1.DaemonSet(
            f"{name}-device-plugin",
            metadata=naming.metadata("nvidia-device-plugin", NAMESPACE, labels),
            spec=k8s.apps.v1.DaemonSetSpecArgs(
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=labels),
                update_strategy=k8s.apps.v1.DaemonSetUpdateStrategyArgs(type="RollingUpdate"),
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels={**naming.labels, **labels}),
                    spec=k8s.core.v1.PodSpecArgs(
                        # Only GPU nodes, through their taint; the plugin must be running
                        # before anything else can use the GPUs.
                        node_selector={label_key: label_value},
                        tolerations=[
                            k8s.core.v1.TolerationArgs(
                                key=taint_key,
                                operator="Equal",
                                value=taint_value,
                                effect=taint_effect,
                            ),
                            k8s.core.v1.TolerationArgs(key="CriticalAddonsOnly", operator="Exists"),
                        ],
                        priority_class_name="system-node-critical",
                        # The plugin talks to the kubelet over its socket, not to the API.
                        automount_service_account_token=False,
                        security_context=k8s.core.v1.PodSecurityContextArgs(
                            seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault")
                        ),
                        containers=[
                            k8s.core.v1.ContainerArgs(
                                name="nvidia-device-plugin",
                                image=f"{IMAGE}:v{args.version.removeprefix('v')}",
                                env=[
                                    # A GPU node whose driver is not ready yet keeps the pod
                                    # running (and retrying) instead of crash-looping.
                                    k8s.core.v1.EnvVarArgs(name="FAIL_ON_INIT_ERROR", value="false")
                                ],
                                resources=args.resources.args(),
                                # Runs as root on purpose: the kubelet's socket directory is
                                # root's. No privileges, no escalation, no capabilities.
                                security_context=k8s.core.v1.SecurityContextArgs(
                                    allow_privilege_escalation=False,
                                    privileged=False,
                                    capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
                                    seccomp_profile=k8s.core.v1.SeccompProfileArgs(
                                        type="RuntimeDefault"
                                    ),
                                ),
                                volume_mounts=[
                                    k8s.core.v1.VolumeMountArgs(
                                        name="device-plugins", mount_path=_SOCKETS
                                    )
                                ],
                            )
                        ],
                        volumes=[
                            k8s.core.v1.VolumeArgs(
                                name="device-plugins",
                                host_path=k8s.core.v1.HostPathVolumeSourceArgs(
                                    path=_SOCKETS, type="Directory"
                                ),
                            )
                        ],
                    ),
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace]),
        )
        self.register_outputs({"daemonSet": self.daemon_set.metadata.name})
