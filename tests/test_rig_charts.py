"""The rig's chart archives (``tests/rig/charts.py``): the packager against ``helm package``'s
format, each upstream's release edits on small stand-in modules, the build's idempotence and its
errors. One test builds the real archives from the Go module proxy; it needs the ``go`` command.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra import charts as program_charts
from infra.platform.config import kserve_resources_chart
from infra.platform.kserve import chart_for
from tests.rig import charts


def _members(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive, "r:gz") as tar:
        return {
            m.name: tar.extractfile(m).read()  # type: ignore[union-attr]
            for m in tar.getmembers()
            if m.isfile()
        }


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def _dependency_archive(folder: Path, name: str) -> Path:
    """A dependency archive as ``helm package`` leaves one in ``charts/``."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for rel, text in {
            "Chart.yaml": f"apiVersion: v2\nname: {name}\nversion: 1.0.0\n",
            "templates/cm.yaml": "kind: ConfigMap\n",
        }.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{name}/{rel}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    path = folder / f"{name}-1.0.0.tgz"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())
    return path


CHART_YAML = """\
# a comment helm drops
apiVersion: v2
name: demo
version: 0.1.0
appVersion: "0.1.0"
notAField: dropped
annotations:
  artifacthub.io/prerelease: "false"
  links: |
    - one
    - two
maintainers:
  - name: someone
dependencies:
  - name: dep
    version: 1.0.0
    condition: dep.enabled
  - name: sub
    version: 0.0.0
"""


@pytest.fixture
def demo_chart(tmp_path: Path) -> Path:
    chart = _write(
        tmp_path / "src" / "demo",
        {
            "Chart.yaml": CHART_YAML,
            ".helmignore": "# comment\n*.bak\nci/\ndocs/internal.md\n",
            "values.yaml": "replicas: 1 # kept as written\n",
            "templates/deployment.yaml": "kind: Deployment\n",
            "templates/.hidden": "ignored by helm's default rule\n",
            "notes.bak": "ignored by name\n",
            "ci/values.yaml": "ignored folder\n",
            "docs/internal.md": "ignored by path\n",
            "docs/guide.md": "kept\n",
            "charts/sub/Chart.yaml": "apiVersion: v2\nname: sub\nversion: 0.0.0\n",
            "charts/sub/templates/x.yaml": "kind: Secret\n",
        },
    )
    _dependency_archive(chart / "charts", "dep")
    return chart


def test_archive_names_match_the_program() -> None:
    """The rig and ``infra.charts`` name archives alike, for every chart the program installs."""
    refs = [
        value for value in vars(program_charts).values() if isinstance(value, program_charts.Chart)
    ]
    refs.append(chart_for(charts.KSERVE_VERSION))
    for ref in refs:
        assert charts.archive_file_name(ref.name, "v9.9.9") == program_charts.archive_name(
            ref, "v9.9.9"
        )
    by_name = {ref.name.rsplit("/", 1)[-1]: ref for ref in refs}
    for src in (*charts.CHARTS, *charts.ISTIO):
        assert src.name in by_name, f"{src.name} is no chart the program installs"
        assert charts.archive_file_name(by_name[src.name].name, src.version) == src.archive
    assert kserve_resources_chart(charts.KSERVE_VERSION) == "kserve-resources"


def test_package_writes_what_helm_package_writes(demo_chart: Path, tmp_path: Path) -> None:
    out = tmp_path / "demo.tgz"
    assert charts.package(demo_chart, out, mtime=1_700_000_000) == "demo-0.1.0.tgz"
    members = _members(out)
    assert {name.split("/", 1)[0] for name in members} == {"demo"}
    assert sorted(members) == [
        "demo/.helmignore",
        "demo/Chart.yaml",
        "demo/charts/dep/Chart.yaml",
        "demo/charts/dep/templates/cm.yaml",
        "demo/charts/sub/Chart.yaml",
        "demo/charts/sub/templates/x.yaml",
        "demo/docs/guide.md",
        "demo/templates/deployment.yaml",
        "demo/values.yaml",
    ]
    assert list(members)[:2] == ["demo/Chart.yaml", "demo/values.yaml"]
    assert members["demo/values.yaml"] == b"replicas: 1 # kept as written\n"
    # Re-marshalled as helm does: sorted keys, no comments, unknown keys gone, strings that
    # would read as another type double-quoted, multi-line strings as literal blocks.
    assert members["demo/Chart.yaml"].decode() == (
        "annotations:\n"
        '  artifacthub.io/prerelease: "false"\n'
        "  links: |\n"
        "    - one\n"
        "    - two\n"
        "apiVersion: v2\n"
        "appVersion: 0.1.0\n"
        "dependencies:\n"
        "- condition: dep.enabled\n"
        "  name: dep\n"
        '  repository: ""\n'
        "  version: 1.0.0\n"
        "- name: sub\n"
        '  repository: ""\n'
        "  version: 0.0.0\n"
        "maintainers:\n"
        "- name: someone\n"
        "name: demo\n"
        "version: 0.1.0\n"
    )
    again = tmp_path / "again.tgz"
    charts.package(demo_chart, again, mtime=1_700_000_000)
    assert again.read_bytes() == out.read_bytes()


