"""A real Kubernetes control plane on this machine: etcd, kube-apiserver, kube-controller-manager
and kube-scheduler built from their Go modules (``tests/rig/build.py``), with kwok simulating the
nodes and the pods' lifecycle (Running and Ready, Jobs completed), since no container runtime
exists here.

What is real: the API server and everything it does to an object (defaulting, validation,
OpenAPI and CEL rules of CRDs, pruning, immutable fields, finalizers, garbage collection,
namespace deletion), the controllers (Deployments, StatefulSets, Jobs, EndpointSlices, PV
binding, the hostPath provisioner) and scheduling. What is simulated: kubelets (kwok) and so
containers never run. What is switched off, for the rig only: calls to admission webhooks (the
charts' webhook servers would be kwok pods with no process behind them), so the webhook
configurations are created and removed like any object but never called.

Every process runs in its own session with its output in ``.rig/run/logs/``; ``stop()`` ends
them all. Only loopback addresses are listened on.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import secrets
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.rig.build import BIN, RIG, ROOT

RUN = RIG / "run"
CERTS = RUN / "certs"
LOGS = RUN / "logs"
PIDS = RUN / "pids.json"
KUBECONFIG = RUN / "kubeconfig"

PLUGINS = ROOT / "tests" / "rig" / "plugins"
STATE = RIG / "state"
PULUMI_HOME = RIG / "pulumi-home"
PASSPHRASE = RIG / "passphrase"

HOST = "127.0.0.1"
PORTS = {"etcd": 23790, "etcd-peer": 23800, "kube-apiserver": 26443}
"""Loopback ports the rig listens on; ``PDK_RIG_PORT_OFFSET`` shifts them all (two rigs)."""

SERVICE_CIDR = "10.96.0.0/16"
POD_CIDR = "10.244.0.0/16"
"""Addresses kwok writes into pod status; nothing on this machine sends traffic to them."""

NODES = ("rig-node-0", "rig-node-1")
NODE_CAPACITY = {"cpu": "16", "memory": "64Gi", "pods": "110", "ephemeral-storage": "200Gi"}

COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")


class RigError(Exception):
    """The rig cannot start or is not running; the message names what is missing."""


def port(name: str) -> int:
    return PORTS[name] + int(os.environ.get("PDK_RIG_PORT_OFFSET", "0"))


def server_url() -> str:
    return f"https://{HOST}:{port('kube-apiserver')}"


# --- certificates ---------------------------------------------------------------------------


def _write_certificates() -> None:
    """A CA, the API server's serving certificate, an admin client certificate
    (``system:masters``) and the service-account signing key; made once per rig."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    if (CERTS / "admin.crt").exists():
        return
    CERTS.mkdir(parents=True, exist_ok=True)
    os.chmod(CERTS, 0o700)
    now = datetime.datetime.now(datetime.UTC)

    def key_pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
        return key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def write(name: str, data: bytes, private: bool = False) -> None:
        path = CERTS / name
        path.write_bytes(data)
        os.chmod(path, 0o600 if private else 0o644)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pdk-rig-ca")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    write("ca.crt", ca.public_bytes(serialization.Encoding.PEM))
    write("ca.key", key_pem(ca_key), private=True)

    def leaf(name: str, subject: x509.Name, sans: list[x509.GeneralName], usage: object) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=365))
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)  # type: ignore[list-item]
        )
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        cert = builder.sign(ca_key, hashes.SHA256())
        write(f"{name}.crt", cert.public_bytes(serialization.Encoding.PEM))
        write(f"{name}.key", key_pem(key), private=True)

    import ipaddress

    dns = [
        "localhost",
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
    ]
    leaf(
        "apiserver",
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]),
        [x509.DNSName(d) for d in dns]
        + [
            x509.IPAddress(ipaddress.ip_address(HOST)),
            x509.IPAddress(ipaddress.ip_address("10.96.0.1")),
        ],
        ExtendedKeyUsageOID.SERVER_AUTH,
    )
    leaf(
        "admin",
        x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "system:masters"),
                x509.NameAttribute(NameOID.COMMON_NAME, "pdk-rig-admin"),
            ]
        ),
        [],
        ExtendedKeyUsageOID.CLIENT_AUTH,
    )
    sa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    write("sa.key", key_pem(sa_key), private=True)
    write(
        "sa.pub",
        sa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
    )


