"""Checkov over every Kubernetes object the stacks declare themselves (not the charts' objects:
their hardening is set through values and checked in tests/test_hardening.py).

No failed check may go without a reasoned entry in ``ACCEPTED``, and every entry must still
match a failure, so the list cannot rot. Checkov runs from its own virtualenv
(``.venv-checkov``, made by ``make test`` from tests/checkov/requirements.txt): its boto3 pin
conflicts with the project's.
"""

from __future__ import annotations

import fnmatch
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.plan.engine import SECRET
from infra.plan.stackfiles import REPO_ROOT
from tests.conftest import CUSTOM_GROUPS, STACKS, k8s_objects

CHECKOV = REPO_ROOT / ".venv-checkov" / "bin" / "checkov"

ACCEPTED: dict[tuple[str, str], str] = {
    # (check id, resource pattern "Kind.namespace.name"): why the finding stays.
    ("CKV_K8S_43", "*"): "Images are pinned by tag, not digest: tags are reviewed in the "
    "golden files and the config keys; digests would hide the version from readers.",
    ("CKV_K8S_15", "*"): "imagePullPolicy is left to Kubernetes' default (IfNotPresent for a "
    "tag): every image is pinned, so Always would only add registry round trips.",
    ("CKV_K8S_22", "*"): "Read-only root filesystems are not verified for Postgres, MinIO, "
    "psql, mc and the device plugin (each writes to paths we did not audit); they run as "
    "non-root (except the device plugin) without privilege escalation or capabilities.",
    ("CKV_K8S_8", "DaemonSet.nvidia-device-plugin.*"): "The device plugin serves no HTTP "
    "endpoint to probe; the kubelet drops its GPUs when its socket goes away.",
    ("CKV_K8S_9", "DaemonSet.nvidia-device-plugin.*"): "The device plugin serves no traffic; "
    "nothing routes to it.",
    ("CKV_K8S_40", "*"): "UIDs below 10000: Postgres (and psql) run as the image's postgres "
    "user (999), MinIO and mc as 1000, so their volumes stay writable; the device plugin runs "
    "as root (CKV_K8S_23).",
    ("CKV_K8S_35", "*"): "Credentials reach the servers and setup Jobs as environment variables "
    "from Secrets (secretKeyRef), which is what the Postgres and MinIO images read.",
    ("CKV_K8S_23", "DaemonSet.nvidia-device-plugin.*"): "The device plugin runs as root: the "
    "kubelet's device-plugin socket directory on the host is root's (no privileges, no "
    "escalation, all capabilities dropped).",
    ("CKV_K8S_21", "*"): "The default namespace is where the Pachyderm chart and MLDE run; our "
    "objects there (wiring, routes, the MLDM proxy) belong with them.",
}


def _write(tmp: Path, snapshots: dict[str, Any]) -> None:
    """One YAML file per declared object, one folder per stack (custom resources left out:
    checkov has no checks for them; tests/test_custom_resources.py validates them)."""
    for stack in STACKS:
        folder = tmp / stack
        folder.mkdir()
        for resource, manifest in k8s_objects(snapshots[stack]):
            if manifest["apiVersion"].split("/")[0] in CUSTOM_GROUPS:
                continue
            document = json.loads(json.dumps(manifest))
            document["metadata"].setdefault("name", resource["name"])
            if document.get("stringData") == SECRET:
                document["stringData"] = {"redacted": "x"}
            (folder / f"{resource['name']}.yaml").write_text(yaml.safe_dump(document))


def _resource_id(failed: dict[str, Any]) -> str:
    return str(failed["resource"])


@pytest.fixture(scope="module")
def findings(snapshots: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> list[Any]:
    if not CHECKOV.exists():
        message = "checkov is not installed: make test creates .venv-checkov"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    tmp = tmp_path_factory.mktemp("manifests")
    _write(tmp, snapshots)
    done = subprocess.run(
        [
            str(CHECKOV),
            "--directory",
            str(tmp),
            "--framework",
            "kubernetes",
            "--output",
            "json",
            "--skip-download",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": ""},
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr[-2000:]
    report = json.loads(done.stdout)
    reports = report if isinstance(report, list) else [report]
    failed = [f for r in reports for f in r.get("results", {}).get("failed_checks", [])]
    passed = sum(len(r.get("results", {}).get("passed_checks", [])) for r in reports)
    assert passed > 100, "checkov checked nothing"
    return failed


def _accepted(failed: dict[str, Any]) -> tuple[str, str] | None:
    for check, pattern in ACCEPTED:
        if failed["check_id"] == check and fnmatch.fnmatchcase(_resource_id(failed), pattern):
            return (check, pattern)
    return None


def test_no_unreasoned_checkov_finding(findings: list[Any]) -> None:
    unexplained = sorted(
        {
            f"{f['check_id']} {_resource_id(f)}: {f['check_name']}"
            for f in findings
            if _accepted(f) is None
        }
    )
    assert not unexplained, "\n".join(unexplained)


def test_every_accepted_finding_still_occurs(findings: list[Any]) -> None:
    used = {_accepted(f) for f in findings}
    stale = [key for key in ACCEPTED if key not in used]
    assert not stale, stale
