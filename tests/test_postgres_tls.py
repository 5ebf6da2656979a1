"""TLS to managed Postgres: the RDS CA certificates the AWS target ships, and how every database
client in the AWS plan uses them (setup Job, pg-bouncer, pachd, MLDE master)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from cryptography import x509

from infra.contract import DATABASE_CA_CONFIG_MAP, DATABASE_CA_KEY
from infra.targets.aws import rds_ca
from tests.conftest import releases, resource


@pytest.mark.parametrize("region", rds_ca.regions())
def test_shipped_certificate_is_the_regions_rds_root(region: str) -> None:
    certs = x509.load_pem_x509_certificates(rds_ca.rds_ca(region).pem.encode())
    assert len(certs) == 1
    cert = certs[0]
    name = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
    assert name == f"Amazon RDS {region} Root CA RSA2048 G1" == rds_ca.rds_ca(region).name
    assert cert.issuer == cert.subject  # a root
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert cert.not_valid_after_utc > datetime.datetime(2060, 1, 1, tzinfo=datetime.UTC)


def test_every_usual_region_has_its_ca() -> None:
    assert {"us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1"} <= set(
        rds_ca.regions()
    )
    with pytest.raises(ValueError, match="no RDS CA certificate is shipped for region"):
        rds_ca.rds_ca("mars-north-1")


def _ca_maps(snapshot: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        r["inputs"]["metadata"]["namespace"]: r["inputs"]
        for r in snapshot["resources"]
        if r["type"] == "kubernetes:core/v1:ConfigMap"
        and r["inputs"]["metadata"].get("name") == DATABASE_CA_CONFIG_MAP
    }


def test_aws_clients_verify_rds(snapshots: dict[str, Any]) -> None:
    aws = snapshots["aws"]
    expected = rds_ca.rds_ca("us-east-2").pem
    instance = resource(aws, "cluster-postgres-instance")["inputs"]
    assert instance["caCertIdentifier"] == rds_ca.CA_IDENTIFIER

    maps = _ca_maps(aws)
    assert set(maps) == {"default", "pdk-data"}
    assert all(m["data"] == {DATABASE_CA_KEY: expected} for m in maps.values())

    job = resource(aws, "cluster-postgres-databases")["inputs"]["spec"]["template"]["spec"]
    env = {e["name"]: e.get("value") for e in job["containers"][0]["env"]}
    assert env["PGSSLMODE"] == "verify-full"
    mount = next(
        m for m in job["containers"][0]["volumeMounts"] if m["mountPath"] in env["PGSSLROOTCERT"]
    )
    volume = next(v for v in job["volumes"] if v["name"] == mount["name"])
    assert volume["configMap"]["name"] == DATABASE_CA_CONFIG_MAP
    assert env["PGSSLROOTCERT"] == f"{mount['mountPath']}/{DATABASE_CA_KEY}"

    values = releases(aws)["mldm-release"]["values"]
    pg = values["global"]["postgresql"]
    # pg-bouncer verifies; pachd's direct connection can only be told to encrypt.
    assert pg["postgresqlSSL"] == "verify-full" and pg["postgresqlSSLCACert"] == expected
    assert pg["ssl"] is True
    db = values["determined"]["db"]
    assert (db["sslMode"], db["resourceType"]) == ("verify-full", "configMap")
    assert (db["certResourceName"], db["sslRootCert"]) == (DATABASE_CA_CONFIG_MAP, DATABASE_CA_KEY)


def test_rds_accepts_pachw_without_tls(snapshots: dict[str, Any]) -> None:
    """pachw (chart 2.12) has no TLS setting; RDS 15+ would refuse it with rds.force_ssl=1."""
    aws = snapshots["aws"]
    group = resource(aws, "cluster-postgres-parameters")["inputs"]
    assert group["family"] == "postgres16"
    assert [(p["name"], p["value"]) for p in group["parameters"]] == [("rds.force_ssl", "0")]
    instance = resource(aws, "cluster-postgres-instance")["inputs"]
    assert instance["parameterGroupName"] == group["name"]


@pytest.mark.parametrize("stack", ["local", "onprem"])
def test_in_cluster_postgres_stays_plain(snapshots: dict[str, Any], stack: str) -> None:
    snapshot = snapshots[stack]
    assert _ca_maps(snapshot) == {}
    values = releases(snapshot)["mldm-release"]["values"]
    assert values["global"]["postgresql"]["postgresqlSSL"] == "disable"
    assert "ssl" not in values["global"]["postgresql"]
    assert "sslMode" not in values["determined"]["db"]


def test_unshipped_region_is_rejected() -> None:
    from tests.conftest import only_problem

    message = only_problem(
        {"target": "aws", "awsApiAccessCidrs": "203.0.113.0/24", "awsRegion": "mx-central-1"}
    )
    assert "has no RDS CA certificate shipped with this project" in message
