"""The Helm chart archives the rig installs, built offline from each chart's upstream source.

The rig's machines reach package registries and nothing else: no chart repository, no OCI
registry. Every chart the ``local`` stack installs is kept in the source tree of a Go project,
and the Go module proxy serves those trees as module zips at release tags. So each chart is
built here the way its upstream builds it: ``go mod download`` fetches the module zip at the
pinned tag, the edits upstream's release job makes before ``helm package`` are applied to a copy
(each cites the upstream file that makes it), and the archive is written as ``helm package``
writes it, ``NAME-VERSION.tgz`` with the chart folder as its one top-level directory and every
dependency vendored under ``charts/``. Point ``chartArchives`` at the folder and the program
installs these files instead of pulling from the public repositories.

Nothing here needs helm or any network but the Go module proxy, so it runs in CI on a fresh
machine; the module zips and the archives live under ``.rig/`` (git-ignored).

What the proxy (a filtered mirror; a refusal is final) served when this was written:

- served: github.com/cert-manager/cert-manager@v1.21.2 (cert-manager v1.21.2),
  github.com/envoyproxy/gateway@v1.9.0 (gateway-helm and gateway-crds-helm v1.9.0),
  github.com/kserve/kserve@v0.17.0 (kserve-crd and kserve-resources v0.17.0),
  github.com/pachyderm/pachyderm/v2@v2.12.2 (pachyderm 2.12.2, MLDE included).
- refused: github.com/kserve/kserve@v0.17.1 (the program's default) and istio.io/istio@1.30.4
  (base, istiod, gateway; ``local`` does not install Istio).

KServe is therefore built at v0.17.0, and a stack that uses these archives sets
``kserveChartVersion: v0.17.0``. Upstream's v0.17.1 differs from it in two templates besides the
version fields: the ``clusterstoragecontainers`` CRD is skipped when another release owns it,
and ``_utils.tpl``'s list merge checks the element's type before its ``name`` key.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
RIG = ROOT / ".rig"
DEFAULT_GOMODCACHE = RIG / "go" / "mod"
DEFAULT_DEST = RIG / "charts"
STAMP_FILE = ".rig-charts.json"
"""In the destination folder: what each archive was built from, so a second build is a no-op."""

GO_TIMEOUT_S = 900
"""One module download; istio's zip is the largest at about 35 MB."""


class ChartBuildError(Exception):
    """A chart archive could not be built; the message says which and what to do."""


class NotServedError(ChartBuildError):
    """The Go module proxy refuses a module version; a refusal is final, so pin another."""


Release = Callable[["ChartSource", Path, Path], None]
"""Copies the chart out of the module folder (second argument) into the staging folder (third,
not yet existing) with the edits upstream's release job makes before ``helm package``."""


@dataclass(frozen=True)
class ChartSource:
    """Where one chart's source is served, and how upstream turns it into its published archive."""

    name: str
    """The chart's name: its ``Chart.yaml`` name, the archive's top folder and file-name prefix."""
    version: str
    """The chart version as published and as the program pins it (``v1.21.2``, ``2.12.2``)."""
    module: str
    """The Go module whose zip carries the chart's source."""
    module_version: str
    """The module version: upstream's release tag, as the proxy names it."""
    folder: str
    """The chart folder inside the module zip."""
    release: Release | None
    """Upstream's release-time edits; None where they were not worked out because the module is
    not served (building such a chart fails with ``NotServedError`` first)."""

    @property
    def module_ref(self) -> str:
        """``module@version``, as ``go mod download`` and every error name it."""
        return f"{self.module}@{self.module_version}"

    @property
    def archive(self) -> str:
        """The archive's file name, as ``helm package`` names it."""
        return f"{self.name}-{self.version}.tgz"


def archive_file_name(chart_ref: str, version: str) -> str:
    """The archive file for a chart reference the program installs (``infra.charts.Chart.name``:
    ``cert-manager``, or ``oci://docker.io/envoyproxy/gateway-helm``) at ``version``: the last part
    of the reference and the version as pinned, as ``helm package`` names it."""
    from infra.values import chart_archive

    return chart_archive(chart_ref, version)


