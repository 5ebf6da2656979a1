"""``pdk verify``: the checks the install guides make by hand, against a deployed stack.

Each check is a small function over injected clients (the Kubernetes API, MLDM's and MLDE's
official clients, plain HTTP), so each can be tested at its client boundary. ``run_checks``
times them and never lets one failure hide the others.
"""

from __future__ import annotations

import base64
import http.client
import json
import secrets
import socket
import ssl
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from infra.ops.drain import namespaces_in_state

GPU_RESOURCE = "nvidia.com/gpu"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
"""The only resource type with a Helm release record. A ``helm.sh/v4:Chart`` (charts.applied)
keeps none: its objects are resources of the stack, checked as such (pods Ready)."""
INFERENCE_SERVICES = ("serving.kserve.io", "v1beta1", "inferenceservices")


class CheckFailed(Exception):
    """A check's verdict, with what was wrong."""


class CheckSkipped(Exception):
    """The check does not apply to this stack (and why)."""


@dataclass
class Check:
    name: str
    status: str
    """pass, FAIL or skip."""
    seconds: float
    detail: str

    @property
    def failed(self) -> bool:
        return self.status == "FAIL"


def http_request(
    url: str,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    ca_file: str | None = None,
) -> tuple[int, bytes]:
    """One HTTP(S) call to ``url`` (the gateway's address); any status is an answer. A
    ``Host`` header also names the TLS server (SNI), as ``curl --connect-to`` does, so a
    gateway that routes by name is reached by address."""
    headers = dict(headers or {})
    parts = urlsplit(url)
    host = headers.get("Host") or parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        context = ssl.create_default_context(cafile=ca_file)

        class _Named(http.client.HTTPSConnection):
            def connect(self) -> None:
                raw = socket.create_connection((str(parts.hostname), port), timeout=60)
                self.sock = context.wrap_socket(raw, server_hostname=host.split(":")[0])

        connection = _Named(str(parts.hostname), port, timeout=60, context=context)
    else:
        connection = http.client.HTTPConnection(str(parts.hostname), port, timeout=60)
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request("POST" if body is not None else "GET", path, body, headers)
        response = connection.getresponse()
        return int(response.status), bytes(response.read())
    finally:
        connection.close()


@dataclass
class Stack:
    """What verify knows about the deployed stack."""

    config: Mapping[str, Any]
    """Config keys without the project prefix."""
    outputs: Mapping[str, Any]
    state: Sequence[Mapping[str, Any]]
    kube: Any
    """A ``kubernetes.client.ApiClient``."""
    mldm_client: Callable[..., Any] = field(default=lambda *args: _pachyderm(*args))
    """(address, root token, CA bytes or None) -> ``pachyderm_sdk.Client``."""
    mlde_client: Callable[..., Any] = field(default=lambda *args: _determined(*args))
    """(url, user, password, CA file or None) -> ``determined.experimental.Determined``."""
    http: Callable[..., tuple[int, bytes]] = http_request
    sleep: Callable[[float], None] = time.sleep
    timeout: float = 600
    """How long readiness checks and pipeline waits may take, in seconds."""


def _pachyderm(address: str, token: str, ca: bytes | None) -> Any:
    from pachyderm_sdk import Client

    return Client.from_pachd_address(address, auth_token=token, root_certs=ca)


def _determined(url: str, user: str, password: str, ca_file: str | None) -> Any:
    from determined.experimental import Determined

    return Determined(master=url, user=user, password=password, cert_path=ca_file)


def _core(stack: Stack) -> Any:
    from kubernetes import client

    return client.CoreV1Api(stack.kube)


def _service_ref(host: str) -> tuple[str, str]:
    """``name.namespace.svc.cluster.local`` -> (namespace, name)."""
    name, namespace = host.split(".")[:2]
    return namespace, name


def external_address(stack: Stack, service_host: str) -> tuple[str, int]:
    """Where a Service is reached from outside: its load-balancer address and port, or a
    node's address and the node port."""
    namespace, name = _service_ref(service_host)
    service = _core(stack).read_namespaced_service(name, namespace)
    port = next((p for p in service.spec.ports if p.name == "http"), service.spec.ports[0])
    if service.spec.type == "LoadBalancer":
        ingress = (service.status.load_balancer.ingress or [None])[0]
        if ingress is None:
            raise CheckFailed(f"Service {namespace}/{name} has no load-balancer address yet")
        return str(ingress.ip or ingress.hostname), int(port.port)
    nodes = _core(stack).list_node().items
    for node in nodes:
        for address in node.status.addresses or []:
            if address.type == "InternalIP":
                return str(address.address), int(port.node_port)
    raise CheckFailed("no node has an InternalIP to reach a NodePort on")