def _write_kubeconfig() -> None:
    import base64

    def b64(name: str) -> str:
        return base64.b64encode((CERTS / name).read_bytes()).decode()

    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "pdk-rig",
                "cluster": {"server": server_url(), "certificate-authority-data": b64("ca.crt")},
            }
        ],
        "users": [
            {
                "name": "pdk-rig-admin",
                "user": {
                    "client-certificate-data": b64("admin.crt"),
                    "client-key-data": b64("admin.key"),
                },
            }
        ],
        "contexts": [
            {"name": "pdk-rig", "context": {"cluster": "pdk-rig", "user": "pdk-rig-admin"}}
        ],
        "current-context": "pdk-rig",
    }
    KUBECONFIG.write_text(json.dumps(config, indent=2))
    os.chmod(KUBECONFIG, 0o600)


# --- processes ------------------------------------------------------------------------------


def _commands() -> dict[str, list[str]]:
    c = CERTS
    etcd_url = f"http://{HOST}:{port('etcd')}"
    return {
        "etcd": [
            "etcd",
            "--name=rig",
            f"--data-dir={RUN / 'etcd'}",
            f"--listen-client-urls={etcd_url}",
            f"--advertise-client-urls={etcd_url}",
            f"--listen-peer-urls=http://{HOST}:{port('etcd-peer')}",
            f"--initial-advertise-peer-urls=http://{HOST}:{port('etcd-peer')}",
            f"--initial-cluster=rig=http://{HOST}:{port('etcd-peer')}",
            # A throwaway store: durability buys nothing here and fsync dominates its time.
            "--unsafe-no-fsync",
            "--log-level=warn",
        ],
        "kube-apiserver": [
            "kube-apiserver",
            f"--etcd-servers={etcd_url}",
            f"--bind-address={HOST}",
            f"--advertise-address={HOST}",
            f"--secure-port={port('kube-apiserver')}",
            f"--tls-cert-file={c / 'apiserver.crt'}",
            f"--tls-private-key-file={c / 'apiserver.key'}",
            f"--client-ca-file={c / 'ca.crt'}",
            f"--service-account-key-file={c / 'sa.pub'}",
            f"--service-account-signing-key-file={c / 'sa.key'}",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--authorization-mode=RBAC",
            "--allow-privileged=true",
            # Rig only: the charts' webhook servers are kwok pods with nothing behind them.
            "--disable-admission-plugins=MutatingAdmissionWebhook,ValidatingAdmissionWebhook",
            # No kubelets: the API server never dials a node or a pod.
            "--endpoint-reconciler-type=lease",
            "--v=1",
        ],
        "kube-controller-manager": [
            "kube-controller-manager",
            f"--kubeconfig={KUBECONFIG}",
            f"--authentication-kubeconfig={KUBECONFIG}",
            f"--authorization-kubeconfig={KUBECONFIG}",
            f"--service-account-private-key-file={c / 'sa.key'}",
            f"--root-ca-file={c / 'ca.crt'}",
            f"--cluster-signing-cert-file={c / 'ca.crt'}",
            f"--cluster-signing-key-file={c / 'ca.key'}",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--use-service-account-credentials=true",
            # PersistentVolumeClaims bind to hostPath volumes made under /tmp by this process.
            "--enable-hostpath-provisioner=true",
            f"--bind-address={HOST}",
            "--secure-port=0",
            "--leader-elect=false",
            "--v=1",
        ],
        "kube-scheduler": [
            "kube-scheduler",
            f"--kubeconfig={KUBECONFIG}",
            f"--authentication-kubeconfig={KUBECONFIG}",
            f"--authorization-kubeconfig={KUBECONFIG}",
            f"--bind-address={HOST}",
            "--secure-port=0",
            "--leader-elect=false",
            "--v=1",
        ],
        "kwok": [
            "kwok",
            f"--kubeconfig={KUBECONFIG}",
            *(f"--config={stage}" for stage in kwok_stages()),
            # Nodes renew leases as kubelets do, so the node lifecycle controller keeps them.
            "--node-lease-duration-seconds=40",
            "--manage-all-nodes=false",
            "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
            f"--cidr={POD_CIDR}",
            "--node-ip=10.0.0.1",
            "--server-address=",
            "--v=INFO",
        ],
    }


KWOK_STAGES = ("node/fast", "node/heartbeat-with-lease", "pod/fast")
"""Upstream's "fast" stage set (kustomize/stage/fast in the kwok module): nodes Ready at once and
kept by lease heartbeats, pods Running and Ready at once, Job pods Succeeded, deletion honoured."""