# --- Release-time edits, one per upstream -------------------------------------------------------


def _copy_tree(source: Path, target: Path) -> None:
    """Copies a folder out of the read-only module cache as writable files (``copytree`` would
    carry the cache's read-only modes onto the copies and their folders)."""
    for folder, dirs, files in os.walk(source):
        dirs.sort()
        here = target / Path(folder).relative_to(source)
        here.mkdir(parents=True, exist_ok=True)
        for name in sorted(files):
            shutil.copyfile(Path(folder) / name, here / name)


def _edit_chart_yaml(chart: Path, **fields: object) -> None:
    """Sets top-level ``Chart.yaml`` fields, as ``helm package --version/--app-version`` or a
    release job's ``yq`` does; the packager writes the file out in helm's form afterwards."""
    path = chart / "Chart.yaml"
    meta = yaml.safe_load(path.read_text())
    meta.update(fields)
    path.write_text(yaml.safe_dump(meta, sort_keys=False))


def _cert_manager(src: ChartSource, module: Path, stage: Path) -> None:
    """cert-manager's ``make helm-chart`` (``make/manifests.mk``, target
    ``$(bin_dir)/cert-manager-$(VERSION).tgz``) packages a staging folder,
    ``_bin/helm/cert-manager``, holding only the files it lists: so ``tests/``,
    ``values.linter.exceptions``, ``signkey_annotation.txt`` and ``README.template.md`` stay out
    of the archive. In v1.21 the CRDs are already templates (``templates/crd-*.yaml``), so no CRD
    step remains."""
    chart = module / src.folder
    (stage / "templates").mkdir(parents=True)
    for name in ("values.yaml", "values.schema.json", ".helmignore"):
        shutil.copyfile(chart / name, stage / name)
    # `$(HELM_TEMPLATE_TARGETS)` (templates/*.yaml), NOTES.txt and _helpers.tpl.
    for template in sorted((chart / "templates").iterdir()):
        if template.suffix == ".yaml" or template.name in ("NOTES.txt", "_helpers.tpl"):
            shutil.copyfile(template, stage / "templates" / template.name)
    # manifests.mk, target .../README.md: sed -e "s:{{RELEASE_VERSION}}:$(VERSION):g".
    readme = (chart / "README.template.md").read_text()
    (stage / "README.md").write_text(readme.replace("{{RELEASE_VERSION}}", src.version))
    # manifests.mk, target .../Chart.yaml: yq sets the signKey annotation to the contents of
    # signkey_annotation.txt (read whole, with its final newline), the prerelease annotation to
    # $(IS_PRERELEASE) (Makefile: "true" when `git describe` of the tag has a "-"), and version
    # and appVersion to $(VERSION); `helm package --version --app-version` sets them again.
    shutil.copyfile(chart / "Chart.yaml", stage / "Chart.yaml")
    meta = yaml.safe_load((stage / "Chart.yaml").read_text())
    annotations = dict(meta.get("annotations") or {})
    annotations["artifacthub.io/signKey"] = (chart / "signkey_annotation.txt").read_text()
    annotations["artifacthub.io/prerelease"] = "true" if "-" in src.module_version else "false"
    _edit_chart_yaml(stage, annotations=annotations, version=src.version, appVersion=src.version)


ENVOY_GATEWAY_IMAGE = "docker.io/envoyproxy/gateway"
"""``IMAGE`` in the release job's ``make helm-package`` call (.github/workflows/release.yaml)."""

_ENVSUBST = re.compile(r"\$(?:\{(\w+)\}|(\w+))")


