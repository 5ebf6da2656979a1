"""The GCP target under Pulumi's mocks: properties of what ``pulumi up -s gcp`` would create.

The committed ``gcp`` stack is planned once (``snapshots``); variants (ephemeral, existing
network, regional, Spot, CPU-only) are planned here from config. Cloud-computed outputs (service
account e-mails, the connection name, the cluster endpoint and CA) come from
``infra.targets.gcp.mocks``: these tests check what the program sends to GCP, not what GCP does
with it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from functools import cache
from typing import Any

import pytest

from infra.config.load import load_config
from infra.contract import WORKLOAD_SERVICE_ACCOUNTS
from infra.naming import Naming
from infra.plan import cloud_mocks
from infra.plan.diff import diff_snapshots
from infra.plan.engine import MOCK_SECRET_PREFIX, run_program
from infra.plan.stackfiles import REPO_ROOT, read_stack
from infra.platform.values import RELEASE
from infra.targets.gcp.identity import MLDE_MASTER_ACCOUNT, SQL_PROXY_ACCOUNT
from infra.targets.gcp.mocks import ACCESS_TOKEN, PROJECT_NUMBER
from infra.targets.gcp.network import WEBHOOK_PORTS
from infra.targets.gcp.node_pools import TAINT_EFFECTS
from infra.targets.gcp.project import SERVICES, gcp_labels
from tests.conftest import depends_on, releases, resource

STACK = "gcp"
PROJECT = "pdk-demo-project"
POOL = f"{PROJECT}.svc.id.goog"


@cache
def variant(**overrides: Any) -> dict[str, Any]:
    raw, secret = read_stack(STACK)
    config = load_config(STACK, {**raw, **overrides}, secret)
    return run_program(STACK, config).to_dict()


@pytest.fixture(scope="module")
def gcp(snapshots: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return snapshots[STACK]


def of_type(snapshot: dict[str, Any], token: str) -> list[dict[str, Any]]:
    return [r for r in snapshot["resources"] if r["type"] == token]


def one(snapshot: dict[str, Any], token: str) -> dict[str, Any]:
    (found,) = of_type(snapshot, token)
    return found


def email(workload: str) -> str:
    return f"pdk-gcp-{workload}@{PROJECT}.iam.gserviceaccount.com"


def gpu_pool_spec(snapshot: dict[str, Any]) -> dict[str, Any]:
    values = releases(snapshot)["mldm-release"]["values"]
    (pool,) = [p for p in values["determined"]["resourcePools"] if p["pool_name"] == "gpu-pool"]
    spec: dict[str, Any] = pool["task_container_defaults"]["gpu_pod_spec"]["spec"]
    return spec


# --- database ---------------------------------------------------------------------------------


def test_database_has_no_public_ip_and_requires_tls(gcp: dict[str, Any]) -> None:
    db = one(gcp, "gcp:sql/databaseInstance:DatabaseInstance")
    ip = db["inputs"]["settings"]["ipConfiguration"]
    assert ip["ipv4Enabled"] is False
    assert ip["sslMode"] == "ENCRYPTED_ONLY"
    assert "authorizedNetworks" not in ip
    assert ip["privateNetwork"] == one(gcp, "gcp:container/cluster:Cluster")["inputs"]["network"]
    assert ip["allocatedIpRange"] == "pdk-gcp-psa"
    # The instance waits for Private Service Access, which gives it its address.
    assert "cluster-network-psa" in depends_on(gcp, "cluster-postgres-instance")


def test_database_edition_backups_and_protection(gcp: dict[str, Any]) -> None:
    db = one(gcp, "gcp:sql/databaseInstance:DatabaseInstance")
    settings = db["inputs"]["settings"]
    assert settings["edition"] == "ENTERPRISE" and settings["tier"] == "db-custom-2-7680"
    assert settings["backupConfiguration"]["enabled"] is True
    assert settings["backupConfiguration"]["pointInTimeRecoveryEnabled"] is True
    assert settings["finalBackupConfig"]["enabled"] is True
    assert db["inputs"]["deletionProtection"] is True
    assert settings["deletionProtectionEnabled"] is True
    assert db["protect"] is True
    # A random suffix: Cloud SQL reserves a deleted instance's name for a week.
    assert re.fullmatch(r"pdk-gcp-pg-[0-9a-f]{6}", db["inputs"]["name"])


def test_database_user_password_is_generated_and_secret(gcp: dict[str, Any]) -> None:
    user = one(gcp, "gcp:sql/user:User")
    assert user["inputs"]["password"] == "[secret]"
    generator = resource(gcp, "cluster-postgres-password")
    assert generator["type"] == "random:index/randomPassword:RandomPassword"
    assert generator["name"] in user["dependencies"]
    assert user["inputs"]["deletionPolicy"] == "ABANDON"
    names = sorted(d["inputs"]["name"] for d in of_type(gcp, "gcp:sql/database:Database"))
    assert names == ["determined", "dex", "pachyderm"]


def test_clients_reach_the_database_through_the_auth_proxy(gcp: dict[str, Any]) -> None:
    values = releases(gcp)["mldm-release"]["values"]
    proxy = values["cloudsqlAuthProxy"]
    assert proxy["enabled"] is True
    assert proxy["connectionName"] == f"{PROJECT}:us-central1:pdk-gcp-pg-a1b2c3"
    assert proxy["serviceAccount"] == email("sqlproxy")
    host = "cloudsql-auth-proxy.default.svc.cluster.local"
    assert values["global"]["postgresql"]["postgresqlHost"] == host
    # The chart does not point MLDE at the proxy by itself.
    assert values["determined"]["db"]["hostAddress"] == host
    wiring = resource(gcp, "wiring-config")["inputs"]["data"]
    assert wiring["db_host"] == host
    # The proxy speaks plain Postgres in the cluster and TLS to the instance.
    assert wiring["db_connection_string"].endswith(f"@{host}:5432/determined?sslmode=disable")
    assert values["global"]["postgresql"]["postgresqlSSL"] == "disable"
    assert values["deployTarget"] == "GOOGLE"
    assert values["pachd"]["storage"] == {"storageURL": "gs://pdk-gcp-mldm"}
    assert values["determined"]["checkpointStorage"]["type"] == "gcs"


# --- network and control plane ----------------------------------------------------------------


def test_nothing_opens_to_the_internet_by_default(gcp: dict[str, Any]) -> None:
    for rule in of_type(gcp, "gcp:compute/firewall:Firewall"):
        assert "0.0.0.0/0" not in rule["inputs"].get("sourceRanges", [])
    cluster = one(gcp, "gcp:container/cluster:Cluster")["inputs"]
    networks = cluster["masterAuthorizedNetworksConfig"]
    assert [b["cidrBlock"] for b in networks["cidrBlocks"]] == ["203.0.113.0/24"]
    assert networks["gcpPublicCidrsAccessEnabled"] is False
    assert cluster["privateClusterConfig"]["enablePrivateNodes"] is True


def test_webhook_firewall_admits_only_the_control_plane(gcp: dict[str, Any]) -> None:
    rule = one(gcp, "gcp:compute/firewall:Firewall")["inputs"]
    assert rule["direction"] == "INGRESS"
    assert rule["sourceRanges"] == ["172.16.0.0/28"]
    assert rule["allows"] == [{"ports": list(WEBHOOK_PORTS), "protocol": "tcp"}]
    assert rule["targetServiceAccounts"] == [email("nodes")]
    cluster = one(gcp, "gcp:container/cluster:Cluster")["inputs"]
    assert cluster["privateClusterConfig"]["masterIpv4CidrBlock"] == "172.16.0.0/28"


def test_new_network_has_private_google_access_nat_and_named_ranges(gcp: dict[str, Any]) -> None:
    subnet = one(gcp, "gcp:compute/subnetwork:Subnetwork")["inputs"]
    assert subnet["privateIpGoogleAccess"] is True
    assert {r["rangeName"] for r in subnet["secondaryIpRanges"]} == {"pods", "services"}
    nat = one(gcp, "gcp:compute/routerNat:RouterNat")["inputs"]
    assert nat["sourceSubnetworkIpRangesToNat"] == "LIST_OF_SUBNETWORKS"
    assert one(gcp, "gcp:compute/network:Network")["inputs"]["autoCreateSubnetworks"] is False
    cluster = one(gcp, "gcp:container/cluster:Cluster")["inputs"]
    assert cluster["ipAllocationPolicy"] == {
        "clusterSecondaryRangeName": "pods",
        "servicesSecondaryRangeName": "services",
    }
    # Private nodes pull public images through NAT, so the cluster waits for it.
    assert "cluster-network-nat" in depends_on(gcp, "cluster-gke-cluster")
    psa = one(gcp, "gcp:servicenetworking/connection:Connection")["inputs"]
    assert "deletionPolicy" not in psa


def test_cluster_settings(gcp: dict[str, Any]) -> None:
    cluster = one(gcp, "gcp:container/cluster:Cluster")
    inputs = cluster["inputs"]
    assert inputs["location"] == "us-central1-c"
    assert inputs["releaseChannel"] == {"channel": "REGULAR"}
    raw, secret = read_stack(STACK)
    assert inputs["minMasterVersion"] == load_config(STACK, raw, secret).kubernetes_version
    assert inputs["workloadIdentityConfig"] == {"workloadPool": POOL}
    assert inputs["datapathProvider"] == "ADVANCED_DATAPATH"
    assert inputs["enableShieldedNodes"] is True
    assert inputs["removeDefaultNodePool"] is True
    # The temporary default pool must not run as the Compute Engine default account.
    assert inputs["nodeConfig"]["serviceAccount"] == email("nodes")
    assert inputs["deletionProtection"] is True and cluster["protect"] is True


def test_kubeconfig_authenticates_through_the_gke_plugin(revealed: dict[str, Any]) -> None:
    provider = resource(revealed[STACK], "cluster-gke-provider")
    kubeconfig = json.loads(provider["inputs"]["kubeconfig"])
    (user,) = kubeconfig["users"]
    assert user["user"]["exec"]["command"] == "gke-gcloud-auth-plugin"
    assert kubeconfig["clusters"][0]["cluster"]["server"] == "https://192.0.2.10"
    assert "token" not in user["user"]
    outputs = revealed[STACK]["outputs"]
    assert outputs["commands"]["getCredentials"] == (
        "gcloud container clusters get-credentials pdk-gcp-gke --location us-central1-c "
        f"--project {PROJECT}"
    )


def test_offline_load_balancers_report_ip_addresses_as_on_gke() -> None:
    """The mock's stand-in for GKE's load balancer controller: an IP, not a host name."""
    service = {"metadata": {"name": "mldm-proxy"}, "spec": {"type": "LoadBalancer"}}
    on_gke = cloud_mocks.resource_outputs(
        "kubernetes:core/v1:Service", "x", service, {"pulumi:providers:gcp": {}}
    )
    (entry,) = on_gke["status"]["loadBalancer"]["ingress"]
    assert re.fullmatch(r"203\.0\.113\.[0-9]+", entry["ip"]) and "hostname" not in entry
    on_eks = cloud_mocks.resource_outputs(
        "kubernetes:core/v1:Service", "x", service, {"pulumi:providers:aws": {}}
    )
    assert "hostname" in on_eks["status"]["loadBalancer"]["ingress"][0]


def test_kubeconfig_output_is_secret(gcp: dict[str, Any]) -> None:
    assert gcp["outputs"]["kubeconfig"] == "[secret]"
    assert resource(gcp, "cluster-gke-provider")["inputs"]["kubeconfig"] == "[secret]"


# --- node pools -------------------------------------------------------------------------------


def test_gpu_pool_label_and_taint_are_what_mlde_gpu_tasks_select(gcp: dict[str, Any]) -> None:
    pool = resource(gcp, "cluster-nodes-gpu")["inputs"]["nodeConfig"]
    spec = gpu_pool_spec(gcp)
    assert spec["nodeSelector"].items() <= pool["labels"].items()
    (taint,) = pool["taints"]
    (toleration,) = spec["tolerations"]
    assert (taint["key"], taint["value"], taint["effect"]) == (
        toleration["key"],
        toleration["value"],
        TAINT_EFFECTS[toleration["effect"]],
    )


def test_gpu_pool_has_gke_managed_drivers_and_scales_from_zero(gcp: dict[str, Any]) -> None:
    pool = resource(gcp, "cluster-nodes-gpu")
    inputs = pool["inputs"]
    (accelerator,) = inputs["nodeConfig"]["guestAccelerators"]
    assert accelerator["type"] == "nvidia-tesla-t4" and accelerator["count"] == 1
    assert accelerator["gpuDriverInstallationConfig"] == {"gpuDriverVersion": "LATEST"}
    assert inputs["nodeConfig"]["machineType"] == "n1-standard-8"
    assert inputs["autoscaling"]["totalMinNodeCount"] == 0
    assert inputs["nodeLocations"] == ["us-central1-c"]
    assert inputs["nodeConfig"]["spot"] is False
    # GKE taints a GPU pool only if a non-GPU pool exists already: create the CPU pool first.
    assert "cluster-nodes-cpu" in pool["dependencies"]


def test_no_device_plugin_on_gke(gcp: dict[str, Any]) -> None:
    charts = {values.get("chart") for values in releases(gcp).values()}
    assert "nvidia-device-plugin" not in charts
    assert not [r for r in gcp["resources"] if "device-plugin" in r["name"]]


def test_nodes_run_the_gke_metadata_server_with_secure_boot(gcp: dict[str, Any]) -> None:
    for pool in of_type(gcp, "gcp:container/nodePool:NodePool"):
        config = pool["inputs"]["nodeConfig"]
        assert config["workloadMetadataConfig"] == {"mode": "GKE_METADATA"}
        assert config["shieldedInstanceConfig"]["enableSecureBoot"] is True
        assert config["serviceAccount"] == email("nodes")
        assert pool["inputs"]["management"] == {"autoRepair": True, "autoUpgrade": True}
        assert "version" not in pool["inputs"]


# --- buckets and identity ---------------------------------------------------------------------


def test_buckets_are_uniform_private_and_kept(gcp: dict[str, Any]) -> None:
    buckets = of_type(gcp, "gcp:storage/bucket:Bucket")
    assert len(buckets) == 3
    for bucket in buckets:
        inputs = bucket["inputs"]
        assert inputs["uniformBucketLevelAccess"] is True
        assert inputs["publicAccessPrevention"] == "enforced"
        assert inputs["forceDestroy"] is False
        assert inputs["location"] == "us-central1"
        assert bucket["protect"] is True


def test_each_workload_reaches_exactly_its_buckets(gcp: dict[str, Any]) -> None:
    grants: dict[str, set[tuple[str, str]]] = {}
    for member in of_type(gcp, "gcp:storage/bucketIAMMember:BucketIAMMember"):
        inputs = member["inputs"]
        grants.setdefault(inputs["member"], set()).add((inputs["bucket"], inputs["role"]))
    user, viewer = "roles/storage.objectUser", "roles/storage.objectViewer"
    master = (
        f"principal://iam.googleapis.com/projects/{PROJECT_NUMBER}/locations/global/"
        f"workloadIdentityPools/{POOL}/subject/ns/default/sa/determined-master-pachyderm"
    )
    assert grants == {
        f"serviceAccount:{email('mldm')}": {
            ("pdk-gcp-mldm", user),
            ("pdk-gcp-mlde-checkpoints", user),
            ("pdk-gcp-models", user),
        },
        f"serviceAccount:{email('mlde')}": {("pdk-gcp-mlde-checkpoints", user)},
        f"serviceAccount:{email('kserve')}": {("pdk-gcp-models", viewer)},
        master: {("pdk-gcp-mlde-checkpoints", viewer)},
    }
    # No project-wide storage role for anyone.
    project_roles = {m["inputs"]["role"] for m in of_type(gcp, "gcp:projects/iAMMember:IAMMember")}
    assert project_roles == {"roles/container.defaultNodeServiceAccount", "roles/cloudsql.client"}


def test_each_google_account_is_bound_to_exactly_its_kubernetes_accounts(
    gcp: dict[str, Any],
) -> None:
    bound: dict[str, set[str]] = {}
    for member in of_type(gcp, "gcp:serviceaccount/iAMMember:IAMMember"):
        inputs = member["inputs"]
        assert inputs["role"] == "roles/iam.workloadIdentityUser"
        bound.setdefault(inputs["serviceAccountId"], set()).add(inputs["member"])

    def accounts(refs: Any) -> set[str]:
        return {f"serviceAccount:{POOL}[{r.namespace}/{r.name}]" for r in refs}

    expected: dict[str, set[str]] = {
        w: accounts(refs) for w, refs in WORKLOAD_SERVICE_ACCOUNTS.items()
    }
    expected["sqlproxy"] = accounts([SQL_PROXY_ACCOUNT])
    assert bound == {
        f"projects/{PROJECT}/serviceAccounts/{email(w)}": members for w, members in expected.items()
    }


def test_kubernetes_accounts_carry_their_google_account(gcp: dict[str, Any]) -> None:
    values = releases(gcp)["mldm-release"]["values"]
    annotation = "iam.gke.io/gcp-service-account"
    for account in (values["pachd"]["serviceAccount"], values["pachd"]["worker"]["serviceAccount"]):
        assert account["additionalAnnotations"] == {annotation: email("mldm")}
    annotated = {
        (r["inputs"]["metadata"]["namespace"], r["inputs"]["metadata"]["name"]): r["inputs"][
            "metadata"
        ].get("annotations")
        for r in of_type(gcp, "kubernetes:core/v1:ServiceAccount")
    }
    for ref in WORKLOAD_SERVICE_ACCOUNTS["mlde"]:
        assert annotated[(ref.namespace, ref.name)] == {annotation: email("mlde")}
    (kserve,) = WORKLOAD_SERVICE_ACCOUNTS["kserve"]
    assert annotated[(kserve.namespace, kserve.name)] == {annotation: email("kserve")}


def test_master_account_is_the_one_the_chart_creates() -> None:
    """The chart names the master's account ``determined-master-<release>`` (the PDK guide
    bound another name, so master-side checkpoint reads failed)."""
    assert MLDE_MASTER_ACCOUNT.name == f"determined-master-{RELEASE}"


# --- labels, APIs, protection, registry -------------------------------------------------------


def test_every_gcp_resource_is_labelled_through_the_provider(gcp: dict[str, Any]) -> None:
    provider = one(gcp, "pulumi:providers:gcp")
    # Provider inputs travel as strings; maps as JSON.
    labels = json.loads(provider["inputs"]["defaultLabels"])
    naming = Naming(stack=STACK, deployment_id="gcp", ephemeral=False)
    assert labels == gcp_labels(naming.labels)
    assert labels["pdk-deployer-deployment-id"] == "gcp"
    for key, value in labels.items():
        assert re.fullmatch(r"[a-z][a-z0-9_-]{0,62}", key)
        assert re.fullmatch(r"[a-z0-9_-]{0,63}", value)
    gcp_resources = [r for r in gcp["resources"] if r["type"].startswith("gcp:")]
    assert gcp_resources and all(r["provider"] == provider["name"] for r in gcp_resources)
    # Labels the provider's default_labels do not reach: VMs, the cluster, the database.
    for pool in of_type(gcp, "gcp:container/nodePool:NodePool"):
        assert pool["inputs"]["nodeConfig"]["resourceLabels"] == labels
    assert one(gcp, "gcp:container/cluster:Cluster")["inputs"]["resourceLabels"] == labels
    db = one(gcp, "gcp:sql/databaseInstance:DatabaseInstance")
    assert db["inputs"]["settings"]["userLabels"] == labels


def test_provider_takes_project_and_region_from_the_stack(gcp: dict[str, Any]) -> None:
    inputs = one(gcp, "pulumi:providers:gcp")["inputs"]
    assert (inputs["project"], inputs["region"], inputs["zone"]) == (
        PROJECT,
        "us-central1",
        "us-central1-c",
    )


def test_everything_waits_for_the_apis(gcp: dict[str, Any]) -> None:
    services = {r["name"] for r in of_type(gcp, "gcp:projects/service:Service")}
    assert {r["inputs"]["service"] for r in of_type(gcp, "gcp:projects/service:Service")} == set(
        SERVICES
    )
    for r in gcp["resources"]:
        if r["type"].startswith("gcp:") and r["type"] != "gcp:projects/service:Service":
            assert services <= depends_on(gcp, r["name"]), r["name"]


def test_images_push_to_artifact_registry_with_a_secret_token(
    gcp: dict[str, Any], revealed: dict[str, Any]
) -> None:
    repository = one(gcp, "gcp:artifactregistry/repository:Repository")["inputs"]
    assert repository["format"] == "DOCKER"
    assert repository["dockerConfig"] == {"immutableTags": True}
    reader = one(gcp, "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember")["inputs"]
    assert reader["role"] == "roles/artifactregistry.reader"
    assert reader["member"] == f"serviceAccount:{email('nodes')}"
    image = resource(revealed[STACK], "flow-images-train")["inputs"]
    (registry,) = image["registries"]
    assert registry["username"] == "oauth2accesstoken"
    assert registry["password"] == ACCESS_TOKEN
    assert registry["address"] == "us-central1-docker.pkg.dev"
    assert image["tags"][0].startswith(
        f"us-central1-docker.pkg.dev/{PROJECT}/pdk-gcp-images/train:"
    )
    assert MOCK_SECRET_PREFIX not in json.dumps(gcp)


def test_pd_balanced_is_the_only_default_storage_class(gcp: dict[str, Any]) -> None:
    classes = of_type(gcp, "kubernetes:storage.k8s.io/v1:StorageClass")
    defaults = [
        c["inputs"]
        for c in classes
        if (c["inputs"]["metadata"].get("annotations") or {}).get(
            "storageclass.kubernetes.io/is-default-class"
        )
        == "true"
    ]
    (pd,) = defaults
    assert pd["metadata"]["name"] == "pd-balanced"
    assert pd["provisioner"] == "pd.csi.storage.gke.io"
    assert pd["parameters"]["type"] == "pd-balanced"
    assert pd["volumeBindingMode"] == "WaitForFirstConsumer"
    assert pd["allowVolumeExpansion"] is True
    assert pd["reclaimPolicy"] == "Delete"
    # Created after the cluster (with GKE's standard-rwo), so it is the newest default.
    assert "cluster-gke-cluster" in depends_on(gcp, "cluster-pd-balanced")


def test_shared_filesystem_is_filestore_behind_static_volumes(gcp: dict[str, Any]) -> None:
    instance = one(gcp, "gcp:filestore/instance:Instance")
    assert instance["inputs"]["tier"] == "BASIC_HDD"
    assert instance["inputs"]["fileShares"] == {"capacityGb": 1024, "name": "pdk"}
    assert instance["inputs"]["deletionProtectionEnabled"] is True and instance["protect"]
    volumes = of_type(gcp, "kubernetes:core/v1:PersistentVolume")
    assert {v["inputs"]["spec"]["claimRef"]["namespace"] for v in volumes} == {
        "default",
        "gpu-pool",
    }
    for volume in volumes:
        assert volume["inputs"]["spec"]["nfs"] == {"path": "/pdk", "server": "10.30.0.2"}


# --- variants ---------------------------------------------------------------------------------


def test_ephemeral_stack_can_be_destroyed() -> None:
    plan = variant(ephemeral="true")
    gcp_resources = [r for r in plan["resources"] if r["type"].startswith("gcp:")]
    assert not [r["name"] for r in gcp_resources if r["protect"]]
    assert one(plan, "gcp:container/cluster:Cluster")["inputs"]["deletionProtection"] is False
    db = one(plan, "gcp:sql/databaseInstance:DatabaseInstance")["inputs"]
    assert db["deletionProtection"] is False
    assert db["settings"]["deletionProtectionEnabled"] is False
    for bucket in of_type(plan, "gcp:storage/bucket:Bucket"):
        assert bucket["inputs"]["forceDestroy"] is True
        assert bucket["inputs"]["softDeletePolicy"] == {"retentionDurationSeconds": 0}
    psa = one(plan, "gcp:servicenetworking/connection:Connection")["inputs"]
    assert psa["deletionPolicy"] == "REMOVE_PEERING"
    fs = one(plan, "gcp:filestore/instance:Instance")["inputs"]
    assert fs["deletionProtectionEnabled"] is False


def test_existing_network() -> None:
    plan = variant(
        gcpExistingNetwork="shared-vpc",
        gcpExistingSubnetwork="gke-nodes",
        gcpExistingPodsRange="gke-pods",
        gcpExistingServicesRange="gke-services",
    )
    for token in (
        "gcp:compute/network:Network",
        "gcp:compute/subnetwork:Subnetwork",
        "gcp:compute/routerNat:RouterNat",
        "gcp:servicenetworking/connection:Connection",
        "gcp:compute/globalAddress:GlobalAddress",
    ):
        assert not of_type(plan, token), token
    cluster = one(plan, "gcp:container/cluster:Cluster")["inputs"]
    assert cluster["network"] == f"projects/{PROJECT}/global/networks/shared-vpc"
    assert cluster["subnetwork"] == f"projects/{PROJECT}/regions/us-central1/subnetworks/gke-nodes"
    assert cluster["ipAllocationPolicy"] == {
        "clusterSecondaryRangeName": "gke-pods",
        "servicesSecondaryRangeName": "gke-services",
    }
    rule = one(plan, "gcp:compute/firewall:Firewall")["inputs"]
    assert rule["network"] == cluster["network"]
    ip = one(plan, "gcp:sql/databaseInstance:DatabaseInstance")["inputs"]["settings"]
    assert ip["ipConfiguration"]["privateNetwork"] == cluster["network"]
    assert "allocatedIpRange" not in ip["ipConfiguration"]
    fs = one(plan, "gcp:filestore/instance:Instance")["inputs"]
    assert fs["networks"][0]["network"] == "shared-vpc"


def test_regional_cluster_keeps_the_gpu_pool_in_one_zone() -> None:
    plan = variant(gcpRegional="true")
    assert one(plan, "gcp:container/cluster:Cluster")["inputs"]["location"] == "us-central1"
    gpu = resource(plan, "cluster-nodes-gpu")["inputs"]
    assert gpu["location"] == "us-central1"
    assert gpu["nodeLocations"] == ["us-central1-c"]
    assert "nodeLocations" not in resource(plan, "cluster-nodes-cpu")["inputs"]
    assert plan["outputs"]["commands"]["getCredentials"].endswith(
        f"--location us-central1 --project {PROJECT}"
    )


def test_spot_gpu_pool() -> None:
    plan = variant(gcpGpuSpot="true")
    assert resource(plan, "cluster-nodes-gpu")["inputs"]["nodeConfig"]["spot"] is True
    assert resource(plan, "cluster-nodes-cpu")["inputs"]["nodeConfig"]["spot"] is False


def test_cpu_only_stack_has_no_gpu_pool() -> None:
    plan = variant(gpuEnabled="false", mldeComputePool="default")
    (pool,) = of_type(plan, "gcp:container/nodePool:NodePool")
    assert pool["name"] == "cluster-nodes-cpu"
    assert "guestAccelerators" not in pool["inputs"]["nodeConfig"]
    monitoring = one(plan, "gcp:container/cluster:Cluster")["inputs"]["monitoringConfig"]
    assert "DCGM" not in monitoring["enableComponents"]
    values = releases(plan)["mldm-release"]["values"]
    assert [p["pool_name"] for p in values["determined"]["resourcePools"]] == ["default"]


def test_bigger_gpu_machine_reaches_the_pool_and_mlde() -> None:
    plan = variant(
        gcpGpuInstanceType="g2-standard-24",
        gcpGpuAcceleratorType="nvidia-l4",
        gcpGpuAcceleratorCount="2",
        mldeMaxSlotsPerPod="2",
    )
    config = resource(plan, "cluster-nodes-gpu")["inputs"]["nodeConfig"]
    assert config["machineType"] == "g2-standard-24"
    assert config["guestAccelerators"][0]["type"] == "nvidia-l4"
    assert config["guestAccelerators"][0]["count"] == 2
    values = releases(plan)["mldm-release"]["values"]
    assert values["determined"]["maxSlotsPerPod"] == 2


# --- diff against aws -----------------------------------------------------------------------


def test_diff_from_aws_swaps_cloud_pieces_and_keeps_the_platform(
    snapshots: dict[str, dict[str, Any]],
) -> None:
    """``pdk diff aws gcp``: what is added or removed is the target's (and the device plugin
    GKE makes unnecessary); what changes in the platform is where it points."""
    aws, gcp = snapshots["aws"], snapshots[STACK]
    diff = diff_snapshots(aws, gcp, hide_identity=True)
    by_name = {r["name"]: r for r in aws["resources"] + gcp["resources"]}

    def top(name: str) -> str:
        while by_name[name]["parent"]:
            name = by_name[name]["parent"]
        return name

    assert {top(r["name"]) for r in diff.added} == {"cluster"}
    removed = {r["name"] for r in diff.removed if top(r["name"]) != "cluster"}
    # The RDS CA ConfigMap for the MLDE master: GCP reaches Cloud SQL through the proxy.
    assert removed == {"gpu", "gpu-device-plugin", "gpu-namespace", "mldm-postgres-ca"}
    assert {c.name for c in diff.changed} == {
        "flow-deploy-pipeline",
        "flow-images-deploy",
        "flow-images-train",
        "flow-train-pipeline",
        "mldm-release",
        "mldm-tasks-default",
        "mldm-tasks-gpu-pool",
        # The stack's CA names its deployment id.
        "tls-ca-cert",
        "wiring-config",
        "wiring-models-sa",
        # AWS's load balancer carries its tag annotation (target's load_balancer_annotations).
        "gateway-proxy-config",
    }
    # The same stack at two commits still shows a renamed provider: it replaces everything.
    renamed = json.loads(json.dumps(gcp).replace("cluster-gke-provider", "cluster-k8s"))
    for resource_ in renamed["resources"]:
        if resource_["name"] == "cluster-k8s":
            resource_["type"] = "pulumi:providers:kubernetes"
    assert any(
        change.path == "provider"
        for c in diff_snapshots(gcp, renamed).changed
        for change in c.changes
    )


# --- import cost --------------------------------------------------------------------------------

_SDKS = """\
import sys
from infra.plan.engine import plan
plan(sys.argv[1])
print(",".join(sorted(m for m in ("pulumi_aws", "pulumi_gcp") if m in sys.modules)))
"""


@pytest.mark.parametrize(
    ("stack", "sdk"), [("gcp", "pulumi_gcp"), ("aws", "pulumi_aws"), ("local", "")]
)
def test_a_stack_imports_only_its_own_cloud_sdk(stack: str, sdk: str) -> None:
    """Each cloud SDK costs seconds to import: an AWS stack must not pay for GCP's, and the
    reverse (``benchmarks/plan_time.py`` shows the times)."""
    result = subprocess.run(
        [sys.executable, "-c", _SDKS, stack],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert (result.stdout.splitlines() or [""])[-1].strip() == sdk
