"""The version matrix: every version the stacks pin, in one place, with the facts behind it.

Config defaults, config checks, tests and the README's version table all read this module, so a
version is changed here once. Each pin records the Kubernetes minor versions its upstream
supports and where that fact comes from; ``check_kubernetes`` rejects a ``kubernetesVersion``
any pin in use does not support.

How a pin's Kubernetes range was decided (``basis``):

- ``stated``: the upstream's own support table or release notes name the range.
- ``client-skew``: the upstream states no range; its CI tests one Kubernetes version and it is
  built on client-go ``v0.N``, which Kubernetes supports against servers ``1.(N-1)`` to
  ``1.(N+1)``.
- ``matches-cluster``: the component is released per Kubernetes minor (cluster-autoscaler).
- ``unsupported-upstream``: the upstream has ended (Pachyderm, Determined, TorchServe). The range
  is the chart's own ``kubeVersion`` constraint capped at the stack's range: the objects use
  only GA APIs served by every version in it, but nobody upstream runs it there.
- ``not-stated``: the upstream states no range and none was verified here; the range is the
  stack's, and the pin is listed in the issue note as not verified.
- ``none``: not a Kubernetes component (client libraries, image bases).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

Kind = Literal[
    "kubernetes", "chart", "manifest", "image", "task-image", "client", "base", "runtime"
]
Basis = Literal[
    "stated", "client-skew", "matches-cluster", "unsupported-upstream", "not-stated", "none"
]

TODAY = "2026-11-25"
"""The date the support facts below were checked."""


CHART_VERSION = re.compile(r"^v?[0-9]+\.[0-9]+\.[0-9]+")
"""The start of an exact version; ``minor`` reads only such values."""


def minor(version: str) -> tuple[int, int]:
    """``(major, minor)`` of ``1.35``, ``v1.35.1``, ``0.38.1-ee`` and the like."""
    major, minor_, *_ = version.removeprefix("v").split(".")
    return int(major), int("".join(ch for ch in minor_ if ch.isdigit()))


@dataclass(frozen=True)
class KubeRange:
    """Kubernetes minor versions ``low`` to ``high``, both included (``MAJOR.MINOR``)."""

    low: str
    high: str

    def __contains__(self, version: object) -> bool:
        return isinstance(version, str) and minor(self.low) <= minor(version) <= minor(self.high)

    def __str__(self) -> str:
        return f"{self.low}-{self.high}" if self.low != self.high else self.low


@dataclass(frozen=True)
class Pin:
    """One pinned version and the facts behind it."""

    name: str
    """What is pinned, as the README table names it."""
    kind: Kind
    version: str
    """The exact version (chart version, image tag or reference, package version)."""
    kubernetes: KubeRange | None
    """Kubernetes minors the upstream supports; None for what does not run on Kubernetes."""
    basis: Basis
    source: str
    """Where the version and the range come from (a URL, or a file at a tag)."""
    config_key: str = ""
    """The stack config key that overrides the pin; empty when none does."""
    targets: tuple[str, ...] = ()
    """Targets that install it; empty: every target."""
    note: str = ""
    """What was not verified, or what the pin implies."""
    extra: dict[str, str] = field(default_factory=dict, compare=False)
    """Facts tests compare across pins (``torch``, ``python``, ``determined``, ``pachyderm``)."""


KUBERNETES = Pin(
    "Kubernetes (default)",
    "kubernetes",
    "1.35",
    KubeRange("1.34", "1.35"),
    "stated",
    "EKS calendar: 1.35 standard support to 2027-03-27, 1.34 to 2026-12-02 "
    "(https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-release-calendar.html); "
    "GKE gives about 14 months of standard support after Regular-channel availability "
    "(https://cloud.google.com/kubernetes-engine/versioning)",
    config_key="kubernetesVersion",
    note="The range is what every pin below supports; 1.34 leaves EKS standard support on "
    "2026-12-02, so new stacks default to 1.35.",
)
STANDARD_SUPPORT_ENDS: dict[str, dict[str, str]] = {
    # https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-release-calendar.html
    "eks": {"1.34": "2026-12-02", "1.35": "2027-03-27"},
    # https://cloud.google.com/kubernetes-engine/docs/release-schedule (end of standard support)
    "gke": {"1.34": "2026-08-30", "1.35": "2027-02-28"},
}
"""Last day of standard (unpaid) support per managed Kubernetes, for the minors in range."""
KUBERNETES_VERSIONS: tuple[str, ...] = ("1.32", "1.33", "1.34", "1.35", "1.36")
"""The minors ``kubernetesVersion`` accepts as a value (the manifests are validated against
each one's OpenAPI schema); the pins in use then narrow it (``unsupported``) to
``KUBERNETES.kubernetes`` with the default versions."""

# MLDM and MLDE: the last coherent pair. Both upstreams stopped in early 2025.
PACHYDERM_CHART = Pin(
    "pachyderm Helm chart (MLDM, and MLDE through its determined: block)",
    "chart",
    "2.12.2",
    KubeRange("1.34", "1.35"),
    "unsupported-upstream",
    "https://helm.pachyderm.com; values checked by rendering pachyderm/pachyderm branch 2.12.x "
    "(7ed6c9f, 2025-01-07) with helm 3.17.3; chart kubeVersion '>= 1.16.0-0'",
    config_key="mldmChartVersion",
    note="The v2.12.2 tag and the helm index entry were not in the stored snapshots: publication "
    "is inferred from pachyderm-sdk 2.12.2 on PyPI, which CircleCI only releases after the chart "
    "preview is published and the release is signed off (.circleci/main.yml on 2.12.x).",
    extra={"pachyderm": "2.12.2", "determined": "0.38.1"},
)
MLDE = Pin(
    "Determined master (MLDE, detVersion)",
    "image",
    "0.38.1",
    KubeRange("1.34", "1.35"),
    "unsupported-upstream",
    "determined-ai/determined docs/release-notes.rst at v0.38.1 (last release, 2025-03-19)",
    config_key="mldeVersion",
    note="Upstream CI ran GKE/minikube 1.29; client-go v0.28. No Kubernetes 1.34+ run known.",
    extra={"determined": "0.38.1"},
)
PACHYDERM_SDK = Pin(
    "pachyderm-sdk (flow client)",
    "client",
    "2.12.2",
    None,
    "none",
    "PyPI pachyderm-sdk; Pachyderm supports clients of the server's major.minor "
    "(src/version/versionpb/version.go IsCompatible)",
    extra={"pachyderm": "2.12.2"},
)
DETERMINED_SDK = Pin(
    "determined (flow client and trial harness)",
    "client",
    "0.38.1",
    None,
    "none",
    "PyPI determined; inside tasks the master's own wheel is installed "
    "(master/static/srv/task-setup.sh)",
    extra={"determined": "0.38.1"},
)

# MLDE task images. The NGC-based image covers sm_75 (T4) to sm_90 (H100).
MLDE_GPU_IMAGE = Pin(
    "MLDE GPU task image",
    "task-image",
    "determinedai/pytorch-ngc:0.38.1",
    None,
    "none",
    "determined-ai/environments version-matrix.yaml (71c41c7): NGC pytorch 24.03-py3, "
    "PyTorch 2.3, Python 3.10, CUDA 12.4; NGC builds include sm_75..sm_90",
    config_key="mldeGpuImage",
    note="Tag existence on Docker Hub not checked from here; CUDA 12.4 needs an R550+ "
    "(or forward-compatible R535) node driver.",
    extra={"python": "3.10", "torch": "2.3"},
)
MLDE_CPU_IMAGE = Pin(
    "MLDE CPU task image",
    "task-image",
    "determinedai/pytorch-ngc:0.38.1",
    None,
    "none",
    "Determined 0.38's default CPU image (chart values determined.defaultImages.cpuImage)",
    config_key="mldeCpuImage",
    extra={"python": "3.10", "torch": "2.3"},
)

# The serving path.
KSERVE_CHART = Pin(
    "KServe charts (kserve-crd, kserve-resources)",
    "chart",
    "v0.17.1",
    KubeRange("1.33", "1.35"),
    "client-skew",
    "kserve/kserve v0.17.1: CI minikube Kubernetes v1.34.4 (.github/workflows), go.mod "
    "k8s.io/api v0.34.3",
    config_key="kserveChartVersion",
)
KNATIVE_SERVING = Pin(
    "Knative Serving (release manifests)",
    "manifest",
    "1.21.1",
    KubeRange("1.33", "1.35"),
    "stated",
    "Knative supports the Kubernetes minors upstream-supported at the cut (2026-01-27: "
    "1.33-1.35) and its 4 latest releases "
    "(https://knative.dev/community/contributing/mechanics/release-versioning-principles/); "
    "KServe v0.17.1 kserve-deps.env KNATIVE_SERVING_VERSION=1.21.1",
    config_key="knativeServingVersion",
)
KNATIVE_NET_ISTIO = Pin(
    "Knative net-istio (release manifest)",
    "manifest",
    "1.21.3",
    KubeRange("1.33", "1.35"),
    "stated",
    "Same minor as Knative Serving (knative/net-istio releases)",
    config_key="knativeNetIstioVersion",
)
ISTIO = Pin(
    "Istio charts (base, istiod, gateway)",
    "chart",
    "1.30.4",
    KubeRange("1.32", "1.36"),
    "stated",
    "istio.io data/compatibility/supportStatus.yml: 1.30 released 2026-05-14, Kubernetes "
    "1.32-1.36; 1.30.4 released 2026-08-27 (istio.io/latest/news/releases/1.30.x/)",
    config_key="istioChartVersion",
    note="Istio 1.30's end of life is expected about six weeks after 1.32.0.",
)
CERT_MANAGER = Pin(
    "cert-manager chart",
    "chart",
    "v1.21.2",
    KubeRange("1.33", "1.36"),
    "stated",
    "https://cert-manager.io/docs/releases/ (1.21: Kubernetes 1.33-1.36; 1.20 reaches end of "
    "life when 1.22 is released, due November 2026)",
    config_key="certManagerChartVersion",
)
ENVOY_GATEWAY = Pin(
    "Envoy Gateway charts (gateway-helm, gateway-crds-helm)",
    "chart",
    "v1.9.0",
    KubeRange("1.33", "1.36"),
    "stated",
    "site/content/en/news/releases/matrix.md at envoyproxy/gateway v1.9.0 (v1.9: Envoy "
    "1.39.0, Gateway API v1.6.1, Kubernetes 1.33-1.36, end of life 2027-02-14)",
    config_key="gatewayChartVersion",
    note="Replaced ingress-nginx (retired upstream March 2026) as the edge.",
)
DEVICE_PLUGIN = Pin(
    "NVIDIA device plugin image (our DaemonSet)",
    "image",
    "0.17.4",
    KubeRange("1.34", "1.35"),
    "not-stated",
    "nvcr.io/nvidia/k8s-device-plugin:v0.17.4; deployments/static/nvidia-device-plugin.yml at "
    "NVIDIA/k8s-device-plugin v0.17.4 is the shape of the DaemonSet",
    config_key="gpuDevicePluginChartVersion",
    # GKE installs the driver and runs its own device plugin.
    targets=("existing", "aws"),
    note="No upstream Kubernetes range. Releases up to v0.20.0 (2026-08-19) exist; the chart "
    "is not used because every release renders an MPS control daemon.",
)
CLUSTER_AUTOSCALER_IMAGE = Pin(
    "cluster-autoscaler image",
    "image",
    "registry.k8s.io/autoscaling/cluster-autoscaler:v1.35.1",
    KubeRange("1.35", "1.35"),
    "matches-cluster",
    "kubernetes/autoscaler releases (cluster-autoscaler-1.35.1); the autoscaler's minor must "
    "equal the cluster's (cluster-autoscaler FAQ)",
    config_key="awsClusterAutoscalerImage",
    targets=("aws",),
)
CLUSTER_AUTOSCALER_CHART = Pin(
    "cluster-autoscaler chart",
    "chart",
    "9.51.0",
    KubeRange("1.34", "1.35"),
    "not-stated",
    "kubernetes/autoscaler charts/cluster-autoscaler (the image is set by "
    "awsClusterAutoscalerImage)",
    config_key="awsClusterAutoscalerChartVersion",
    targets=("aws",),
    note="The chart states no Kubernetes range; a newer chart release was not looked for.",
)

# The in-cluster database server (existing target) and the database-setup Job's psql client.
POSTGRES = Pin(
    "PostgreSQL image (in-cluster server; psql client of the database-setup Job)",
    "image",
    "docker.io/library/postgres:16.11",
    None,
    "stated",
    "PostgreSQL versioning policy: 16 is supported to 2028-11-09, 13 ended 2025-11-13 "
    "(https://www.postgresql.org/support/versioning/); 16.11 released 2025-11-13; the same "
    "major as the managed databases (RDS and Cloud SQL PostgreSQL 16)",
    config_key="postgresImage",
    note="Newer 16.x patch images may exist; the tag was not pulled from here. A cluster "
    "that already runs an older major needs pg_upgrade, not a tag change.",
)

# Images the stack builds, and the runtime that serves their models.
FLOW_BASE = Pin(
    "Flow images base (train, deploy)",
    "base",
    "python:3.11.13-slim-bookworm",
    None,
    "none",
    "images/deploy/Dockerfile, images/train/Dockerfile",
    extra={"python": "3.11"},
)
EXPORT_TORCH = Pin(
    "torch in the deploy image (exports the served TorchScript)",
    "client",
    "2.4.0",
    None,
    "none",
    "images/deploy/Dockerfile (CPU wheel from download.pytorch.org); equal to the serving "
    "runtime's torch, so TorchScript is loaded by the version that wrote it",
    note="The local dry run exports and serves with the test environment's torch 2.13.0 "
    "and TorchServe 0.12.0; only the in-cluster pair is pinned to 2.4.0.",
    extra={"torch": "2.4.0"},
)
TORCHSERVE_RUNTIME = Pin(
    "TorchServe serving runtime image (ClusterServingRuntime pdk-torchserve)",
    "runtime",
    "pytorch/torchserve-kfs:0.12.0",
    None,
    "unsupported-upstream",
    "pytorch/serve v0.12.0: kubernetes/kserve/Dockerfile (torchserve-kfs, FROM "
    "pytorch/torchserve), requirements/torch_cpu_linux.txt torch 2.4.0+cpu, "
    "docker/build_image.sh PYTHON_VERSION=3.9",
    note="Docker Hub tag not pulled from here; TorchServe is in limited maintenance since "
    "2025-02-28 and 0.12.0 is its last release.",
    extra={"torch": "2.4.0", "torchserve": "0.12.0", "python": "3.9"},
)
TORCHSERVE = Pin(
    "TorchServe (local dry run, and the torchserve in the runtime image)",
    "runtime",
    "0.12.0",
    None,
    "unsupported-upstream",
    "pytorch/serve v0.12.0 (2024-09-24); limited maintenance since 2025-02-28",
    note="Last release; no further fixes upstream.",
    extra={"torchserve": "0.12.0"},
)

STARTUP_HOOK_REQUIRES_PYTHON: dict[str, str] = {
    # PyPI metadata (Requires-Python) of each package the examples' startup hooks install into
    # the MLDE task image; tests/test_task_images.py compares it with the image's Python and,
    # where the same version is installed here, with the installed metadata.
    "pachyderm-sdk==2.12.2": ">=3.9,<4.0",
    "pyarrow==25.0.1": ">=3.10",
}

PINS: tuple[Pin, ...] = (
    KUBERNETES,
    PACHYDERM_CHART,
    MLDE,
    MLDE_GPU_IMAGE,
    MLDE_CPU_IMAGE,
    KSERVE_CHART,
    KNATIVE_SERVING,
    KNATIVE_NET_ISTIO,
    ISTIO,
    CERT_MANAGER,
    ENVOY_GATEWAY,
    DEVICE_PLUGIN,
    CLUSTER_AUTOSCALER_CHART,
    CLUSTER_AUTOSCALER_IMAGE,
    PACHYDERM_SDK,
    DETERMINED_SDK,
    FLOW_BASE,
    EXPORT_TORCH,
    TORCHSERVE_RUNTIME,
    TORCHSERVE,
    POSTGRES,
)


def by_config_key() -> dict[str, Pin]:
    """Pins a config key can override, by that key."""
    return {pin.config_key: pin for pin in PINS if pin.config_key}


def unsupported(kubernetes_version: str, pins: dict[str, str]) -> list[tuple[str, str, Pin]]:
    """``(config key, value, pin)`` for each pinned key in ``pins`` (config key -> value in
    use) whose pin does not support ``kubernetes_version``.

    Only values equal to the pin are judged: a stack that overrides a version takes over the
    responsibility for it. Pins released per Kubernetes minor (``matches-cluster``) have a rule
    of their own in the target's config.
    """
    known = by_config_key()
    problems = []
    for key, value in pins.items():
        pin = known.get(key)
        if pin is None or pin.kubernetes is None or value != pin.version:
            continue
        if pin.basis == "matches-cluster":
            continue
        if kubernetes_version not in pin.kubernetes:
            problems.append((key, value, pin))
    return problems


def readme_table() -> str:
    """The README's version table (markdown), generated; ``tests/test_versions.py`` fails when
    the README holds another."""
    lines = [
        "| Component | Version | Kubernetes | Basis | Config key |",
        "| --- | --- | --- | --- | --- |",
    ]
    for pin in PINS:
        lines.append(
            f"| {pin.name} | `{pin.version}` | {pin.kubernetes or '-'} | {pin.basis} | "
            f"{f'`{pin.config_key}`' if pin.config_key else '-'} |"
        )
    return "\n".join(lines) + "\n"


README_BEGIN, README_END = "<!-- versions:begin -->\n", "<!-- versions:end -->\n"


def readme_with_table(readme: str) -> str:
    """``readme`` with the text between the version-table markers replaced by ``readme_table``."""
    head, _, rest = readme.partition(README_BEGIN)
    _, _, tail = rest.partition(README_END)
    return f"{head}{README_BEGIN}{readme_table()}{README_END}{tail}"


if __name__ == "__main__":
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "README.md"
    path.write_text(readme_with_table(path.read_text()))
    print(f"wrote the version table into {path}")