def kwok_stages() -> list[Path]:
    """The stage files of ``KWOK_STAGES``, read from the kwok module the binary was built from
    (the module cache under ``.rig/go/mod``), not copied into this repository."""
    from tests.rig.build import RIG as rig

    modules = sorted((rig / "go" / "mod" / "sigs.k8s.io").glob("kwok@*"))
    if not modules:
        raise RigError("the kwok module is not in .rig/go/mod: build the rig with `make rig`")
    stages = [
        path
        for folder in KWOK_STAGES
        for path in sorted((modules[-1] / "kustomize" / "stage" / folder).glob("*.yaml"))
        if path.name != "kustomization.yaml"
    ]
    return stages


def _pids() -> dict[str, int]:
    try:
        return {k: int(v) for k, v in json.loads(PIDS.read_text()).items()}
    except (OSError, ValueError):
        return {}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0); read its state.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def running() -> bool:
    """Every component of a started rig is alive and the API server answers."""
    pids = _pids()
    if set(pids) != set(COMPONENTS) or not all(_alive(p) for p in pids.values()):
        return False
    return _ready(f"{server_url()}/readyz")


def _ssl_context() -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(CERTS / "ca.crt"))
    context.load_cert_chain(str(CERTS / "admin.crt"), str(CERTS / "admin.key"))
    return context


def _ready(url: str) -> bool:
    try:
        context = _ssl_context() if url.startswith("https") else None
        with urllib.request.urlopen(url, timeout=2, context=context) as response:
            return bool(response.status == 200)
    except (OSError, ValueError):
        return False


def _check_free(name: str, patience: float = 5.0) -> None:
    """The port is free, waiting ``patience`` seconds for one a stopped rig is releasing."""
    deadline = time.monotonic() + patience
    while True:
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((HOST, port(name)))
                return
            except OSError:
                if time.monotonic() < deadline:
                    time.sleep(0.2)
                    continue
            raise RigError(
                f"port {HOST}:{port(name)} ({name}) is taken: stop what listens there "
                "(`make rig-down` if it is an old rig), or set PDK_RIG_PORT_OFFSET"
            )


def _wait(what: str, check: Callable[[], bool], pid: int, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if not _alive(pid):
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-10:])
            raise RigError(f"{what} exited during start-up; the end of {log}:\n{tail}")
        time.sleep(0.2)
    raise RigError(f"{what} was not ready after {timeout:.0f}s; see {log}")


def start(log: Callable[[str], object] = print) -> None:
    """Starts the rig (a no-op when it is already running). Binaries must be built."""
    if running():
        log(f"rig: already running at {server_url()}")
        return
    stop(quiet=True)
    missing = [name for name in COMPONENTS if not (BIN / name).exists()]
    if missing:
        raise RigError(
            f"rig binaries missing from {BIN}: {', '.join(missing)}; build them with `make rig`"
        )
    for name in ("etcd", "etcd-peer", "kube-apiserver"):
        _check_free(name)
    try:
        _start(log)
    except BaseException:
        # A half-started rig is worse than none: nothing is left running.
        stop(quiet=True)
        raise


def _start(log: Callable[[str], object]) -> None:
    started = time.monotonic()
    _write_certificates()
    _write_kubeconfig()
    LOGS.mkdir(parents=True, exist_ok=True)
    pids: dict[str, int] = {}
    env = {**os.environ, "PATH": f"{BIN}:{os.environ.get('PATH', '')}"}
    for name, command in _commands().items():
        logfile = LOGS / f"{name}.log"
        with logfile.open("ab") as out:
            process = subprocess.Popen(
                [str(BIN / command[0]), *command[1:]],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=RUN,
                start_new_session=True,
            )
        pids[name] = process.pid
        PIDS.write_text(json.dumps(pids))
        if name == "etcd":
            _wait(
                "etcd",
                lambda: _ready(f"http://{HOST}:{port('etcd')}/health"),
                process.pid,
                60,
                logfile,
            )
        elif name == "kube-apiserver":
            _wait(
                "kube-apiserver",
                lambda: _ready(f"{server_url()}/readyz"),
                process.pid,
                120,
                logfile,
            )
    _register_nodes()
    _wait_nodes_ready(pids["kwok"])
    log(f"rig: control plane up at {server_url()} in {time.monotonic() - started:.0f}s")


