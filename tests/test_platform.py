"""The platform layer, checked on what each stack registers under Pulumi's mocks.

Stacks differ on purpose: ``onprem`` has GPUs, Serverless KServe (Istio + Knative) and load
balancers; ``local`` is CPU-only, RawDeployment without Istio, on node ports.
"""

from __future__ import annotations

import json
import re
from typing import Any

import kubernetes_validate
import pytest

from infra import outputs
from infra.config.load import load_config
from infra.plan.engine import MOCK_SECRET_PREFIX, SECRET, run_program
from infra.plan.stackfiles import read_stack
from infra.platform.config import PRIVATE_NETWORKS
from infra.platform.wiring import PIPELINE_SECRET_KEYS
from tests.conftest import (
    IN_CLUSTER_STACKS,
    STACKS,
    TARGET_OF,
    depends_on,
    k8s_objects,
    releases,
    resource,
)

BUILT_IN_GROUPS = {
    "v1",
    "apps/v1",
    "batch/v1",
    "networking.k8s.io/v1",
    "rbac.authorization.k8s.io/v1",
    "policy/v1",
    "storage.k8s.io/v1",
}
_READ = {"get", "list", "watch"}
_EXACT_VERSION = re.compile(r"^v?\d+\.\d+\.\d+$")


def config_of(stack: str) -> Any:
    return load_config(stack, *read_stack(stack))


def manifest(snapshot: dict[str, Any], name: str) -> dict[str, Any]:
    inputs: dict[str, Any] = resource(snapshot, name)["inputs"]
    return inputs