def _ca_file(stack: Stack) -> str | None:
    """The stack's CA certificate (``caCertificate`` output, TLS on) as a file for clients."""
    pem = stack.outputs.get("caCertificate")
    if not pem:
        return None
    with tempfile.NamedTemporaryFile("w", prefix="pdk-ca-", suffix=".crt", delete=False) as handle:
        handle.write(str(pem))
    return handle.name


def _gateway(stack: Stack) -> tuple[str, str]:
    """(scheme, HOST:PORT) of the gateway every user-facing name goes through."""
    host, port = external_address(stack, stack.outputs["gateway"]["service"])
    scheme = "https" if stack.outputs["gateway"].get("tls") else "http"
    return scheme, f"{host}:{port}"


def _resolvable(url: str) -> None:
    name = urlsplit(url if "://" in url else f"x://{url}").hostname or url
    try:
        socket.getaddrinfo(name, None)
    except OSError:
        raise CheckFailed(
            f"{name} does not resolve: map the gateway's names first "
            "(`pulumi stack output commands` has resolveHosts)"
        ) from None


def check_nodes(stack: Stack) -> str:
    nodes = _core(stack).list_node().items
    if not nodes:
        raise CheckFailed("the cluster has no nodes")
    not_ready = [
        node.metadata.name
        for node in nodes
        if not any(c.type == "Ready" and c.status == "True" for c in node.status.conditions or [])
    ]
    if not_ready:
        raise CheckFailed(f"not Ready: {', '.join(not_ready)}")
    return f"{len(nodes)} nodes Ready"


def check_gpus(stack: Stack) -> str:
    if str(stack.config.get("gpuEnabled", "true")).lower() == "false":
        raise CheckSkipped("gpuEnabled is false")
    label = str(stack.config.get("gpuNodeLabel") or "nodegroup-role=gpu-worker")
    nodes = _core(stack).list_node(label_selector=label).items
    if not nodes:
        raise CheckSkipped(f"no node labelled {label} is running (GPU groups may scale from 0)")
    missing = [
        node.metadata.name
        for node in nodes
        if int((node.status.allocatable or {}).get(GPU_RESOURCE, "0")) < 1
    ]
    if missing:
        raise CheckFailed(f"no allocatable {GPU_RESOURCE} on: {', '.join(missing)}")
    total = sum(int(node.status.allocatable[GPU_RESOURCE]) for node in nodes)
    return f"{total} GPUs allocatable on {len(nodes)} nodes"


def expected_releases(state: Sequence[Mapping[str, Any]]) -> set[tuple[str, str]]:
    """(namespace, release) of every Helm release in the stack's state."""
    found = set()
    for resource in state:
        if resource.get("type") == HELM_RELEASE:
            inputs = resource.get("inputs") or {}
            outputs = resource.get("outputs") or {}
            name = outputs.get("name") or inputs.get("name")
            namespace = outputs.get("namespace") or inputs.get("namespace") or "default"
            if name:
                found.add((str(namespace), str(name)))
    return found


def check_releases(stack: Stack) -> str:
    """Helm keeps each revision in a Secret labelled owner=helm, name, status and version;
    the newest revision of every release must be ``deployed``."""
    wanted = expected_releases(stack.state)
    if not wanted:
        raise CheckSkipped("the stack has no Helm releases")
    latest: dict[tuple[str, str], tuple[int, str]] = {}
    for secret in _core(stack).list_secret_for_all_namespaces(label_selector="owner=helm").items:
        labels = secret.metadata.labels or {}
        key = (secret.metadata.namespace, labels.get("name", ""))
        version = int(labels.get("version", "0"))
        if version >= latest.get(key, (-1, ""))[0]:
            latest[key] = (version, labels.get("status", ""))
    problems = []
    for key in sorted(wanted):
        status = latest.get(key, (0, "missing"))[1]
        if status != "deployed":
            problems.append(f"{key[0]}/{key[1]}: {status}")
    if problems:
        raise CheckFailed("; ".join(problems))
    return f"{len(wanted)} releases deployed"


def _pod_ready(pod: Any) -> bool:
    if pod.status.phase == "Succeeded":
        return True
    conditions = pod.status.conditions or []
    return pod.status.phase == "Running" and any(
        c.type == "Ready" and c.status == "True" for c in conditions
    )


