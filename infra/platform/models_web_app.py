"""The KServe models web app (optional): a UI listing InferenceServices and their status.

Reached with ``kubectl port-forward`` rather than a load balancer: it runs without its own
authentication (it expects a Kubeflow gateway in front), so it must not face a network.
Its role is read-only for the same reason; the guides granted it create and delete.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra.naming import Naming
from infra.platform.kserve import NAMESPACE
from infra.targets.common.pods import restricted_container

NAME = "kserve-models-web-app"
PORT = 5000
_READ = ["get", "list", "watch"]


@dataclass(frozen=True)
class ModelsWebAppArgs:
    naming: Naming
    """The stack's naming rules."""
    image: str
    """Pinned web app image."""
    kserve: pulumi.Resource
    """The KServe controller release (its namespace and CRDs)."""


class ModelsWebApp(pulumi.ComponentResource):
    """Service account, read-only cluster role, Deployment and ClusterIP Service."""

    def __init__(
        self, name: str, args: ModelsWebAppArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("pdk:platform:ModelsWebApp", name, None, opts)
        naming = args.naming
        child = pulumi.ResourceOptions(parent=self, depends_on=[args.kserve])
        labels = {"app.kubernetes.io/name": NAME, "app.kubernetes.io/component": "models-ui"}
        account = k8s.core.v1.ServiceAccount(
            f"{name}-sa", metadata=naming.metadata(NAME, NAMESPACE, labels), opts=child
        )
        role = k8s.rbac.v1.ClusterRole(
            f"{name}-role",
            metadata=naming.metadata(NAME, None, labels),
            rules=[
                k8s.rbac.v1.PolicyRuleArgs(
                    api_groups=["authorization.k8s.io"],
                    resources=["subjectaccessreviews"],
                    verbs=["create"],
                ),
                k8s.rbac.v1.PolicyRuleArgs(
                    api_groups=[""],
                    resources=["namespaces", "pods", "pods/log", "events"],
                    verbs=["get", "list"],
                ),
                k8s.rbac.v1.PolicyRuleArgs(
                    api_groups=["serving.kserve.io"],
                    resources=["inferenceservices", "inferenceservices/status"],
                    verbs=_READ,
                ),
                k8s.rbac.v1.PolicyRuleArgs(
                    api_groups=["serving.knative.dev"],
                    resources=["services", "routes", "configurations", "revisions"],
                    verbs=["get", "list"],
                ),
            ],
            opts=child,
        )
        k8s.rbac.v1.ClusterRoleBinding(
            f"{name}-binding",
            metadata=naming.metadata(NAME, None, labels),
            role_ref=k8s.rbac.v1.RoleRefArgs(
                api_group="rbac.authorization.k8s.io", kind="ClusterRole", name=role.metadata.name
            ),
            subjects=[
                k8s.rbac.v1.SubjectArgs(
                    kind="ServiceAccount", name=account.metadata.name, namespace=NAMESPACE
                )
            ],
            opts=child,
        )
        k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=naming.metadata(NAME, NAMESPACE, labels),
            spec=k8s.apps.v1.DeploymentSpecArgs(
                replicas=1,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=labels),
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels={**naming.labels, **labels}),
                    spec=k8s.core.v1.PodSpecArgs(
                        service_account_name=account.metadata.name,
                        security_context=k8s.core.v1.PodSecurityContextArgs(
                            run_as_non_root=True, run_as_user=1000
                        ),
                        containers=[
                            k8s.core.v1.ContainerArgs(
                                name="web-app",
                                image=args.image,
                                ports=[
                                    k8s.core.v1.ContainerPortArgs(name="http", container_port=PORT)
                                ],
                                env=[
                                    k8s.core.v1.EnvVarArgs(name="APP_PREFIX", value="/"),
                                    # Auth needs Kubeflow's user header; access is by
                                    # port-forward, which already requires cluster credentials.
                                    k8s.core.v1.EnvVarArgs(name="APP_DISABLE_AUTH", value="True"),
                                    k8s.core.v1.EnvVarArgs(
                                        name="APP_SECURE_COOKIES", value="False"
                                    ),
                                ],
                                readiness_probe=k8s.core.v1.ProbeArgs(
                                    http_get=k8s.core.v1.HTTPGetActionArgs(
                                        path="/healthz/readiness", port="http"
                                    )
                                ),
                                liveness_probe=k8s.core.v1.ProbeArgs(
                                    http_get=k8s.core.v1.HTTPGetActionArgs(
                                        path="/healthz/liveness", port="http"
                                    )
                                ),
                                security_context=restricted_container(),
                            )
                        ],
                    ),
                ),
            ),
            opts=child,
        )
        k8s.core.v1.Service(
            f"{name}-service",
            metadata=naming.metadata(NAME, NAMESPACE, labels),
            spec=k8s.core.v1.ServiceSpecArgs(
                selector=labels,
                ports=[k8s.core.v1.ServicePortArgs(name="http", port=80, target_port="http")],
            ),
            opts=child,
        )
        self.register_outputs({"service": NAME})