def _client():  # type: ignore[no-untyped-def]
    from kubernetes import client, config

    return client.ApiClient(config.new_client_from_config(str(KUBECONFIG)).configuration)


def _register_nodes() -> None:
    """The simulated nodes kwok keeps Ready, and the default StorageClass (the hostPath
    provisioner of kube-controller-manager)."""
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    api = _client()
    core, storage = client.CoreV1Api(api), client.StorageV1Api(api)
    for name in NODES:
        node = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": name,
                "annotations": {"kwok.x-k8s.io/node": "fake"},
                "labels": {
                    "kubernetes.io/hostname": name,
                    "kubernetes.io/os": "linux",
                    "kubernetes.io/arch": "amd64",
                    "type": "kwok",
                },
            },
            "status": {"capacity": NODE_CAPACITY, "allocatable": NODE_CAPACITY},
        }
        try:
            core.create_node(node)
        except ApiException as error:
            if error.status != 409:
                raise
    storage_class = {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {
            "name": "standard",
            "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
        },
        "provisioner": "kubernetes.io/host-path",
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "Immediate",
    }
    try:
        storage.create_storage_class(storage_class)
    except ApiException as error:
        if error.status != 409:
            raise


def _wait_nodes_ready(kwok_pid: int) -> None:
    from kubernetes import client

    core = client.CoreV1Api(_client())

    def ready() -> bool:
        nodes = core.list_node().items
        return len(nodes) >= len(NODES) and all(
            any(c.type == "Ready" and c.status == "True" for c in n.status.conditions or [])
            for n in nodes
        )

    _wait("kwok (nodes Ready)", ready, kwok_pid, 60, LOGS / "kwok.log")


def stop(quiet: bool = False, keep_data: bool = False) -> None:
    """Ends every rig process (TERM, then KILL after 10 s) and removes the cluster's data."""
    pids = _pids()
    for name in reversed(COMPONENTS):
        pid = pids.get(name)
        if pid and _alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    for pid in pids.values():
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
    PIDS.unlink(missing_ok=True)
    if not keep_data:
        import shutil

        shutil.rmtree(RUN / "etcd", ignore_errors=True)
        # The pulumi state belongs to the cluster it describes.
        shutil.rmtree(STATE, ignore_errors=True)
    if not quiet and pids:
        print("rig: stopped")


# --- Pulumi against the rig -----------------------------------------------------------------


def passphrase_file() -> Path:
    """The rig's own passphrase for Pulumi's passphrase secrets provider: random, made once,
    readable only by its owner, never printed."""
    if not PASSPHRASE.exists():
        RIG.mkdir(exist_ok=True)
        PASSPHRASE.write_text(secrets.token_urlsafe(32))
        os.chmod(PASSPHRASE, 0o600)
    return PASSPHRASE


@dataclass(frozen=True)
class PulumiEnv:
    """The environment in which the real CLI runs against the rig, downloading nothing."""

    variables: dict[str, str]

    @classmethod
    def make(cls) -> PulumiEnv:
        STATE.mkdir(parents=True, exist_ok=True)
        PULUMI_HOME.mkdir(parents=True, exist_ok=True)
        env = {
            "PATH": f"{PLUGINS}:{BIN}:{os.environ.get('PATH', '')}",
            "KUBECONFIG": str(KUBECONFIG),
            "PULUMI_HOME": str(PULUMI_HOME),
            "PULUMI_BACKEND_URL": f"file://{STATE}",
            "PULUMI_CONFIG_PASSPHRASE_FILE": str(passphrase_file()),
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PULUMI_DIY_BACKEND_NO_LEGACY_WARNING": "true",
            "PULUMI_SKIP_CONFIRMATIONS": "true",
        }
        return cls(env)

    def shell(self) -> str:
        return "".join(f"export {k}={_quote(v)}\n" for k, v in self.variables.items())


def _quote(value: str) -> str:
    import shlex

    return shlex.quote(value)


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "up"
    try:
        if command == "up":
            start()
        elif command == "down":
            stop()
        elif command == "env":
            sys.stdout.write(PulumiEnv.make().shell())
        elif command == "status":
            print("running" if running() else "stopped")
            return 0 if running() else 1
        else:
            print(f"usage: python -m tests.rig.cluster [up|down|env|status], not {command!r}")
            return 2
    except RigError as error:
        print(f"rig: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
