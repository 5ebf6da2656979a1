"""The EKS control plane: its role, secrets encryption, OIDC provider, kubeconfig and the
Kubernetes provider every layer above uses."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from infra.naming import Naming
from infra.targets.aws.iam import Oidc, document, service_trust

LOG_TYPES = ("api", "audit", "authenticator")
"""Control-plane logs sent to CloudWatch: who did what, and who authenticated."""


def kubeconfig(name: str, endpoint: str, certificate: str, region: str) -> str:
    """A kubeconfig that authenticates with ``aws eks get-token`` (AWS CLI v2), so it holds no
    credential of its own: whoever uses it needs AWS credentials with access to the cluster."""
    user = f"aws-{name}"
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": name,
                    "cluster": {"server": endpoint, "certificate-authority-data": certificate},
                }
            ],
            "contexts": [{"name": name, "context": {"cluster": name, "user": user}}],
            "current-context": name,
            "users": [
                {
                    "name": user,
                    "user": {
                        "exec": {
                            "apiVersion": "client.authentication.k8s.io/v1beta1",
                            "command": "aws",
                            "args": [
                                "eks",
                                "get-token",
                                "--cluster-name",
                                name,
                                "--region",
                                region,
                                "--output",
                                "json",
                            ],
                            "interactiveMode": "Never",
                        }
                    },
                }
            ],
        },
        indent=2,
    )


@dataclass(frozen=True)
class EksClusterArgs:
    naming: Naming
    """The stack's naming rules."""
    name: str
    """Cluster name (account- and region-unique)."""
    region: str
    """The AWS region."""
    version: str
    """Kubernetes MAJOR.MINOR."""
    subnet_ids: Sequence[pulumi.Input[str]]
    """Private subnets for the control plane's network interfaces."""
    api_access_cidrs: Sequence[str]
    """Who may reach the public API endpoint; the private endpoint is always on."""
    tags: Mapping[str, str]
    """Tags of every resource."""


class EksCluster(pulumi.ComponentResource):
    """An EKS cluster with envelope-encrypted Secrets, audit logs and an OIDC provider.

    Access uses EKS access entries (``API`` mode); whoever runs ``pulumi up`` becomes cluster
    admin, which is what the Kubernetes provider below needs.
    """

    name: pulumi.Output[str]
    security_group_id: pulumi.Output[str]
    """The security group EKS attaches to the control plane and managed nodes."""
    oidc: Oidc
    kubeconfig: pulumi.Output[str]
    """A secret: the endpoint and CA are not credentials, but the whole file is treated as one."""
    provider: k8s.Provider

    def __init__(self, name: str, args: EksClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("pdk:target:EksCluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        role = aws.iam.Role(
            f"{name}-role",
            name=args.naming.cloud_name("cluster", max_length=64),
            assume_role_policy=service_trust("eks.amazonaws.com"),
            tags=tags,
            opts=child,
        )
        attachment = aws.iam.RolePolicyAttachment(
            f"{name}-role-policy",
            role=role.name,
            policy_arn="arn:aws:iam::aws:policy/AmazonEKSClusterPolicy",
            opts=child,
        )
        key = aws.kms.Key(
            f"{name}-secrets-key",
            description=f"Envelope encryption of Kubernetes Secrets in EKS cluster {args.name}",
            enable_key_rotation=True,
            deletion_window_in_days=7 if args.naming.ephemeral else 30,
            tags=tags,
            opts=args.naming.stateful(child),
        )
        # The key's default policy delegates to IAM, so the role needs an IAM grant to use it,
        # in place before the cluster encrypts its first Secret.
        key_access = aws.iam.RolePolicy(
            f"{name}-role-kms",
            role=role.id,
            policy=key.arn.apply(
                lambda arn: document(
                    [
                        {
                            "Effect": "Allow",
                            "Action": [
                                "kms:Encrypt",
                                "kms:Decrypt",
                                "kms:DescribeKey",
                                "kms:ListGrants",
                            ],
                            "Resource": arn,
                        }
                    ]
                )
            ),
            opts=child,
        )
        cluster = aws.eks.Cluster(
            f"{name}-cluster",
            name=args.name,
            version=args.version,
            role_arn=role.arn,
            vpc_config=aws.eks.ClusterVpcConfigArgs(
                subnet_ids=list(args.subnet_ids),
                endpoint_private_access=True,
                endpoint_public_access=True,
                public_access_cidrs=list(args.api_access_cidrs),
            ),
            access_config=aws.eks.ClusterAccessConfigArgs(
                authentication_mode="API",
                bootstrap_cluster_creator_admin_permissions=True,
            ),
            encryption_config=aws.eks.ClusterEncryptionConfigArgs(
                provider=aws.eks.ClusterEncryptionConfigProviderArgs(key_arn=key.arn),
                resources=["secrets"],
            ),
            enabled_cluster_log_types=list(LOG_TYPES),
            tags=tags,
            opts=args.naming.stateful(
                pulumi.ResourceOptions(parent=self, depends_on=[attachment, key_access])
            ),
        )
        issuer = cluster.identities.apply(lambda ids: ids[0].oidcs[0].issuer)  # type: ignore[index]
        provider_oidc = aws.iam.OpenIdConnectProvider(
            f"{name}-oidc",
            url=issuer,
            client_id_lists=["sts.amazonaws.com"],
            tags=tags,
            opts=child,
        )
        self.name = cluster.name
        self.security_group_id = cluster.vpc_config.cluster_security_group_id
        self.oidc = Oidc(
            arn=provider_oidc.arn,
            issuer=provider_oidc.url.apply(
                lambda url: url if url.startswith("https://") else f"https://{url}"
            ),
        )
        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(
                cluster.name,
                cluster.endpoint,
                cluster.certificate_authority.apply(lambda ca: ca.data),
            ).apply(lambda parts: kubeconfig(parts[0], parts[1], parts[2], args.region))
        )
        self.provider = k8s.Provider(
            f"{name}-provider",
            kubeconfig=self.kubeconfig,
            delete_unreachable=True if args.naming.ephemeral else None,
            opts=child,
        )
        self.register_outputs({"name": self.name, "oidcProvider": provider_oidc.arn})
