"""Builds the rig's binaries from their Go modules at the versions pinned in ``tests/rig/go/``.

Every binary is compiled here from source fetched through the Go module proxy (the only place
this project's machines can get Go code from); nothing is downloaded as a prebuilt binary. The
module and build caches live under ``.rig/go/`` (git-ignored), so a second build only checks
stamps and takes seconds. Each binary has a stamp: the hash of its module's ``go.mod`` and
``go.sum``, its ldflags and the Go version; a binary whose stamp matches is not rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODULES = ROOT / "tests" / "rig" / "go"
RIG = ROOT / ".rig"
BIN = RIG / "bin"
SRC = RIG / "src"
STAMPS = BIN / ".stamps"

PULUMI_VERSION = "3.276.0"
"""The CLI and engine. The Python SDK is pinned at 3.272.0 (pyproject.toml), whose pkg module the
proxy does not serve; a newer CLI runs older SDKs (the engine's protocol is versioned)."""

KUBERNETES_PROVIDER_VERSION = "4.25.0"
"""The only pulumi-kubernetes provider the proxy serves (the commit tagged v4.25.0). The Python
SDK is 4.34.2; the rig's provider is older, which the note of issue 20 records."""

KUBERNETES_VERSION = "1.35.4"
"""kube-apiserver, controller-manager and scheduler: the matrix default minor (1.35)."""

PROVIDER_MODULE = "github.com/pulumi/pulumi-kubernetes/provider/v4"

K8S_LDFLAGS = (
    # What upstream's build (hack/lib/version.sh) stamps, so `kubectl version` and the
    # discovery endpoint report the release and the provider's version checks pass.
    f"-X k8s.io/component-base/version.gitVersion=v{KUBERNETES_VERSION}",
    f"-X k8s.io/component-base/version.gitMajor={KUBERNETES_VERSION.split('.')[0]}",
    f"-X k8s.io/component-base/version.gitMinor={KUBERNETES_VERSION.split('.')[1]}",
    "-X k8s.io/component-base/version.gitTreeState=clean",
)


class BuildError(Exception):
    """A binary could not be built; the message names it and the Go tool's last lines."""


@dataclass(frozen=True)
class Binary:
    """One executable: which module folder under tests/rig/go builds it, from which package."""

    name: str
    module: str
    package: str
    ldflags: tuple[str, ...] = ()
    needs_provider_source: bool = False


BINARIES = (
    Binary(
        "pulumi",
        "pulumi",
        "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi",
        (f"-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v{PULUMI_VERSION}",),
    ),
    Binary(
        "pulumi-resource-kubernetes",
        "pulumi-kubernetes",
        f"{PROVIDER_MODULE}/cmd/pulumi-resource-kubernetes",
        (f"-X {PROVIDER_MODULE}/pkg/version.Version={KUBERNETES_PROVIDER_VERSION}",),
        needs_provider_source=True,
    ),
    Binary("etcd", "kubernetes", "go.etcd.io/etcd/server/v3"),
    Binary("kube-apiserver", "kubernetes", "k8s.io/kubernetes/cmd/kube-apiserver", K8S_LDFLAGS),
    Binary(
        "kube-controller-manager",
        "kubernetes",
        "k8s.io/kubernetes/cmd/kube-controller-manager",
        K8S_LDFLAGS,
    ),
    Binary("kube-scheduler", "kubernetes", "k8s.io/kubernetes/cmd/kube-scheduler", K8S_LDFLAGS),
    Binary("kwok", "kwok", "sigs.k8s.io/kwok/cmd/kwok"),
)


def go_env() -> dict[str, str]:
    """The Go tool's environment: caches owned by the rig, the committed go.sum as the truth."""
    env = dict(os.environ)
    env.update(
        GOMODCACHE=str(RIG / "go" / "mod"),
        GOCACHE=str(RIG / "go" / "cache"),
        GOFLAGS="-mod=readonly -trimpath",
        GOTOOLCHAIN="local",
        CGO_ENABLED="0",
    )
    return env


def _run(args: list[str], cwd: Path, what: str) -> str:
    if shutil.which(args[0]) is None:
        raise BuildError(f"{what}: `{args[0]}` is not on PATH (the rig builds with Go 1.26)")
    result = subprocess.run(args, cwd=cwd, env=go_env(), capture_output=True, text=True)
    if result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-15:])
        raise BuildError(f"{what} failed:\n{tail}")
    return result.stdout


