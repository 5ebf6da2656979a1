"""The AWS network: a new VPC over several zones, or an existing VPC's subnets."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import pulumi
import pulumi_aws as aws

from infra.naming import Naming

ELB_TAG = "kubernetes.io/role/elb"
"""Marks subnets where internet-facing load balancers go."""
INTERNAL_ELB_TAG = "kubernetes.io/role/internal-elb"
"""Marks subnets where internal load balancers go."""


def subnet_ranges(cidr: str, zones: int) -> tuple[list[str], list[str]]:
    """(private, public) CIDRs for ``zones`` zones, carved from the VPC range.

    The VPC range is cut in eight: the first ``zones`` eighths are the private subnets (nodes
    and pods take their addresses, so they get the space), and the last eighth is cut in eight
    again for the public subnets, which hold only load balancers and NAT gateways.
    """
    network = ipaddress.IPv4Network(cidr)
    eighths = list(network.subnets(prefixlen_diff=3))
    public = list(eighths[-1].subnets(prefixlen_diff=3))
    return [str(n) for n in eighths[:zones]], [str(n) for n in public[:zones]]


@dataclass(frozen=True)
class Admit:
    """Who one single-port security group lets in: a CIDR or another security group."""

    description: str
    cidr_ipv4: pulumi.Input[str] | None = None
    source_group_id: pulumi.Input[str] | None = None


def single_port_group(
    resource_name: str,
    rule_name: str,
    *,
    name: str,
    description: str,
    vpc_id: pulumi.Input[str],
    port: int,
    admit: Admit,
    tags: Mapping[str, str],
    opts: pulumi.ResourceOptions,
) -> aws.ec2.SecurityGroup:
    """A security group with exactly one ingress rule, TCP ``port`` from ``admit``.

    The rule is its own resource (not an inline ``ingress`` block), so a change to it never
    replaces the group, and a test can read every rule from one resource type."""
    group = aws.ec2.SecurityGroup(
        resource_name,
        name=name,
        description=description,
        vpc_id=vpc_id,
        tags=dict(tags),
        opts=opts,
    )
    aws.vpc.SecurityGroupIngressRule(
        rule_name,
        security_group_id=group.id,
        description=admit.description,
        ip_protocol="tcp",
        from_port=port,
        to_port=port,
        cidr_ipv4=admit.cidr_ipv4,
        referenced_security_group_id=admit.source_group_id,
        tags=dict(tags),
        opts=opts,
    )
    return group


@dataclass(frozen=True)
class NetworkArgs:
    naming: Naming
    """The stack's naming rules."""
    region: str
    """The AWS region."""
    cluster_name: str
    """EKS cluster name, for the subnets' cluster tag."""
    tags: Mapping[str, str]
    """Tags of every resource."""
    zones: Sequence[str]
    """Availability zones of a new VPC (ignored with ``existing_vpc_id``)."""
    cidr: str
    """Range of a new VPC (ignored with ``existing_vpc_id``)."""
    nat_gateways: Literal["perAz", "single"]
    """One NAT gateway per zone, or one for the VPC."""
    existing_vpc_id: str = ""
    """Use this VPC instead of creating one."""
    existing_private_subnet_ids: Sequence[str] = ()
    """Private subnets of the existing VPC."""
    existing_public_subnet_ids: Sequence[str] = ()
    """Public subnets of the existing VPC."""