def pachyderm(snapshot: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = releases(snapshot)["mldm-release"]["values"]
    return values


def _images(value: Any) -> list[str]:
    """Every image reference in chart values or manifests: ``image`` and ``*Image`` keys."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str) and (key == "image" or key.endswith("Image")):
                found.append(item)
            else:
                found.extend(_images(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(_images(item))
    return found


# --- pinning ---------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_every_chart_and_manifest_is_pinned(snapshots: dict[str, Any], stack: str) -> None:
    """The guides ran an unpinned quick_install.sh; here every install names an exact version."""
    snapshot = snapshots[stack]
    for name, inputs in releases(snapshot).items():
        assert _EXACT_VERSION.match(inputs["version"]), (name, inputs["version"])
    for r in snapshot["resources"]:
        if r["type"] == "kubernetes:yaml/v2:ConfigFile":
            assert re.search(r"/knative-v\d+\.\d+\.\d+/", r["inputs"]["file"]), r["name"]


@pytest.mark.parametrize("stack", STACKS)
def test_every_image_is_pinned(snapshots: dict[str, Any], stack: str) -> None:
    images = _images([r["inputs"] for r in snapshots[stack]["resources"]])
    # MinIO, its client and Postgres run in existing clusters; AWS uses managed services.
    assert len(images) >= (5 if TARGET_OF[stack] == "existing" else 3)
    for image in images:
        tag = image.rsplit("/", 1)[-1].partition(":")[2]
        assert "@sha256:" in image or (tag and tag != "latest"), image


# --- ordering --------------------------------------------------------------------------------


def test_serving_stack_installs_in_dependency_order(snapshots: dict[str, Any]) -> None:
    snapshot = snapshots["onprem"]
    expected = {
        "istio-istiod": {"istio-base"},
        "istio-gateway": {"istio-istiod"},
        "knative-core": {"knative-crds"},
        "knative-net-istio": {"knative-core", "istio-istiod", "istio-gateway"},
        "knative-domain": {"knative-core"},
        "knative-features": {"knative-core"},
        # KServe's chart creates cert-manager Certificates and, in Serverless mode, relies on
        # Knative Services and the Istio gateway.
        "kserve-crds": {"cert-manager-release"},
        "kserve-controller": {
            "kserve-crds",
            "cert-manager-release",
            "knative-net-istio",
            "knative-domain",
            "istio-gateway",
            "gateway-gateway",
        },
        "gateway-release": {"gateway-crds"},
        "gateway-gateway": {"gateway-class", "gateway-release", "gateway-namespace"},
        "gateway-class": {"gateway-proxy-config"},
        "tls-platform": {"cert-manager-release", "tls-ca", "gateway-namespace"},
        "tls-ca-issuer": {"cert-manager-release", "tls-ca"},
        "route-mlde": {"gateway-gateway", "mldm-release"},
        "route-mldm": {"gateway-gateway", "mldm-proxy"},
        "route-models": {"gateway-gateway", "istio-gateway"},
        "mldm-proxy": {"mldm-release"},
        "mldm-release": {"cluster-postgres-databases", "cluster-minio-setup", "mldm-postgres"},
    }
    for name, needs in expected.items():
        missing = needs - depends_on(snapshot, name)
        assert not missing, f"{name} does not wait for {missing}"


def test_raw_deployment_mode_routes_models_through_the_edge_gateway_and_skips_knative(
    snapshots: dict[str, Any],
) -> None:
    snapshot = snapshots["local"]
    names = {r["name"] for r in snapshot["resources"]}
    assert not {n for n in names if n.startswith(("knative-", "istio-", "route-models"))}
    assert "gateway-gateway" in depends_on(snapshot, "kserve-controller")
    controller = releases(snapshot)["kserve-controller"]["values"]["kserve"]["controller"]
    assert controller["deploymentMode"] == "Standard"
    # Keys checked against kserve-resources v0.17.1 rendered with helm 3.17.3: they become
    # "enableGatewayApi": true, "kserveIngressGateway": "pdk-edge/pdk-gateway" in the
    # inferenceservice-config ConfigMap.
    assert controller["gateway"]["ingressGateway"] == {
        "enableGatewayApi": True,
        "kserveGateway": "pdk-edge/pdk-gateway",
        "createGateway": False,
    }
    assert controller["gateway"]["urlScheme"] == "https"
    assert (
        releases(snapshots["onprem"])["kserve-controller"]["values"]["kserve"]["controller"][
            "deploymentMode"
        ]
        == "Knative"
    )


@pytest.mark.parametrize("stack", STACKS)
def test_every_custom_resource_waits_for_a_release(snapshots: dict[str, Any], stack: str) -> None:
    """Objects of API groups the cluster does not have built in need their CRDs first."""
    snapshot = snapshots[stack]
    installers = set(releases(snapshot)) | {
        r["name"] for r in snapshot["resources"] if r["type"] == "kubernetes:yaml/v2:ConfigFile"
    }
    for r, obj in k8s_objects(snapshot):
        if obj["apiVersion"] not in BUILT_IN_GROUPS:
            assert depends_on(snapshot, r["name"]) & installers, r["name"]


# --- GPU -------------------------------------------------------------------------------------


def test_gpu_pods_select_gpu_nodes_and_tolerate_the_taint(snapshots: dict[str, Any]) -> None:
    config = config_of("onprem")
    key, _, rest = config.gpu.taint.partition("=")
    value, _, effect = rest.partition(":")
    toleration = {"key": key, "operator": "Equal", "value": value, "effect": effect}
    label_key, _, label_value = config.gpu.node_label.partition("=")

    determined = pachyderm(snapshots["onprem"])["determined"]
    pools = {pool["pool_name"]: pool for pool in determined["resourcePools"]}
    assert set(pools) == {"default", "gpu-pool"}
    gpu_spec = pools["gpu-pool"]["task_container_defaults"]["gpu_pod_spec"]["spec"]
    assert toleration in gpu_spec["tolerations"]
    assert gpu_spec["nodeSelector"] == {label_key: label_value}
    # Determined 0.35+ has no per-pool namespace; tasks run in the default namespace.
    assert all("kubernetes_namespace" not in pool for pool in pools.values())
    assert determined["resourceManager"] == {"defaultNamespace": "default"}
    assert determined["defaultComputeResourcePool"] == "gpu-pool"

    plugin = manifest(snapshots["onprem"], "gpu-device-plugin")
    assert plugin["kind"] == "DaemonSet"
    pod = plugin["spec"]["template"]["spec"]
    assert toleration in pod["tolerations"]
    assert pod["nodeSelector"] == {label_key: label_value}
    (container,) = pod["containers"]
    assert container["image"] == "nvcr.io/nvidia/k8s-device-plugin:v0.17.4"
    # Not privileged: the plugin needs only the kubelet's socket directory.
    assert container["securityContext"]["privileged"] is False
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert [v["hostPath"]["path"] for v in pod["volumes"]] == ["/var/lib/kubelet/device-plugins"]
    # No MPS control daemon (NVIDIA's chart always renders one): ours is the only DaemonSet.
    daemon_sets = [m for _, m in k8s_objects(snapshots["onprem"]) if m["kind"] == "DaemonSet"]
    assert daemon_sets == [plugin]


def test_cpu_only_stack_has_no_gpu_pool_and_no_device_plugin(snapshots: dict[str, Any]) -> None:
    snapshot = snapshots["local"]
    determined = pachyderm(snapshot)["determined"]
    assert [pool["pool_name"] for pool in determined["resourcePools"]] == ["default"]
    assert determined["defaultComputeResourcePool"] == "default"
    assert "gpu-device-plugin" not in {r["name"] for r in snapshot["resources"]}


@pytest.mark.parametrize("stack", STACKS)
def test_every_mlde_pool_mounts_the_shared_claim(snapshots: dict[str, Any], stack: str) -> None:
    for pool in pachyderm(snapshots[stack])["determined"]["resourcePools"]:
        for spec in pool["task_container_defaults"].values():
            volumes = spec["spec"]["volumes"]
            assert {"name": "shared-fs", "persistentVolumeClaim": {"claimName": "pdk-pvc"}} in (
                volumes
            )
            mounts = spec["spec"]["containers"][0]["volumeMounts"]
            assert mounts == [
                {"name": "shared-fs", "mountPath": "/run/determined/workdir/shared_fs"}
            ]
            assert spec["spec"]["containers"][0]["name"] == "determined-container"


# --- MLDM / MLDE values ----------------------------------------------------------------------


@pytest.mark.parametrize("stack", IN_CLUSTER_STACKS)
def test_mldm_uses_minio_and_the_external_postgres(snapshots: dict[str, Any], stack: str) -> None:
    values = pachyderm(snapshots[stack])
    # Chart 2.11+ reaches MinIO through the S3 backend and a storageURL (no MINIO client).
    assert values["deployTarget"] == "CUSTOM"
    storage = values["pachd"]["storage"]
    assert storage["backend"] == "AMAZON"
    assert storage["storageURL"] == (
        f"s3://pdk-{stack}-mldm?endpoint=minio.pdk-data.svc.cluster.local:9000"
        "&disableSSL=true&region=us-east-1"
    )
    assert storage["amazon"]["id"] == SECRET and storage["amazon"]["secret"] == SECRET
    assert values["postgresql"] == {"enabled": False}
    db = values["global"]["postgresql"]
    assert db["postgresqlHost"] == "postgres.pdk-data.svc.cluster.local"
    assert db["postgresqlExistingSecretName"] == "mldm-postgres"
    assert "postgresqlPassword" not in db
    determined = values["determined"]
    assert determined["db"]["hostAddress"] == db["postgresqlHost"]
    assert determined["db"]["password"] == SECRET
    checkpoints = determined["checkpointStorage"]
    assert checkpoints["type"] == "s3"
    assert checkpoints["endpointUrl"] == "http://minio.pdk-data.svc.cluster.local:9000"
    assert (checkpoints["saveExperimentBest"], checkpoints["saveTrialBest"]) == (0, 1)


def test_mlde_password_is_generated_and_is_what_pipelines_get(revealed: dict[str, Any]) -> None:
    """The on-prem guide left det_password empty while setting a default password."""
    for stack, snapshot in revealed.items():
        password = pachyderm(snapshot)["determined"]["initialUserPassword"]
        assert password.startswith(MOCK_SECRET_PREFIX), stack
        secret = manifest(snapshot, "wiring-pipeline-secret")["stringData"]
        assert secret["det_password"] == password
        assert set(secret) == set(PIPELINE_SECRET_KEYS)
        assert secret["det_master"] == (
            "http://determined-master-service-pachyderm.default.svc.cluster.local:8080"
        )
        assert secret["pachd_lb_service_port"] == "30650"
        assert secret["kserve_namespace"] == "models"


def test_mldm_database_password_reaches_the_chart_through_a_secret(
    revealed: dict[str, Any],
) -> None:
    snapshot = revealed["onprem"]
    secret = manifest(snapshot, "mldm-postgres")["stringData"]["postgresql-password"]
    assert secret == f"{MOCK_SECRET_PREFIX}cluster-postgres-password"
    assert pachyderm(snapshot)["determined"]["db"]["password"] == secret


# --- wiring ----------------------------------------------------------------------------------


def test_pdk_config_has_one_key_set_and_no_credentials(snapshots: dict[str, Any]) -> None:
    key_sets = {
        stack: frozenset(manifest(snapshot, "wiring-config")["data"])
        for stack, snapshot in snapshots.items()
    }
    assert len(set(key_sets.values())) == 1, key_sets
    keys = next(iter(key_sets.values()))
    # The on-prem guide called it kserve_model_bucket_name; one name everywhere.
    assert "model_assets_bucket_name" in keys and "kserve_model_bucket_name" not in keys
    assert not {k for k in keys if re.search("password|secret|token|access_key", k)}
    for snapshot in snapshots.values():
        data = manifest(snapshot, "wiring-config")["data"]
        assert SECRET not in json.dumps(data)
        assert ":" not in data["db_connection_string"].split("@")[0].removeprefix("postgresql://")


def test_kserve_storage_credentials_live_where_models_run(revealed: dict[str, Any]) -> None:
    """The guides disagreed on the namespace of pach-kserve-creds; it must be the models one."""
    snapshot = revealed["onprem"]
    namespace = manifest(snapshot, "wiring-config")["data"]["kserve_model_namespace"]
    account = manifest(snapshot, "wiring-models-sa")
    secret = manifest(snapshot, "wiring-models-s3")
    assert account["metadata"]["namespace"] == secret["metadata"]["namespace"] == namespace
    assert account["secrets"] == [{"name": secret["metadata"]["name"]}]
    annotations = secret["metadata"]["annotations"]
    assert annotations["serving.kserve.io/s3-endpoint"] == "minio.pdk-data.svc.cluster.local:9000"
    assert annotations["serving.kserve.io/s3-usehttps"] == "0"
    # The read-only KServe identity of the target, not MLDM's read-write one.
    assert secret["stringData"]["AWS_ACCESS_KEY_ID"] == (
        f"{MOCK_SECRET_PREFIX}cluster-minio-kserve-access-key"
    )


def test_workers_may_manage_inferenceservices_in_the_models_namespace_only(
    snapshots: dict[str, Any],
) -> None:
    snapshot = snapshots["onprem"]
    role = manifest(snapshot, "wiring-isvc-role")
    binding = manifest(snapshot, "wiring-isvc-binding")
    assert role["kind"] == "Role" and role["metadata"]["namespace"] == "models"
    assert role["rules"] == [
        {
            "apiGroups": ["serving.kserve.io"],
            "resources": ["inferenceservices", "inferenceservices/status"],
            "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
        }
    ]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "pachyderm-worker", "namespace": "default"}
    ]
    assert binding["roleRef"]["name"] == role["metadata"]["name"]


# --- exposure and outputs --------------------------------------------------------------------


def test_the_gateway_is_the_only_exposed_service_and_carries_the_source_ranges(
    snapshots: dict[str, Any],
) -> None:
    snapshot = snapshots["onprem"]
    ranges = PRIVATE_NETWORKS.split(",")
    service = manifest(snapshot, "gateway-proxy-config")["spec"]["provider"]["kubernetes"][
        "envoyService"
    ]
    assert service["type"] == "LoadBalancer" and service["loadBalancerSourceRanges"] == ranges
    assert service["externalTrafficPolicy"] == "Local"
    assert service["name"] == "pdk-gateway"
    assert manifest(snapshot, "mldm-proxy")["spec"]["type"] == "ClusterIP"
    assert releases(snapshot)["istio-gateway"]["values"]["service"] == {"type": "ClusterIP"}
    for _, obj in k8s_objects(snapshot):
        if obj["kind"] == "Service":
            assert obj["spec"].get("type", "ClusterIP") == "ClusterIP", obj["metadata"]


def test_node_ports_on_the_local_stack(snapshots: dict[str, Any]) -> None:
    service = manifest(snapshots["local"], "gateway-proxy-config")["spec"]["provider"][
        "kubernetes"
    ]["envoyService"]
    assert service["type"] == "NodePort" and "loadBalancerSourceRanges" not in service


def test_mlde_route_reaches_the_master_without_a_body_or_time_limit(
    snapshots: dict[str, Any],
) -> None:
    """nginx needed proxy-body-size 160m for MLDE's context uploads; Envoy streams request
    bodies to the backend without a size cap unless a policy sets one, and no policy does.
    Log follows and streams need the request timeout off (Envoy's default is 15 s)."""
    route = manifest(snapshots["onprem"], "route-mlde")
    assert route["metadata"]["namespace"] == "default"
    assert route["spec"]["hostnames"] == ["mlde.pdk.internal"]
    (rule,) = route["spec"]["rules"]
    assert rule["backendRefs"] == [{"name": "determined-master-service-pachyderm", "port": 8080}]
    assert rule["timeouts"] == {"request": "0s"}
    kinds = {m["kind"] for _, m in k8s_objects(snapshots["onprem"])}
    assert not kinds & {"BackendTrafficPolicy", "ClientTrafficPolicy"}


@pytest.mark.parametrize("stack", STACKS)
def test_outputs_give_ready_to_run_commands(snapshots: dict[str, Any], stack: str) -> None:
    exported = snapshots[stack]["outputs"]
    commands = exported[outputs.COMMANDS]
    domain = resource(snapshots[stack], "wiring-config")["inputs"]["data"]["kserve_domain"]
    assert commands["pachctlConnect"].startswith(f'pachctl connect "grpcs://mldm.{domain}:')
    assert '--server-cas "$(base64 -w0 pdk-ca.crt)"' in commands["pachctlConnect"]
    assert commands["detLogin"].startswith('DET_MASTER_CERT_FILE=pdk-ca.crt det -m "https://')
    assert "user login admin" in commands["detLogin"]
    assert "--cacert pdk-ca.crt" in commands["predict"]
    assert f'"https://MODEL.models.{domain}/v1/models/MODEL:predict"' in commands["predict"]
    assert commands["trustCa"] == "pulumi stack output caCertificate > pdk-ca.crt"
    assert exported[outputs.KSERVE]["hostHeader"] == f"MODEL.models.{domain}"
    assert "det_password" in commands["mldeAdminPassword"]
    if stack == "local":
        assert "nodePort" in commands["predict"] and "nodePort" in commands["pachctlConnect"]
    else:
        assert "loadBalancer.ingress" in commands["predict"]
        assert exported[outputs.MLDE]["url"] == f"https://mlde.{domain}"
        assert exported[outputs.MLDM]["url"] == f"grpcs://mldm.{domain}:443"


def test_models_web_app_is_optional_read_only_and_schema_valid(
    snapshots: dict[str, Any],
) -> None:
    assert not [r for r in snapshots["onprem"]["resources"] if "models-web-app" in r["name"]]
    raw, secret_keys = read_stack("onprem")
    config = load_config("onprem", {**raw, "kserveModelsWebApp": "true"}, secret_keys)
    snapshot = run_program("onprem", config).to_dict()
    app = [(r, m) for r, m in k8s_objects(snapshot) if r["parent"] == "models-web-app"]
    assert {m["kind"] for _, m in app} == {
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "Deployment",
        "Service",
    }
    for r, obj in app:
        kubernetes_validate.validate(obj, "1.33.0", strict=True)
        assert "kserve-controller" in depends_on(snapshot, r["name"])
        if obj["kind"] == "ClusterRole":
            for rule in obj["rules"]:
                allowed = {"create"} if rule["resources"] == ["subjectaccessreviews"] else _READ
                assert set(rule["verbs"]) <= allowed, rule
        if obj["kind"] == "Service":
            assert "type" not in obj["spec"]  # ClusterIP: reached by port-forward only
    assert "port-forward" in snapshot["outputs"][outputs.COMMANDS]["modelsWebApp"]
