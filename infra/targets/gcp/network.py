"""The VPC the cluster, Cloud SQL and Filestore live in, or an existing one by name."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from infra.naming import Naming

PODS_RANGE = "pods"
SERVICES_RANGE = "services"
WEBHOOK_PORTS = ("8443", "9443", "15017")
"""Admission webhooks the platform installs on ports GKE's own control-plane rule (443 and
10250) does not open: Knative and net-istio (8443), KServe (9443), Istio's sidecar injector
(15017, GKE's "Open ports on a private cluster"). cert-manager's webhook uses 10250."""


@dataclass(frozen=True)
class NetworkArgs:
    naming: Naming
    """The stack's naming rules."""
    project: str
    """Project id, for the self links of an existing network."""
    region: str
    """Region of the subnet, router and NAT."""
    node_cidr: str
    """Primary range of a new subnet: node addresses."""
    pods_cidr: str
    """Secondary range ``pods`` of a new subnet (VPC-native pod addresses)."""
    services_cidr: str
    """Secondary range ``services`` of a new subnet."""
    psa_cidr: str
    """Range reserved for Private Service Access (Cloud SQL's private IP) in a new VPC."""
    control_plane_cidr: str
    """The control plane's range, the only source admitted to the webhook ports."""
    node_service_account: pulumi.Input[str]
    """E-mail of the nodes' service account: the firewall rule targets exactly those VMs."""
    existing_network: str = ""
    """Name of an existing VPC to use instead of creating one. It must already have Cloud NAT
    (or another egress), Private Service Access for Cloud SQL, and ``existing_subnetwork``."""
    existing_subnetwork: str = ""
    """Subnet of ``existing_network`` in ``region``, with Private Google Access on."""
    existing_pods_range: str = ""
    """Name of the existing subnet's secondary range for pods."""
    existing_services_range: str = ""
    """Name of the existing subnet's secondary range for services."""
    after: Sequence[pulumi.Resource] = ()
    """What every resource here waits for (the project's APIs)."""


class Network(pulumi.ComponentResource):
    """A custom-mode VPC with one subnet (secondary ranges for pods and services, Private
    Google Access), a Cloud Router with NAT so private nodes can pull public images, and
    Private Service Access for Cloud SQL. With ``existing_network`` only the webhook firewall
    rule is created."""

    network_id: pulumi.Output[str]
    """The network's id (``projects/P/global/networks/N``)."""
    network_name: pulumi.Output[str]
    subnetwork_id: pulumi.Output[str]
    pods_range: str
    services_range: str
    psa_range_name: pulumi.Output[str] | None
    """The reserved range Cloud SQL takes its address from; None on an existing network."""
    ready: list[pulumi.Resource]
    """What the cluster and Cloud SQL must wait for (NAT, the PSA connection)."""

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("pdk:gcp:Network", name, None, opts)
        naming = args.naming
        child = pulumi.ResourceOptions(parent=self, depends_on=list(args.after))
        self.ready = []
        self.psa_range_name = None
        if args.existing_network:
            self.network_id = pulumi.Output.from_input(
                f"projects/{args.project}/global/networks/{args.existing_network}"
            )
            self.network_name = pulumi.Output.from_input(args.existing_network)
            self.subnetwork_id = pulumi.Output.from_input(
                f"projects/{args.project}/regions/{args.region}/subnetworks/"
                f"{args.existing_subnetwork}"
            )
            self.pods_range = args.existing_pods_range
            self.services_range = args.existing_services_range
        else:
            self._create(name, args, naming, child)
        gcp.compute.Firewall(
            f"{name}-webhooks",
            name=naming.cloud_name("webhooks"),
            description="Admission webhooks on private nodes, from the GKE control plane",
            network=self.network_id,
            direction="INGRESS",
            source_ranges=[args.control_plane_cidr],
            allows=[gcp.compute.FirewallAllowArgs(protocol="tcp", ports=list(WEBHOOK_PORTS))],
            target_service_accounts=[args.node_service_account],
            opts=child,
        )
        self.register_outputs({"network": self.network_id, "subnetwork": self.subnetwork_id})

    def _create(
        self, name: str, args: NetworkArgs, naming: Naming, child: pulumi.ResourceOptions
    ) -> None:
        network = gcp.compute.Network(
            f"{name}-vpc",
            name=naming.cloud_name("vpc"),
            auto_create_subnetworks=False,
            routing_mode="REGIONAL",
            opts=child,
        )
        subnet = gcp.compute.Subnetwork(
            f"{name}-nodes",
            name=naming.cloud_name("nodes"),
            network=network.id,
            region=args.region,
            ip_cidr_range=args.node_cidr,
            # Private nodes reach Cloud Storage, Artifact Registry and the SQL Admin API
            # without NAT.
            private_ip_google_access=True,
            secondary_ip_ranges=[
                gcp.compute.SubnetworkSecondaryIpRangeArgs(
                    range_name=PODS_RANGE, ip_cidr_range=args.pods_cidr
                ),
                gcp.compute.SubnetworkSecondaryIpRangeArgs(
                    range_name=SERVICES_RANGE, ip_cidr_range=args.services_cidr
                ),
            ],
            opts=child,
        )
        router = gcp.compute.Router(
            f"{name}-router",
            name=naming.cloud_name("router"),
            network=network.id,
            region=args.region,
            opts=child,
        )
        nat = gcp.compute.RouterNat(
            f"{name}-nat",
            name=naming.cloud_name("nat"),
            router=router.name,
            region=args.region,
            nat_ip_allocate_option="AUTO_ONLY",
            source_subnetwork_ip_ranges_to_nat="LIST_OF_SUBNETWORKS",
            subnetworks=[
                gcp.compute.RouterNatSubnetworkArgs(
                    name=subnet.id, source_ip_ranges_to_nats=["ALL_IP_RANGES"]
                )
            ],
            # Many pods pull from Docker Hub at once on a fresh cluster; 64 ports per VM
            # (the static default) can run out.
            enable_dynamic_port_allocation=True,
            log_config=gcp.compute.RouterNatLogConfigArgs(enable=True, filter="ERRORS_ONLY"),
            opts=child,
        )
        psa = ipaddress.ip_network(args.psa_cidr)
        psa_range = gcp.compute.GlobalAddress(
            f"{name}-psa-range",
            name=naming.cloud_name("psa"),
            purpose="VPC_PEERING",
            address_type="INTERNAL",
            address=str(psa.network_address),
            prefix_length=psa.prefixlen,
            network=network.id,
            opts=child,
        )
        # Cloud SQL keeps producer resources for a while after its instance is deleted, so
        # deleting the peering fails and the VPC cannot go (terraform-provider-google#16275).
        # REMOVE_PEERING lets a throwaway stack be destroyed; kept stacks use the default.
        connection = gcp.servicenetworking.Connection(
            f"{name}-psa",
            network=network.id,
            service="servicenetworking.googleapis.com",
            reserved_peering_ranges=[psa_range.name],
            deletion_policy="REMOVE_PEERING" if naming.ephemeral else None,
            opts=child,
        )
        self.network_id = network.id
        self.network_name = network.name
        self.subnetwork_id = subnet.id
        self.pods_range = PODS_RANGE
        self.services_range = SERVICES_RANGE
        self.psa_range_name = psa_range.name
        self.ready = [nat, connection]
