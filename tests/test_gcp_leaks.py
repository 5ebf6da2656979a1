"""The GCP leak query through Google's own client library (``google-api-python-client``, its
bundled discovery documents) over a faked HTTP transport: the client builds every request
(paths, filters, paging) as it would against Google, and the transport answers with recorded
response shapes. Whether the real APIs list what the fake lists cannot be shown here."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httplib2
import pytest
from googleapiclient import discovery

from infra.ops.leaks import LeakQuery
from infra.targets.gcp.leaks import LABEL, find_leaks

PROJECT = "pdk-demo-project"
ID = "ci-gcp-1"
LINK = f"https://www.googleapis.com/compute/v1/projects/{PROJECT}"


class FakeTransport:
    """Answers by path; records ``(path, query)`` of every request."""

    def __init__(self, answers: dict[str, Any], fail: str | None = None) -> None:
        self.answers = answers
        self.fail = fail
        self.requests: list[tuple[str, dict[str, list[str]]]] = []

    def request(
        self, uri: str, method: str = "GET", body: Any = None, headers: Any = None, **kwargs: Any
    ) -> tuple[httplib2.Response, bytes]:
        parts = urlsplit(uri)
        self.requests.append((parts.path, parse_qs(parts.query)))
        if self.fail and parts.path.endswith(self.fail):
            error = {"error": {"code": 403, "message": "Permission denied"}}
            return httplib2.Response({"status": "403"}), json.dumps(error).encode()
        for suffix, answer in self.answers.items():
            if parts.path.endswith(suffix):
                return httplib2.Response({"status": "200"}), json.dumps(answer).encode()
        return httplib2.Response({"status": "200"}), b"{}"


def _builder(transport: FakeTransport) -> Any:
    def build(api: str, version: str) -> Any:
        return discovery.build(api, version, http=transport, static_discovery=True)

    return build


def _query() -> LeakQuery:
    return LeakQuery(ID, {"gcpProject": PROJECT}, [])


def test_labelled_and_named_leftovers_are_reported() -> None:
    disk = f"{LINK}/zones/us-central1-a/disks/pvc-123"
    rule = f"{LINK}/global/firewalls/gke-pdk-{ID}-gke-abc-all"
    transport = FakeTransport(
        {
            "/aggregated/disks": {
                "items": {"zones/us-central1-a": {"disks": [{"selfLink": disk}]}}
            },
            "/global/firewalls": {"items": [{"selfLink": rule}]},
            "/b": {"items": [{"name": f"pdk-{ID}-models", "location": "US-CENTRAL1"}]},
        }
    )
    report = find_leaks(_query(), build=_builder(transport))
    assert [(leak.kind, leak.id) for leak in report.leaks] == [
        ("compute:disks", disk),
        ("compute:firewalls", rule),
        ("storage:bucket", f"gs://pdk-{ID}-models"),
    ]
    assert report.errors == [] and not report.clean
    by_path = dict(transport.requests)
    disk_filters = [
        query["filter"][0]
        for path, query in transport.requests
        if path == f"/compute/v1/projects/{PROJECT}/aggregated/disks"
    ]
    assert disk_filters == [
        f'labels.{LABEL} = "{ID}"',
        f'labels.goog-k8s-cluster-name = "pdk-{ID}-gke"',
    ]
    # The same disk found twice (by both labels) is one leak.
    assert LABEL == "pdk-deployer-deployment-id"
    assert by_path[f"/compute/v1/projects/{PROJECT}/global/firewalls"]["filter"] == [
        f'name eq "(pdk-{ID}-|gke-pdk-{ID}-).*"'
    ]
    assert by_path["/storage/v1/b"]["prefix"] == [f"pdk-{ID}-"]
    assert f"/v1/projects/{PROJECT}/locations/-/clusters" in by_path


def test_nothing_left_is_clean_and_says_what_it_asked() -> None:
    report = find_leaks(_query(), build=_builder(FakeTransport({})))
    assert report.clean
    assert len(report.queried) == 11
    assert f"compute disks labelled {LABEL}={ID}" in report.queried


def test_a_denied_list_call_makes_the_report_not_clean() -> None:
    report = find_leaks(
        _query(), build=_builder(FakeTransport({}, fail=f"/v1/projects/{PROJECT}/instances"))
    )
    assert not report.clean
    assert len(report.errors) == 1 and "Cloud SQL" in report.errors[0]
    assert "403" in report.errors[0]


def test_without_a_project_nothing_is_asked() -> None:
    report = find_leaks(LeakQuery(ID, {}, []), build=pytest.fail)
    assert report.errors == ["the stack has no gcpProject: cannot tell where to look"]
