"""The GKE Standard control plane, its kubeconfig and the Kubernetes provider every layer
above uses."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from infra.naming import Naming

CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
"""Nodes get the broad scope and are limited by IAM instead (Google's recommendation for
custom node service accounts)."""
AUTH_PLUGIN = "gke-gcloud-auth-plugin"


def kubeconfig(name: str, endpoint: str, certificate: str) -> str:
    """A kubeconfig that authenticates with ``gke-gcloud-auth-plugin``, so it holds no
    credential of its own: whoever uses it needs Google credentials with access to the
    cluster (the ``auth-provider: gcp`` form is gone since kubectl 1.26)."""
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": name,
                    "cluster": {
                        "server": f"https://{endpoint}",
                        "certificate-authority-data": certificate,
                    },
                }
            ],
            "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
            "current-context": name,
            "users": [
                {
                    "name": name,
                    "user": {
                        "exec": {
                            "apiVersion": "client.authentication.k8s.io/v1beta1",
                            "command": AUTH_PLUGIN,
                            "provideClusterInfo": True,
                            "installHint": "Install gke-gcloud-auth-plugin: gcloud components "
                            "install gke-gcloud-auth-plugin",
                            "interactiveMode": "Never",
                        }
                    },
                }
            ],
        },
        indent=2,
    )


@dataclass(frozen=True)
class GkeClusterArgs:
    naming: Naming
    """The stack's naming rules: deletion-protected and protected unless ephemeral."""
    name: str
    """Cluster name (unique in the project and location)."""
    project: str
    """Project id; the Workload Identity pool is ``<project>.svc.id.goog``."""
    location: str
    """A zone (zonal cluster, the default) or a region (regional control plane)."""
    network: pulumi.Input[str]
    subnetwork: pulumi.Input[str]
    pods_range: str
    """Secondary range name of the subnet for pod addresses."""
    services_range: str
    """Secondary range name of the subnet for Service addresses."""
    release_channel: str
    """REGULAR, STABLE or RAPID: GKE upgrades the cluster within the channel."""
    min_version: str
    """MAJOR.MINOR floor of the control plane (``min_master_version`` accepts a fuzzy version)."""
    api_access_cidrs: Sequence[str]
    """Who may reach the public endpoint (master authorized networks). Nodes reach the
    control plane privately whatever this holds."""
    control_plane_cidr: str
    """The /28 the control plane's private endpoint takes (``master_ipv4_cidr_block``)."""
    node_service_account: pulumi.Input[str]
    """Service account of the temporary default pool (see ``GkeCluster``)."""
    gpu_metrics: bool
    """Collect NVIDIA DCGM metrics (GPU stacks)."""
    labels: Mapping[str, str]
    """Labels of the cluster resource (GCP alphabet)."""
    after: Sequence[pulumi.Resource] = ()
    """What the cluster waits for: the APIs, NAT (private nodes pull through it)."""