def _envoy_gateway(src: ChartSource, module: Path, stage: Path) -> None:
    """Envoy Gateway's release job (``.github/workflows/release.yaml``, step "Build and Push EG
    Release Helm Chart") runs ``make helm-package`` with ``CHART_VERSION`` and ``TAG`` set to
    the release tag, ``IMAGE=docker.io/envoyproxy/gateway`` and ``IMAGE_PULL_POLICY=IfNotPresent``.
    ``tools/make/helm.mk`` (in the repository, not in the module zip: ``tools/`` is a module of
    its own) then renders ``values.yaml`` from ``values.tmpl.yaml`` with ``envsubst``
    (``GatewayImage=${IMAGE}:${TAG}``, ``GatewayImagePullPolicy=${IMAGE_PULL_POLICY}``), runs
    ``helm dependency update`` (the ``crds`` subchart is local, already in ``charts/crds``; only
    ``Chart.lock``'s ``generated`` time would change, kept as committed) and ``helm package
    --app-version ${TAG} --version ${CHART_VERSION}``."""
    _copy_tree(module / src.folder, stage)
    template = stage / "values.tmpl.yaml"
    if template.is_file():
        env = {
            "GatewayImage": f"{ENVOY_GATEWAY_IMAGE}:{src.module_version}",
            "GatewayImagePullPolicy": "IfNotPresent",
        }

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1) or match.group(2)
            if name not in env:
                # envsubst would put the release job's environment here: upstream has added a
                # variable this recipe does not know; read tools/make/helm.mk at the new tag.
                raise ChartBuildError(
                    f"{src.module_ref}: {src.folder}/values.tmpl.yaml uses ${name}, which the "
                    "release recipe in tests/rig/charts.py does not set; add it from upstream's "
                    "tools/make/helm.mk"
                )
            return env[name]

        (stage / "values.yaml").write_text(_ENVSUBST.sub(substitute, template.read_text()))
    _edit_chart_yaml(stage, version=src.version, appVersion=src.module_version)


def _kserve(src: ChartSource, module: Path, stage: Path) -> None:
    """KServe's ``.github/workflows/helm-publish.yml`` runs a plain ``helm package`` on each
    ``charts/*`` folder at the release tag: the version fields are committed by the release
    preparation, and the ``_common`` helpers (``make sync-helm-common-*``) are committed copies.
    So there is no edit; the check guards against a tag whose charts carry another version."""
    _copy_tree(module / src.folder, stage)
    committed = yaml.safe_load((stage / "Chart.yaml").read_text()).get("version")
    if committed != src.version:
        raise ChartBuildError(
            f"{src.module_ref}: {src.folder}/Chart.yaml has version {committed}, not "
            f"{src.version}; KServe publishes its charts unedited, so pin a matching tag"
        )


def _pachyderm(src: ChartSource, module: Path, stage: Path) -> None:
    """Pachyderm's ``.circleci/main.yml`` (job ``helm-build``, step "package release helm
    chart") runs ``helm package --version ${CIRCLE_TAG:1} --app-version ${CIRCLE_TAG:1}
    etc/helm/pachyderm``; the ``console.image.tag`` edit before it is for nightly tags only.
    Its dependencies are vendored as committed archives (``charts/postgresql-10.8.0.tgz``, built
    from ``dependencies/postgresql``, and ``charts/loki-stack-2.8.1.tgz``); no ``helm dependency
    update`` runs, and ``helm package`` writes both out under ``charts/``. MLDE (Determined) is
    not a subchart: its manifests are this chart's ``templates/determined/``."""
    _copy_tree(module / src.folder, stage)
    tag_version = src.module_version.removeprefix("v")
    _edit_chart_yaml(stage, version=tag_version, appVersion=tag_version)


# --- The table ----------------------------------------------------------------------------------

CERT_MANAGER_MODULE = "github.com/cert-manager/cert-manager"
ENVOY_GATEWAY_MODULE = "github.com/envoyproxy/gateway"
KSERVE_MODULE = "github.com/kserve/kserve"
PACHYDERM_MODULE = "github.com/pachyderm/pachyderm/v2"
ISTIO_MODULE = "istio.io/istio"

KSERVE_VERSION = "v0.17.0"
"""Not the program's v0.17.1: the proxy refuses github.com/kserve/kserve@v0.17.1."""

