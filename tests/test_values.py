"""``pachyderm_values`` for every kind of target, called directly: the function is pure, so
the cloud shapes (S3 with IRSA, GCS with Cloud SQL) are checked before those targets exist."""

from __future__ import annotations

import dataclasses
from typing import Any

import pulumi
import pytest
from pulumi.runtime.sync_await import _sync_await

from infra.contract import (
    DATABASES,
    Buckets,
    CloudSqlProxy,
    DatabaseCa,
    ImageRegistry,
    NodePlacement,
    ObjectStore,
    Postgres,
    SharedFilesystem,
    StorageAccess,
    TargetContract,
)
from infra.plan.engine import use_mock_engine
from infra.platform.knative import manifest_urls
from infra.platform.kserve import chart_for, mode_value
from infra.platform.values import CLOUD_SQL_PROXY_HOST, MldeSettings, pachyderm_values

ROLE = {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/pdk-mldm"}
SETTINGS = MldeSettings("0.38.1", "cpu:1", "gpu:1", 8, "gpu-pool")


def contract(kind: str, cloud_sql: CloudSqlProxy | None = None) -> TargetContract:
    identity = StorageAccess(service_account_annotations=ROLE)
    return TargetContract(
        name="test",
        provider=None,  # type: ignore[arg-type]  # the values function never reads it
        kubernetes_version="1.33",
        cluster_name="c",
        namespaces={},
        object_store=ObjectStore(
            kind=kind,  # type: ignore[arg-type]
            endpoint="https://s3.us-east-2.amazonaws.com" if kind == "s3" else "",
            region="us-east-2",
            secure=True,
            buckets=Buckets(mldm="b-mldm", checkpoints="b-ckpt", models="b-models"),
        ),
        storage_access={"mldm": identity, "mlde": identity, "kserve": identity},
        postgres=Postgres(
            host="db.internal",
            port=5432,
            user="pdk",
            password="db-password",  # type: ignore[arg-type]
            databases=DATABASES,
            ready=[],
            sslmode="require",
            cloud_sql=cloud_sql,
        ),
        shared_fs=SharedFilesystem("pdk-pvc", ["default", "gpu-pool"]),
        registry=ImageRegistry(""),
        nodes=NodePlacement(
            gpu_enabled=True,
            gpu_label=("role", "gpu"),
            gpu_taint=("nvidia.com/gpu", "present", "NoSchedule"),
            cpu_label=("role", "cpu"),
            needs_device_plugin=True,
        ),
    )


def resolve(target: TargetContract) -> dict[str, Any]:
    use_mock_engine("values-test")
    values = pachyderm_values(target, SETTINGS, postgres_secret="pg", admin_password="admin-pw")
    resolved: dict[str, Any] = _sync_await(pulumi.Output.from_input(values).future())
    return resolved


def test_s3_target_uses_iam_roles_and_no_keys() -> None:
    values = resolve(contract("s3"))
    assert values["deployTarget"] == "AMAZON"
    # Chart 2.11+ opens the bucket from storageURL; no keys with IRSA.
    assert values["pachd"]["storage"] == {
        "storageURL": "s3://b-mldm?region=us-east-2",
        "amazon": {"region": "us-east-2"},
    }
    for account in (values["pachd"]["serviceAccount"], values["pachd"]["worker"]["serviceAccount"]):
        assert account["additionalAnnotations"] == ROLE
    checkpoints = values["determined"]["checkpointStorage"]
    assert checkpoints["type"] == "s3" and checkpoints["bucket"] == "b-ckpt"
    assert not {"accessKey", "secretKey", "endpointUrl"} & set(checkpoints)
    assert values["global"]["postgresql"]["postgresqlSSL"] == "require"
    assert "cloudsqlAuthProxy" not in values


def test_gcs_target_goes_through_the_cloud_sql_proxy() -> None:
    proxy = CloudSqlProxy("proj:us-central1:pdk", "pdk@proj.iam.gserviceaccount.com")
    values = resolve(contract("gcs", cloud_sql=proxy))
    assert values["deployTarget"] == "GOOGLE"
    assert values["pachd"]["storage"] == {"storageURL": "gs://b-mldm"}
    assert values["determined"]["checkpointStorage"]["type"] == "gcs"
    assert values["cloudsqlAuthProxy"] == {
        "enabled": True,
        "connectionName": "proj:us-central1:pdk",
        "serviceAccount": "pdk@proj.iam.gserviceaccount.com",
        # The chart's v2 proxy dials the public IP unless told otherwise.
        "privateIp": True,
        "resources": {
            "requests": {"cpu": "250m", "memory": "500Mi"},
            "limits": {"cpu": "1", "memory": "1Gi"},
        },
    }
    assert values["global"]["postgresql"]["postgresqlHost"] == CLOUD_SQL_PROXY_HOST
    assert values["determined"]["db"]["hostAddress"] == CLOUD_SQL_PROXY_HOST
    # The proxy encrypts the hop to Cloud SQL; the in-cluster hop to it is plain.
    assert values["global"]["postgresql"]["postgresqlSSL"] == "disable"


def test_settings_reach_the_determined_block() -> None:
    determined = resolve(contract("s3"))["determined"]
    assert determined["detVersion"] == "0.38.1"
    assert determined["maxSlotsPerPod"] == 8
    assert determined["taskContainerDefaults"] == {"cpuImage": "cpu:1", "gpuImage": "gpu:1"}
    assert determined["initialUserPassword"] == "admin-pw"
    assert determined["db"]["name"] == "determined"
    assert determined["defaultAuxResourcePool"] == "default"


@pytest.mark.parametrize(
    ("version", "chart", "serverless", "raw"),
    [
        ("v0.15.2", "oci://ghcr.io/kserve/charts/kserve", "Serverless", "RawDeployment"),
        ("v0.16.1", "oci://ghcr.io/kserve/charts/kserve", "Serverless", "RawDeployment"),
        ("v0.17.1", "oci://ghcr.io/kserve/charts/kserve-resources", "Knative", "Standard"),
        ("0.20.0", "oci://ghcr.io/kserve/charts/kserve-resources", "Knative", "Standard"),
    ],
)
def test_kserve_chart_name_and_modes_follow_the_version(
    version: str, chart: str, serverless: str, raw: str
) -> None:
    assert chart_for(version).name == chart
    assert mode_value(version, "Serverless") == serverless
    assert mode_value(version, "RawDeployment") == raw


def test_knative_manifests_are_versioned_urls() -> None:
    urls = manifest_urls("v1.21.1", "1.21.3")
    assert list(urls) == ["crds", "core", "net-istio"]
    assert urls["core"].endswith("/knative-v1.21.1/serving-core.yaml")
    assert urls["net-istio"].endswith("/knative-v1.21.3/net-istio.yaml")


def test_verified_tls_reaches_pgbouncer_pachd_and_the_mlde_master() -> None:
    base = contract("s3")
    postgres = dataclasses.replace(
        base.postgres, sslmode="verify-full", ca=DatabaseCa(pem="PEM", name="test CA")
    )
    values = resolve(dataclasses.replace(base, postgres=postgres))
    pg = values["global"]["postgresql"]
    assert (pg["postgresqlSSL"], pg["postgresqlSSLCACert"], pg["ssl"]) == (
        "verify-full",
        "PEM",
        True,
    )
    db = values["determined"]["db"]
    assert db["sslMode"] == "verify-full"
    assert (db["certResourceName"], db["sslRootCert"]) == ("postgres-ca", "ca.pem")


def test_encryption_without_a_ca_leaves_the_mlde_master_plain() -> None:
    # The chart requires a root certificate with db.sslMode, so TLS there needs a CA.
    values = resolve(contract("s3"))
    assert values["global"]["postgresql"]["ssl"] is True
    assert "sslMode" not in values["determined"]["db"]