class Network(pulumi.ComponentResource):
    """The VPC, subnets tagged for load balancers, NAT and an S3 gateway endpoint.

    Nodes, the database and EFS sit in private subnets; only load balancers and NAT gateways
    are public. S3 traffic goes through a gateway endpoint, not the NAT gateways (free, and it
    keeps bucket traffic inside AWS).
    """

    vpc_id: pulumi.Output[str]
    vpc_cidr: pulumi.Output[str]
    private_subnet_ids: list[pulumi.Output[str]]
    public_subnet_ids: list[pulumi.Output[str]]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("pdk:target:Network", name, None, opts)
        self._args = args
        if args.existing_vpc_id:
            self._adopt(name)
        else:
            self._create(name)
        self.register_outputs(
            {
                "vpcId": self.vpc_id,
                "vpcCidr": self.vpc_cidr,
                "privateSubnetIds": self.private_subnet_ids,
                "publicSubnetIds": self.public_subnet_ids,
            }
        )

    def _tags(self, role: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        return {
            **self._args.tags,
            "Name": self._args.naming.cloud_name(role, max_length=255),
            **(extra or {}),
        }

    def _adopt(self, name: str) -> None:
        args = self._args
        child = pulumi.ResourceOptions(parent=self)
        vpc = aws.ec2.get_vpc_output(
            id=args.existing_vpc_id, opts=pulumi.InvokeOptions(parent=self)
        )
        self.vpc_id = pulumi.Output.from_input(args.existing_vpc_id)
        self.vpc_cidr = vpc.cidr_block
        self.private_subnet_ids = [
            pulumi.Output.from_input(s) for s in args.existing_private_subnet_ids
        ]
        self.public_subnet_ids = [
            pulumi.Output.from_input(s) for s in args.existing_public_subnet_ids
        ]
        # Existing subnets are tagged, not replaced, so the cloud controller finds them.
        tagged = [(s, INTERNAL_ELB_TAG) for s in args.existing_private_subnet_ids] + [
            (s, ELB_TAG) for s in args.existing_public_subnet_ids
        ]
        for subnet, role_tag in tagged:
            aws.ec2.Tag(
                f"{name}-{subnet}-elb-tag", resource_id=subnet, key=role_tag, value="1", opts=child
            )
            aws.ec2.Tag(
                f"{name}-{subnet}-cluster-tag",
                resource_id=subnet,
                key=f"kubernetes.io/cluster/{args.cluster_name}",
                value="shared",
                opts=child,
            )

    def _create(self, name: str) -> None:
        args = self._args
        child = pulumi.ResourceOptions(parent=self)
        cluster_tag = {f"kubernetes.io/cluster/{args.cluster_name}": "shared"}
        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args.cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags=self._tags("vpc"),
            opts=child,
        )
        self.vpc_id, self.vpc_cidr = vpc.id, vpc.cidr_block
        gateway = aws.ec2.InternetGateway(
            f"{name}-igw", vpc_id=vpc.id, tags=self._tags("igw"), opts=child
        )
        public_routes = aws.ec2.RouteTable(
            f"{name}-public-routes",
            vpc_id=vpc.id,
            routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", gateway_id=gateway.id)],
            tags=self._tags("public"),
            opts=child,
        )
        private_ranges, public_ranges = subnet_ranges(args.cidr, len(args.zones))
        self.public_subnet_ids, self.private_subnet_ids = [], []
        nat_ids: list[pulumi.Output[str]] = []
        private_route_ids: list[pulumi.Output[str]] = []
        for index, zone in enumerate(args.zones):
            public = aws.ec2.Subnet(
                f"{name}-public-{zone}",
                vpc_id=vpc.id,
                cidr_block=public_ranges[index],
                availability_zone=zone,
                map_public_ip_on_launch=False,
                tags=self._tags(f"public-{zone}", {ELB_TAG: "1", **cluster_tag}),
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{zone}-association",
                subnet_id=public.id,
                route_table_id=public_routes.id,
                opts=child,
            )
            self.public_subnet_ids.append(public.id)
            if args.nat_gateways == "perAz" or index == 0:
                address = aws.ec2.Eip(
                    f"{name}-nat-{zone}-ip",
                    domain="vpc",
                    tags=self._tags(f"nat-{zone}"),
                    opts=child,
                )
                nat = aws.ec2.NatGateway(
                    f"{name}-nat-{zone}",
                    allocation_id=address.id,
                    subnet_id=public.id,
                    tags=self._tags(f"nat-{zone}"),
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[gateway]),
                )
                nat_ids.append(nat.id)
            private = aws.ec2.Subnet(
                f"{name}-private-{zone}",
                vpc_id=vpc.id,
                cidr_block=private_ranges[index],
                availability_zone=zone,
                tags=self._tags(f"private-{zone}", {INTERNAL_ELB_TAG: "1", **cluster_tag}),
                opts=child,
            )
            routes = aws.ec2.RouteTable(
                f"{name}-private-{zone}-routes",
                vpc_id=vpc.id,
                routes=[
                    aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", nat_gateway_id=nat_ids[-1])
                ],
                tags=self._tags(f"private-{zone}"),
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-{zone}-association",
                subnet_id=private.id,
                route_table_id=routes.id,
                opts=child,
            )
            self.private_subnet_ids.append(private.id)
            private_route_ids.append(routes.id)
        aws.ec2.VpcEndpoint(
            f"{name}-s3-endpoint",
            vpc_id=vpc.id,
            service_name=f"com.amazonaws.{args.region}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=private_route_ids,
            tags=self._tags("s3-endpoint"),
            opts=child,
        )