CHARTS: tuple[ChartSource, ...] = (
    ChartSource(
        "cert-manager",
        "v1.21.2",
        CERT_MANAGER_MODULE,
        "v1.21.2",
        "deploy/charts/cert-manager",
        _cert_manager,
    ),
    ChartSource(
        "gateway-crds-helm",
        "v1.9.0",
        ENVOY_GATEWAY_MODULE,
        "v1.9.0",
        "charts/gateway-crds-helm",
        _envoy_gateway,
    ),
    ChartSource(
        "gateway-helm",
        "v1.9.0",
        ENVOY_GATEWAY_MODULE,
        "v1.9.0",
        "charts/gateway-helm",
        _envoy_gateway,
    ),
    ChartSource(
        "kserve-crd", KSERVE_VERSION, KSERVE_MODULE, KSERVE_VERSION, "charts/kserve-crd", _kserve
    ),
    ChartSource(
        "kserve-resources",
        KSERVE_VERSION,
        KSERVE_MODULE,
        KSERVE_VERSION,
        "charts/kserve-resources",
        _kserve,
    ),
    ChartSource(
        "pachyderm", "2.12.2", PACHYDERM_MODULE, "v2.12.2", "etc/helm/pachyderm", _pachyderm
    ),
)
"""Every chart the ``local`` stack installs, at the program's pinned versions (KServe excepted,
see ``KSERVE_VERSION``)."""

ISTIO: tuple[ChartSource, ...] = tuple(
    # Istio tags releases without a "v" (1.30.4), which is no module version: the proxy could
    # serve the tag only as a pseudo-version, and this mirror refuses istio.io/istio@1.30.4. The
    # pseudo-versions it does serve are commits on master (charts at the 1.0.0 placeholder), not
    # a release. Upstream's release edits (istio/release-builder, pkg/build/helm.go) are
    # therefore not worked out; building these fails with NotServedError.
    ChartSource(name, "1.30.4", ISTIO_MODULE, "1.30.4", f"manifests/charts/{folder}", None)
    for name, folder in (
        ("base", "base"),
        ("istiod", "istio-control/istio-discovery"),
        ("gateway", "gateway"),
    )
)
"""Istio's charts, which only stacks with ``istio.enabled`` install; not served (see above)."""


# --- Fetching modules ---------------------------------------------------------------------------

_REFUSED = ("403 Forbidden", "404 Not Found", "410 Gone", "not available", "invalid version")
"""How the proxy (through the go command) says no, as opposed to a network failure."""


def download(module_ref: str, gomodcache: Path) -> Path:
    """Fetches ``module@version`` into ``gomodcache`` (or finds it there) and returns its
    extracted folder. Runs in an empty folder so no ``go.mod`` around the caller interferes."""
    if shutil.which("go") is None:
        raise ChartBuildError(
            f"{module_ref}: the `go` command is not on PATH; install Go 1.26 (the rig fetches "
            "chart sources as Go module zips)"
        )
    env = dict(os.environ, GOMODCACHE=str(gomodcache), GOFLAGS="-mod=mod", GOTOOLCHAIN="local")
    with tempfile.TemporaryDirectory(prefix="rig-charts-") as empty:
        result = subprocess.run(
            ["go", "mod", "download", "-json", module_ref],
            cwd=empty,
            env=env,
            capture_output=True,
            text=True,
            timeout=GO_TIMEOUT_S,
        )
    try:
        listing: dict[str, Any] = json.loads(result.stdout)
    except json.JSONDecodeError:
        listing = {"Error": (result.stderr or result.stdout).strip() or "no output"}
    error = listing.get("Error") or ("" if result.returncode == 0 else result.stderr.strip())
    if error:
        said = error.strip().splitlines()[-1].strip()
        if any(word in error for word in _REFUSED):
            raise NotServedError(
                f"{module_ref} is not served by the Go module proxy ({said}); "
                "a refusal is final: pin a version it serves in tests/rig/charts.py"
            )
        raise ChartBuildError(
            f"{module_ref}: go mod download failed ({said}); check the network "
            "and GOPROXY, then run again"
        )
    return Path(listing["Dir"])


def _module_time(module: Path, module_ref: str, gomodcache: Path) -> int:
    """The tag's commit time (the proxy's ``.info``), used as every archive entry's mtime so
    the same source always gives the same bytes."""
    path, version = module_ref.rsplit("@", 1)
    # The module cache escapes capital letters as "!" plus the lower-case letter.
    escaped = re.sub(r"[A-Z]", lambda m: "!" + m.group(0).lower(), path)
    info = gomodcache / "cache" / "download" / escaped / "@v" / f"{version}.info"
    try:
        return int(datetime.fromisoformat(json.loads(info.read_text())["Time"]).timestamp())
    except (OSError, KeyError, ValueError):
        return int(module.stat().st_mtime)