class GkeCluster(pulumi.ComponentResource):
    """A GKE Standard cluster: VPC-native, Dataplane V2, Workload Identity, shielded nodes,
    private nodes, the public endpoint limited to ``api_access_cidrs``, and no default pool
    (``NodePools`` adds the CPU and GPU pools)."""

    name: pulumi.Output[str]
    id: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    """A secret: the endpoint and CA are not credentials, but the whole file is treated as one."""
    provider: k8s.Provider

    def __init__(self, name: str, args: GkeClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("pdk:gcp:GkeCluster", name, None, opts)
        naming = args.naming
        monitoring = ["SYSTEM_COMPONENTS", *(["DCGM"] if args.gpu_metrics else [])]
        cluster = gcp.container.Cluster(
            f"{name}-cluster",
            name=args.name,
            location=args.location,
            network=args.network,
            subnetwork=args.subnetwork,
            # GKE cannot create a cluster without a pool: it creates this one and, with
            # remove_default_node_pool, deletes it right away.
            remove_default_node_pool=True,
            initial_node_count=1,
            # pulumi-gcp's own guard (default true since provider 5): a kept stack is torn
            # down in two steps, set it false with `pulumi up`, then destroy (README).
            deletion_protection=not naming.ephemeral,
            release_channel=gcp.container.ClusterReleaseChannelArgs(channel=args.release_channel),
            min_master_version=args.min_version,
            # Node upgrades evict MLDE trials (they resume from a checkpoint); keep them to
            # weekend nights (UTC).
            maintenance_policy=gcp.container.ClusterMaintenancePolicyArgs(
                recurring_window=gcp.container.ClusterMaintenancePolicyRecurringWindowArgs(
                    start_time="2026-01-03T02:00:00Z",
                    end_time="2026-01-03T08:00:00Z",
                    recurrence="FREQ=WEEKLY;BYDAY=SA,SU",
                )
            ),
            networking_mode="VPC_NATIVE",
            ip_allocation_policy=gcp.container.ClusterIpAllocationPolicyArgs(
                cluster_secondary_range_name=args.pods_range,
                services_secondary_range_name=args.services_range,
            ),
            datapath_provider="ADVANCED_DATAPATH",
            enable_shielded_nodes=True,
            workload_identity_config=gcp.container.ClusterWorkloadIdentityConfigArgs(
                workload_pool=f"{args.project}.svc.id.goog"
            ),
            private_cluster_config=gcp.container.ClusterPrivateClusterConfigArgs(
                enable_private_nodes=True,
                # A private-only endpoint would need Pulumi to run inside the VPC.
                enable_private_endpoint=False,
                master_ipv4_cidr_block=args.control_plane_cidr,
            ),
            master_authorized_networks_config=gcp.container.ClusterMasterAuthorizedNetworksConfigArgs(
                cidr_blocks=[
                    gcp.container.ClusterMasterAuthorizedNetworksConfigCidrBlockArgs(
                        cidr_block=cidr, display_name=f"api-access-{index}"
                    )
                    for index, cidr in enumerate(args.api_access_cidrs)
                ],
                gcp_public_cidrs_access_enabled=False,
            ),
            cluster_autoscaling=gcp.container.ClusterClusterAutoscalingArgs(
                # Scales idle GPU nodes down sooner than the balanced profile.
                autoscaling_profile="OPTIMIZE_UTILIZATION"
            ),
            logging_config=gcp.container.ClusterLoggingConfigArgs(
                enable_components=["SYSTEM_COMPONENTS", "WORKLOADS"]
            ),
            monitoring_config=gcp.container.ClusterMonitoringConfigArgs(
                enable_components=monitoring,
                managed_prometheus=gcp.container.ClusterMonitoringConfigManagedPrometheusArgs(
                    enabled=True
                ),
            ),
            security_posture_config=gcp.container.ClusterSecurityPostureConfigArgs(
                mode="BASIC", vulnerability_mode="VULNERABILITY_DISABLED"
            ),
            # Only for the short-lived default pool: without it that pool runs as the Compute
            # Engine default account, which some organisations disable
            # (terraform-provider-google#17511).
            node_config=gcp.container.ClusterNodeConfigArgs(
                service_account=args.node_service_account,
                oauth_scopes=[CLOUD_PLATFORM_SCOPE],
                workload_metadata_config=gcp.container.ClusterNodeConfigWorkloadMetadataConfigArgs(
                    mode="GKE_METADATA"
                ),
                shielded_instance_config=gcp.container.ClusterNodeConfigShieldedInstanceConfigArgs(
                    enable_secure_boot=True, enable_integrity_monitoring=True
                ),
            ),
            resource_labels=dict(args.labels),
            opts=naming.stateful(
                pulumi.ResourceOptions(
                    parent=self,
                    depends_on=list(args.after),
                    # A cluster-level node_config otherwise replaces the cluster on every
                    # apply once the default pool is gone (terraform-provider-google#12070).
                    ignore_changes=["node_config"],
                )
            ),
        )
        self.name = cluster.name
        self.id = cluster.id
        self.endpoint = cluster.endpoint
        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(
                cluster.name,
                cluster.endpoint,
                cluster.master_auth.apply(lambda auth: auth.cluster_ca_certificate or ""),
            ).apply(lambda parts: kubeconfig(parts[0], parts[1], parts[2]))
        )
        self.provider = k8s.Provider(
            f"{name}-provider",
            kubeconfig=self.kubeconfig,
            delete_unreachable=True if naming.ephemeral else None,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"name": self.name, "endpoint": self.endpoint})