def check_pods(stack: Stack) -> str:
    """Every pod in the stack's namespaces Ready (or completed), waiting up to the timeout."""
    namespaces = namespaces_in_state(stack.state)
    deadline = time.monotonic() + stack.timeout
    while True:
        pods = [
            pod
            for pod in _core(stack).list_pod_for_all_namespaces().items
            if pod.metadata.namespace in namespaces
        ]
        waiting = [f"{p.metadata.namespace}/{p.metadata.name}" for p in pods if not _pod_ready(p)]
        if not waiting:
            return f"{len(pods)} pods Ready in {len(namespaces)} namespaces"
        if time.monotonic() >= deadline:
            raise CheckFailed(f"not Ready after {stack.timeout:.0f}s: {', '.join(waiting[:8])}")
        stack.sleep(10)


def _mldm(stack: Stack) -> tuple[Any, str]:
    url = str(stack.outputs["mldm"]["url"])
    _resolvable(url)
    secret = _core(stack).read_namespaced_secret("mldm-auth", "default")
    token = base64.b64decode(secret.data["root-token"]).decode()
    ca = stack.outputs.get("caCertificate")
    return stack.mldm_client(url, token, str(ca).encode() if ca else None), url


def check_mldm(stack: Stack) -> str:
    """Creates and deletes a throwaway repo through the gateway, as root."""
    from pachyderm_sdk.api import pfs

    client, url = _mldm(stack)
    repo = pfs.Repo(name=f"pdk-verify-{secrets.token_hex(3)}", type="user")
    repo.project = pfs.Project(name="default")
    client.pfs.create_repo(repo=repo, description="pdk verify; deleted right away")
    client.pfs.delete_repo(repo=repo, force=True)
    return f"created and deleted repo {repo.name} at {url}"


def _mlde_password(stack: Stack) -> str:
    secret = _core(stack).read_namespaced_secret("pipeline-secret", "default")
    return base64.b64decode(secret.data["det_password"]).decode()


def _mlde(stack: Stack) -> Any:
    url = str(stack.outputs["mlde"]["url"])
    _resolvable(url)
    user = stack.outputs["mlde"]["user"]
    return stack.mlde_client(url, user, _mlde_password(stack), _ca_file(stack)), url


def check_mlde(stack: Stack) -> str:
    client, url = _mlde(stack)
    user = client.whoami()
    return f"logged in to {url} as {user.username}"


EXPERIMENT_SCRIPT = """\
import pathlib
import determined as det

with det.core.init() as core:
    with core.checkpoint.store_path({"steps_completed": 1}) as (path, _):
        (pathlib.Path(path) / "verify.txt").write_text("pdk verify")
    core.train.report_validation_metrics(steps_completed=1, metrics={"x": 0.0})
"""


def experiment_config() -> dict[str, Any]:
    """A one-step CPU experiment that only writes a checkpoint (to the stack's bucket)."""
    return {
        "name": "pdk-verify",
        "entrypoint": "python3 verify_trial.py",
        "searcher": {"name": "single", "metric": "x", "smaller_is_better": True},
        "resources": {"slots_per_trial": 0, "resource_pool": "default"},
        "max_restarts": 0,
    }


def check_experiment(stack: Stack) -> str:
    client, _ = _mlde(stack)
    with tempfile.TemporaryDirectory(prefix="pdk-verify-") as folder:
        (Path(folder) / "verify_trial.py").write_text(EXPERIMENT_SCRIPT)
        experiment = client.create_experiment(experiment_config(), folder)
    state = experiment.wait(interval=5)
    name = getattr(state, "name", str(state))
    if not name.endswith("COMPLETED"):
        raise CheckFailed(f"experiment {experiment.id} ended {name}")
    checkpoints = experiment.list_checkpoints()
    if not checkpoints:
        raise CheckFailed(f"experiment {experiment.id} completed without a checkpoint")
    return f"experiment {experiment.id} completed, checkpoint {checkpoints[0].uuid}"


def predict(
    http: Callable[..., tuple[int, bytes]],
    base: str,
    host: str,
    model: str,
    body: bytes,
    ca_file: str | None = None,
) -> Any:
    """A KServe v1 predict through the gateway: the Host header picks the InferenceService's
    route, the path names the model inside it."""
    status, answer = http(
        f"{base}/v1/models/{model}:predict",
        body,
        {"Host": host, "Content-Type": "application/json"},
        ca_file,
    )
    if status != 200:
        raise CheckFailed(f"{model} answered HTTP {status}: {answer[:200]!r}")
    return json.loads(answer)