# --- Packaging, as `helm package` does it (helm v3 pkg/chart/loader and pkg/chartutil/save.go) ---


@dataclass(frozen=True)
class _Rule:
    """One ``.helmignore`` line (helm v3 ``pkg/ignore/rules.go``)."""

    pattern: str
    must_dir: bool

    def ignores(self, path: str, is_dir: bool) -> bool:
        if self.must_dir and not is_dir:
            return False
        pattern = self.pattern.removeprefix("/")
        if "/" not in self.pattern:
            # No slash: helm matches the file's base name only.
            return fnmatchcase(path.rsplit("/", 1)[-1], pattern)
        # Go's filepath.Match: "*" stops at "/", so match segment by segment.
        parts, wanted = path.split("/"), pattern.split("/")
        return len(parts) == len(wanted) and all(map(fnmatchcase, parts, wanted))


def _ignore_rules(chart: Path) -> list[_Rule]:
    """The chart's ``.helmignore`` plus helm's one default (hidden files under ``templates/``)."""
    rules: list[_Rule] = []
    path = chart / ".helmignore"
    lines = path.read_text().splitlines() if path.is_file() else []
    for line in [*lines, "templates/.?*"]:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("!"):
            # None of the charts here negates a rule; helm's odd negation semantics are not
            # reproduced rather than guessed.
            raise ChartBuildError(f"{path}: negated .helmignore rules are not supported: {line}")
        rules.append(_Rule(line.rstrip("/"), line.endswith("/")))
    return rules


def _chart_files(chart: Path) -> list[str]:
    """The chart's files that helm loads, relative and "/"-separated, in helm's walk order (by
    name within each folder; an ignored folder is skipped whole)."""
    rules = _ignore_rules(chart)
    found: list[str] = []

    def visit(folder: Path, prefix: str) -> None:
        for entry in sorted(folder.iterdir(), key=lambda p: p.name):
            rel = f"{prefix}{entry.name}"
            is_dir = entry.is_dir()
            if any(rule.ignores(rel, is_dir) for rule in rules):
                continue
            if is_dir:
                visit(entry, f"{rel}/")
            elif entry.is_file():
                found.append(rel)

    visit(chart, "")
    return found


_METADATA_FIELDS = (
    "name",
    "home",
    "sources",
    "version",
    "description",
    "keywords",
    "maintainers",
    "icon",
    "apiVersion",
    "condition",
    "tags",
    "appVersion",
    "deprecated",
    "annotations",
    "kubeVersion",
    "dependencies",
    "type",
)
"""helm's ``chart.Metadata`` fields; any other ``Chart.yaml`` key is dropped when it saves."""
_MAINTAINER_FIELDS = ("name", "email", "url")
_DEPENDENCY_FIELDS = (
    "name",
    "version",
    "repository",
    "condition",
    "tags",
    "enabled",
    "import-values",
    "alias",
)


class _HelmDumper(yaml.SafeDumper):
    """Writes YAML as helm's ``sigs.k8s.io/yaml`` does: keys sorted, multi-line strings as
    literal blocks, strings that would read back as another type in double quotes."""


_STR_TAG = "tag:yaml.org,2002:str"


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style: str | None = None
    if "\n" in value:
        style = "|"
    elif dumper.resolve(yaml.ScalarNode, value, (True, False)) != _STR_TAG:  # type: ignore[no-untyped-call]
        style = '"'
    return dumper.represent_scalar(_STR_TAG, value, style=style)


_HelmDumper.add_representer(str, _represent_str)