def test_package_refuses_a_missing_dependency(demo_chart: Path, tmp_path: Path) -> None:
    (demo_chart / "charts" / "dep-1.0.0.tgz").unlink()
    with pytest.raises(charts.ChartBuildError, match="depends on dep, which is not vendored"):
        charts.package(demo_chart, tmp_path / "demo.tgz", mtime=0)


def _source(name: str, release: charts.Release, version: str = "v1.0.0") -> charts.ChartSource:
    return charts.ChartSource(name, version, "example.com/m", version, "chart", release)


def _release(src: charts.ChartSource, module: Path, tmp_path: Path) -> dict[str, bytes]:
    stage = tmp_path / "stage" / src.name
    assert src.release is not None
    src.release(src, module, stage)
    out = tmp_path / src.archive
    assert charts.package(stage, out, mtime=0) == src.archive
    return _members(out)


def test_cert_manager_release_edits(tmp_path: Path) -> None:
    module = _write(
        tmp_path / "module",
        {
            "chart/Chart.yaml": "apiVersion: v2\nname: cert-manager\nversion: v0.0.0\n"
            "appVersion: v0.0.0\nannotations:\n  artifacthub.io/license: Apache-2.0\n",
            "chart/signkey_annotation.txt": "fingerprint: ABC\nurl: https://example.com/k.gpg\n",
            "chart/README.template.md": "helm install --version {{RELEASE_VERSION}}\n",
            "chart/values.yaml": "a: 1\n",
            "chart/values.schema.json": "{}",
            "chart/values.linter.exceptions": "left out\n",
            "chart/.helmignore": "tests/\n",
            "chart/templates/deployment.yaml": "kind: Deployment\n",
            "chart/templates/_helpers.tpl": "{{/* */}}\n",
            "chart/templates/NOTES.txt": "notes\n",
            "chart/tests/values.yaml": "left out\n",
        },
    )
    members = _release(_source("cert-manager", charts._cert_manager), module, tmp_path)
    assert sorted(members) == [
        "cert-manager/.helmignore",
        "cert-manager/Chart.yaml",
        "cert-manager/README.md",
        "cert-manager/templates/NOTES.txt",
        "cert-manager/templates/_helpers.tpl",
        "cert-manager/templates/deployment.yaml",
        "cert-manager/values.schema.json",
        "cert-manager/values.yaml",
    ]
    assert members["cert-manager/README.md"] == b"helm install --version v1.0.0\n"
    meta = yaml.safe_load(members["cert-manager/Chart.yaml"])
    assert meta["version"] == meta["appVersion"] == "v1.0.0"
    assert meta["annotations"] == {
        "artifacthub.io/license": "Apache-2.0",
        "artifacthub.io/prerelease": "false",
        "artifacthub.io/signKey": "fingerprint: ABC\nurl: https://example.com/k.gpg\n",
    }


def test_envoy_gateway_release_edits(tmp_path: Path) -> None:
    module = _write(
        tmp_path / "module",
        {
            "chart/Chart.yaml": "apiVersion: v2\nname: gateway-helm\nversion: v0.0.0-latest\n"
            'appVersion: "latest"\n',
            "chart/.helmignore": "*.tmpl.*\n",
            "chart/values.tmpl.yaml": "image: ${GatewayImage}\n"
            "pullPolicy: ${GatewayImagePullPolicy}\n",
        },
    )
    members = _release(_source("gateway-helm", charts._envoy_gateway), module, tmp_path)
    assert sorted(members) == [
        "gateway-helm/.helmignore",
        "gateway-helm/Chart.yaml",
        "gateway-helm/values.yaml",
    ]
    assert members["gateway-helm/values.yaml"] == (
        b"image: docker.io/envoyproxy/gateway:v1.0.0\npullPolicy: IfNotPresent\n"
    )
    meta = yaml.safe_load(members["gateway-helm/Chart.yaml"])
    assert meta["version"] == meta["appVersion"] == "v1.0.0"

    (module / "chart" / "values.tmpl.yaml").write_text("image: ${SomethingNew}\n")
    with pytest.raises(charts.ChartBuildError, match=r"uses \$SomethingNew"):
        _release(_source("gateway-helm", charts._envoy_gateway), module, tmp_path / "again")