def _model_host(stack: Stack, model: str) -> str:
    template = str(stack.outputs["kserve"]["hostHeader"])
    return template.replace("MODEL", model, 1)


def ping(
    http: Callable[..., tuple[int, bytes]], base: str, host: str, ca_file: str | None = None
) -> str:
    """TorchServe's health endpoint through the gateway; the Host header picks the route."""
    status, answer = http(f"{base}/ping", None, {"Host": host}, ca_file)
    if status != 200:
        raise CheckFailed(f"{host} answered /ping with HTTP {status}: {answer[:200]!r}")
    return answer.decode(errors="replace").strip()


def check_model(stack: Stack) -> str:
    """A deployed InferenceService answers through the gateway (its health endpoint: only the
    flow knows what input its model takes, so --flow is the check that predicts)."""
    from kubernetes import client

    namespace = stack.outputs["kserve"]["namespace"]
    group, version, plural = INFERENCE_SERVICES
    services = client.CustomObjectsApi(stack.kube).list_namespaced_custom_object(
        group, version, namespace, plural
    )["items"]
    scheme, address = _gateway(stack)
    base, ca = f"{scheme}://{address}", _ca_file(stack)
    if not services:
        status, _ = stack.http(f"{base}/", None, {"Host": _model_host(stack, "none")}, ca)
        raise CheckSkipped(
            f"no InferenceService in {namespace} (the gateway answered HTTP {status}); "
            "--flow deploys one"
        )
    name = services[0]["metadata"]["name"]
    host = _model_host(stack, name)
    answer = ping(stack.http, base, host, ca)
    return f"{name} answered {answer} through {address} with Host {host}"


def check_flow(stack: Stack) -> str:
    """Commits the example's sample data, waits for train and deploy, predicts."""
    from pachyderm_sdk.api import pfs

    from pdk_assets.envelope import request_body
    from pdk_assets.manifest import EXAMPLES_DIR, load_manifest
    from pdk_assets.synthetic import request_images, write_dataset

    manifest = load_manifest(EXAMPLES_DIR / str(stack.config.get("flowExample") or "dog-cat"))
    client, _ = _mldm(stack)
    with tempfile.TemporaryDirectory(prefix="pdk-verify-flow-") as folder:
        data = write_dataset(Path(folder) / "data", manifest.classes)
        branch = pfs.Branch.from_uri(f"{manifest.mldm.project}/{manifest.mldm.repo}@master")
        with client.pfs.commit(branch=branch) as commit:
            files = sorted(p for p in data.rglob("*") if p.is_file())
            for path in files:
                commit.put_file_from_file(path=f"/{path.relative_to(data)}", file=path)
        infos = client.pfs.wait_commit_set(pfs.CommitSet(id=commit.commit.id))
        images = request_images(Path(folder) / "requests", manifest.classes)
        body = json.dumps(request_body([images[0].read_bytes()])).encode()
    failed = [i for i in infos if getattr(i, "error", "")]
    if failed:
        raise CheckFailed(f"pipeline commits failed: {[i.commit.repo.name for i in failed]}")
    scheme, address = _gateway(stack)
    host = _model_host(stack, manifest.serving.inference_service)
    answer = predict(
        stack.http,
        f"{scheme}://{address}",
        host,
        manifest.serving.model_name,
        body,
        _ca_file(stack),
    )
    return f"{len(files)} files committed, {len(infos)} commits done, {host} answered {answer}"


CHECKS: list[tuple[str, Callable[[Stack], str]]] = [
    ("nodes Ready", check_nodes),
    ("GPUs allocatable", check_gpus),
    ("Helm releases deployed", check_releases),
    ("pods Ready", check_pods),
    ("MLDM reachable", check_mldm),
    ("MLDE login", check_mlde),
    ("model through the gateway", check_model),
]


def run_checks(
    stack: Stack, experiment: bool = False, flow: bool = False, on_result: Any = None
) -> list[Check]:
    checks = list(CHECKS)
    if experiment:
        checks.append(("MLDE experiment + checkpoint", check_experiment))
    if flow:
        checks.append(("flow: commit, train, deploy, predict", check_flow))
    results = []
    for name, function in checks:
        started = time.perf_counter()
        try:
            status, detail = "pass", function(stack)
        except CheckSkipped as skipped:
            status, detail = "skip", str(skipped)
        except Exception as error:  # a check's failure is its verdict, not the end of the run
            status, detail = "FAIL", str(error) or type(error).__name__
        result = Check(name, status, time.perf_counter() - started, detail)
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results