def _pick(
    data: Mapping[str, Any], fields: Iterable[str], keep_empty: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The fields helm keeps (all ``omitempty`` except ``keep_empty``)."""
    return {k: data.get(k, "") for k in fields if data.get(k) or k in keep_empty}


def _chart_yaml(meta: Mapping[str, Any]) -> bytes:
    """``Chart.yaml`` as ``helm package`` writes it: the metadata re-marshalled, comments gone."""
    kept = _pick(meta, _METADATA_FIELDS)
    if "maintainers" in kept:
        kept["maintainers"] = [_pick(m, _MAINTAINER_FIELDS) for m in kept["maintainers"]]
    if "dependencies" in kept:
        kept["dependencies"] = [
            # `repository` has no omitempty in helm's Dependency struct.
            _pick(d, _DEPENDENCY_FIELDS, keep_empty=("repository",))
            for d in kept["dependencies"]
        ]
    if "annotations" in kept:
        kept["annotations"] = {str(k): str(v) for k, v in kept["annotations"].items()}
    text = yaml.dump(kept, Dumper=_HelmDumper, sort_keys=True, allow_unicode=True)
    return text.encode()


_SPECIAL = ("Chart.yaml", "Chart.lock", "values.yaml", "values.schema.json")


def _entries(chart: Path, files: list[str], where: str) -> list[tuple[str, bytes]]:
    """(archive path, contents) of a chart folder and its subcharts, in the order helm's
    ``writeTarContents`` writes them: Chart.yaml, Chart.lock, values.yaml, values.schema.json,
    templates, other files, then each dependency under ``charts/``."""
    if "Chart.yaml" not in files:
        raise ChartBuildError(f"{chart}: no Chart.yaml, so it is not a chart")
    meta = yaml.safe_load((chart / "Chart.yaml").read_text())
    base = f"{where}{meta['name']}"
    out = [(f"{base}/Chart.yaml", _chart_yaml(meta))]
    out += [(f"{base}/{n}", (chart / n).read_bytes()) for n in _SPECIAL[1:] if n in files]
    rest = [f for f in files if f not in _SPECIAL]
    subcharts: dict[str, list[str]] = {}
    templates, others = [], []
    for rel in rest:
        if rel.startswith("charts/") and not rel.endswith(".prov"):
            head, _, tail = rel.removeprefix("charts/").partition("/")
            subcharts.setdefault(head, []).append(tail)
        elif rel.startswith("templates/"):
            templates.append(rel)
        else:
            others.append(rel)
    out += [(f"{base}/{rel}", (chart / rel).read_bytes()) for rel in templates + others]
    vendored: set[str] = set()
    for head in sorted(subcharts):
        sub = chart / "charts" / head
        if head.endswith(".tgz"):
            dep, dep_entries = _archive_entries(sub, f"{base}/charts/")
        elif sub.is_dir():
            dep = yaml.safe_load((sub / "Chart.yaml").read_text())["name"]
            dep_entries = _entries(sub, subcharts[head], f"{base}/charts/")
        else:
            raise ChartBuildError(f"{sub}: a file in charts/ that is neither a chart nor a .tgz")
        vendored.add(dep)
        out += dep_entries
    for dep in meta.get("dependencies") or []:
        # `helm package` refuses a chart whose Chart.yaml names a dependency charts/ lacks.
        if dep["name"] not in vendored:
            raise ChartBuildError(
                f"{chart}: Chart.yaml depends on {dep['name']}, which is not vendored in charts/"
            )
    return out


def _archive_entries(archive: Path, where: str) -> tuple[str, list[tuple[str, bytes]]]:
    """A vendored dependency archive's files, moved under ``where``. It was written by
    ``helm package`` already, so its files are helm's saved form and are kept as they are."""
    entries: list[tuple[str, bytes]] = []
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar.getmembers():
            if not member.isfile():
                continue
            handle = tar.extractfile(member)
            assert handle is not None
            entries.append((f"{where}{member.name.removeprefix('./')}", handle.read()))
    names = {name.removeprefix(where).split("/", 1)[0] for name, _ in entries}
    if len(names) != 1:
        raise ChartBuildError(f"{archive}: not a chart archive (top-level folders {names})")
    return names.pop(), entries


def package(chart: Path, out: Path, mtime: int) -> str:
    """Writes ``chart`` (a folder) to ``out`` as ``helm package`` would, and returns the
    ``NAME-VERSION.tgz`` name helm would give it. Entries are plain files (mode 0644, owner 0),
    with ``mtime`` so equal input gives equal bytes; the file appears whole or not at all."""
    entries = _entries(chart, _chart_files(chart), "")
    meta = yaml.safe_load(_chart_yaml(yaml.safe_load((chart / "Chart.yaml").read_text())))
    partial = out.with_name(f".{out.name}.partial")
    with (
        partial.open("wb") as raw,
        gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=mtime) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for name, data in entries:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, mtime
            tar.addfile(info, io.BytesIO(data))
    partial.replace(out)
    return f"{meta['name']}-{meta['version']}.tgz"


# --- Building -----------------------------------------------------------------------------------


def _recipe() -> str:
    """What a built archive depends on besides its source: this file (the release edits and
    the packager). A change here rebuilds every archive; it takes seconds."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]


def _build_one(src: ChartSource, dest: Path, gomodcache: Path) -> Path:
    module = download(src.module_ref, gomodcache)
    if src.release is None:
        raise ChartBuildError(
            f"{src.module_ref}: the release edits for {src.name} are not worked out; add them "
            "to tests/rig/charts.py from upstream's release tooling before using this archive"
        )
    if not (module / src.folder / "Chart.yaml").is_file():
        raise ChartBuildError(f"{src.module_ref}: no chart in {src.folder}/")
    with tempfile.TemporaryDirectory(prefix=f"rig-chart-{src.name}-") as work:
        stage = Path(work) / src.name
        src.release(src, module, stage)
        out = dest / src.archive
        named = package(stage, out, _module_time(module, src.module_ref, gomodcache))
    if named != src.archive:
        out.unlink()
        raise ChartBuildError(
            f"{src.module_ref}: {src.folder} packages as {named}, not {src.archive}; fix the "
            "table in tests/rig/charts.py"
        )
    return out


def build_archives(
    dest: Path, gomodcache: Path, charts: Iterable[ChartSource] = CHARTS
) -> dict[str, Path]:
    """Builds every chart in ``charts`` into ``dest`` and returns chart name -> archive path.

    Idempotent: an archive already built from the same module version, folder and recipe is
    kept without calling ``go`` at all; when a chart's version changes, its old archive is
    removed and the new one built. Raises ``NotServedError`` naming ``module@version`` when the
    proxy refuses a module and ``ChartBuildError`` for any other failure; the archives built
    before it stay recorded, so a rerun resumes there.
    """
    dest.mkdir(parents=True, exist_ok=True)
    gomodcache.mkdir(parents=True, exist_ok=True)
    stamp_path = dest / STAMP_FILE
    try:
        stamps: dict[str, dict[str, str]] = json.loads(stamp_path.read_text())
    except (OSError, ValueError):
        stamps = {}
    recipe = _recipe()
    built: dict[str, Path] = {}
    for src in charts:
        want = {
            "archive": src.archive,
            "source": f"{src.module_ref}/{src.folder}",
            "recipe": recipe,
        }
        have = stamps.get(src.name)
        out = dest / src.archive
        if have != want or not out.is_file():
            if have and have.get("archive") != src.archive:
                (dest / have["archive"]).unlink(missing_ok=True)
            stamps.pop(src.name, None)
            _build_one(src, dest, gomodcache)
            stamps[src.name] = want
            stamp_path.write_text(json.dumps(stamps, indent=2, sort_keys=True) + "\n")
        built[src.name] = out
    return built


def main(argv: list[str] | None = None) -> int:
    """``python tests/rig/charts.py [DEST]``: builds the archives, one line per chart."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dest", nargs="?", type=Path, default=DEFAULT_DEST)
    parser.add_argument("--gomodcache", type=Path, default=DEFAULT_GOMODCACHE)
    parser.add_argument("--istio", action="store_true", help="also build Istio's charts")
    args = parser.parse_args(argv)
    charts = CHARTS + ISTIO if args.istio else CHARTS
    try:
        built = build_archives(args.dest.resolve(), args.gomodcache.resolve(), charts)
    except ChartBuildError as exc:
        print(f"charts: {exc}", file=sys.stderr)
        return 1
    for name, path in built.items():
        print(f"{name:<18} {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