def test_kserve_and_pachyderm_release_edits(tmp_path: Path) -> None:
    module = _write(
        tmp_path / "module",
        {"chart/Chart.yaml": "apiVersion: v2\nname: kserve-crd\nversion: v1.0.0\n"},
    )
    assert "kserve-crd/Chart.yaml" in _release(
        _source("kserve-crd", charts._kserve), module, tmp_path
    )
    with pytest.raises(charts.ChartBuildError, match="publishes its charts unedited"):
        _release(_source("kserve-crd", charts._kserve, "v1.0.1"), module, tmp_path / "again")

    module = _write(
        tmp_path / "pachyderm-module",
        {
            "chart/Chart.yaml": "apiVersion: v2\nname: pachyderm\nversion: 2.12.0\n"
            "appVersion: 2.12.0\n"
        },
    )
    src = charts.ChartSource(
        "pachyderm", "1.0.0", "example.com/m", "v1.0.0", "chart", charts._pachyderm
    )
    meta = yaml.safe_load(_release(src, module, tmp_path)["pachyderm/Chart.yaml"])
    assert meta["version"] == meta["appVersion"] == "1.0.0"


class _FakeGo:
    """Stands in for ``go mod download``: serves a module folder, counts the calls."""

    def __init__(self, module: Path) -> None:
        self.module = module
        self.calls: list[str] = []

    def __call__(self, module_ref: str, gomodcache: Path) -> Path:
        self.calls.append(module_ref)
        return self.module


def test_build_is_idempotent_and_follows_version_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = _write(
        tmp_path / "module",
        {"chart/Chart.yaml": "apiVersion: v2\nname: kserve-crd\nversion: v1.0.0\n"},
    )
    fake = _FakeGo(module)
    monkeypatch.setattr(charts, "download", fake)
    dest, cache = tmp_path / "dest", tmp_path / "cache"
    table = (_source("kserve-crd", charts._kserve),)

    built = charts.build_archives(dest, cache, table)
    assert built == {"kserve-crd": dest / "kserve-crd-v1.0.0.tgz"}
    assert built["kserve-crd"].is_file()
    first = built["kserve-crd"].stat().st_mtime_ns
    assert charts.build_archives(dest, cache, table) == built
    assert len(fake.calls) == 1, "a second build must not fetch or rebuild anything"
    assert built["kserve-crd"].stat().st_mtime_ns == first

    (module / "chart" / "Chart.yaml").write_text(
        "apiVersion: v2\nname: kserve-crd\nversion: v1.1.0\n"
    )
    moved = charts.build_archives(dest, cache, (_source("kserve-crd", charts._kserve, "v1.1.0"),))
    assert moved == {"kserve-crd": dest / "kserve-crd-v1.1.0.tgz"}
    assert sorted(p.name for p in dest.glob("*.tgz")) == ["kserve-crd-v1.1.0.tgz"]
    assert len(fake.calls) == 2


def _go_answers(monkeypatch: pytest.MonkeyPatch, listing: dict[str, Any], rc: int) -> None:
    def run(args: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(args, rc, json.dumps(listing), "")

    monkeypatch.setattr(charts.shutil, "which", lambda _: "/usr/bin/go")
    monkeypatch.setattr(charts.subprocess, "run", run)


def test_a_refused_module_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ref = "github.com/kserve/kserve@v0.17.1"
    _go_answers(
        monkeypatch,
        {"Error": f"{ref}: reading https://proxy/@v/v0.17.1.info: 403 Forbidden\n\tnot available"},
        1,
    )
    with pytest.raises(charts.NotServedError, match=f"^{ref} is not served"):
        charts.download(ref, tmp_path)


def test_a_network_failure_is_not_a_refusal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _go_answers(monkeypatch, {"Error": "dial tcp: i/o timeout"}, 1)
    with pytest.raises(charts.ChartBuildError, match="check the network") as caught:
        charts.download("example.com/m@v1.0.0", tmp_path)
    assert not isinstance(caught.value, charts.NotServedError)


def test_istio_is_listed_but_not_buildable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(charts, "download", _FakeGo(tmp_path))
    with pytest.raises(charts.ChartBuildError, match="release edits for base are not worked out"):
        charts.build_archives(tmp_path / "dest", tmp_path / "cache", charts.ISTIO[:1])


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("go") is None, reason="needs the go command")
def test_real_archives(tmp_path: Path) -> None:
    """Every chart of the ``local`` stack, from the Go module proxy (cached under .rig/go/mod)."""
    built = charts.build_archives(tmp_path, charts.DEFAULT_GOMODCACHE)
    assert sorted(built) == sorted(src.name for src in charts.CHARTS)
    for src in charts.CHARTS:
        members = _members(built[src.name])
        assert {name.split("/", 1)[0] for name in members} == {src.name}
        meta = yaml.safe_load(members[f"{src.name}/Chart.yaml"])
        assert meta["version"] == src.version
    pachyderm = _members(built["pachyderm"])
    for vendored in ("postgresql", "loki-stack"):
        assert f"pachyderm/charts/{vendored}/Chart.yaml" in pachyderm
    assert any(name.startswith("pachyderm/templates/determined/") for name in pachyderm)
    assert "gateway-helm/charts/crds/Chart.yaml" in _members(built["gateway-helm"])