def _stamp(binary: Binary, go_version: str) -> str:
    folder = MODULES / binary.module
    digest = hashlib.sha256()
    for part in (folder / "go.mod", folder / "go.sum"):
        digest.update(part.read_bytes())
    digest.update(json.dumps([binary.package, binary.ldflags, go_version]).encode())
    return digest.hexdigest()


def provider_source() -> Path:
    """The provider module, copied out of the read-only module cache with the files upstream's
    release build generates beside its main package: ``schema-embed.json`` (the schema with the
    version set) and ``terraform-mapping-embed.json`` (upstream's ``generate.go`` writes both;
    the same transformation is done here in Python, since that generator cannot run outside
    upstream's repository layout). ``tests/rig/go/pulumi-kubernetes/go.mod`` replaces the
    module with this folder."""
    listing = json.loads(
        _run(
            ["go", "mod", "download", "-json", f"{PROVIDER_MODULE}@{_provider_pseudo_version()}"],
            RIG,
            "downloading the pulumi-kubernetes provider module",
        )
    )
    target = SRC / "pulumi-kubernetes-provider"
    SRC.mkdir(parents=True, exist_ok=True)
    marker = target / ".from"
    if marker.exists() and marker.read_text() == listing["Sum"]:
        return target
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(listing["Dir"], target)
    for path in [target, *target.rglob("*")]:
        path.chmod(path.stat().st_mode | stat.S_IWUSR)
    main = target / "cmd" / "pulumi-resource-kubernetes"
    schema = json.loads((main / "schema.json").read_text())
    schema["version"] = KUBERNETES_PROVIDER_VERSION
    (main / "schema-embed.json").write_text(json.dumps(schema, separators=(",", ":")))
    mapping = json.loads((main / "terraform-mapping.json").read_text())
    (main / "terraform-mapping-embed.json").write_text(json.dumps(mapping, separators=(",", ":")))
    marker.write_text(listing["Sum"])
    return target


def _provider_pseudo_version() -> str:
    for line in (MODULES / "pulumi-kubernetes" / "go.mod").read_text().splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] == PROVIDER_MODULE:
            return words[1]
        if len(words) >= 4 and words[0] == "replace" and words[1] == PROVIDER_MODULE:
            continue
    raise BuildError(f"tests/rig/go/pulumi-kubernetes/go.mod does not require {PROVIDER_MODULE}")


def build(log: Callable[[str], object] = print) -> dict[str, Path]:
    """Builds (or finds up to date) every rig binary; returns name -> path."""
    RIG.mkdir(exist_ok=True)
    go_version = _run(["go", "env", "GOVERSION"], ROOT, "asking Go for its version").strip()
    STAMPS.mkdir(parents=True, exist_ok=True)
    built: dict[str, Path] = {}
    for binary in BINARIES:
        out = BIN / binary.name
        stamp_file = STAMPS / binary.name
        stamp = _stamp(binary, go_version)
        if out.exists() and stamp_file.exists() and stamp_file.read_text() == stamp:
            built[binary.name] = out
            continue
        if binary.needs_provider_source:
            provider_source()
        started = time.monotonic()
        log(f"rig: building {binary.name} ({binary.package}) ...")
        ldflags = " ".join(("-s", "-w", *binary.ldflags))
        _run(
            ["go", "build", "-ldflags", ldflags, "-o", str(out), binary.package],
            MODULES / binary.module,
            f"building {binary.name}",
        )
        stamp_file.write_text(stamp)
        log(f"rig: built {binary.name} in {time.monotonic() - started:.0f}s")
        built[binary.name] = out
    return built


def main() -> int:
    started = time.monotonic()
    try:
        built = build()
    except BuildError as error:
        print(f"rig build: {error}", file=sys.stderr)
        return 1
    print(f"rig: {len(built)} binaries ready in {BIN} ({time.monotonic() - started:.0f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
