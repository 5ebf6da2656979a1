"""The version matrix (``infra/versions.py``): its invariants, the config defaults that come
from it, and the README table generated from it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from infra import versions
from infra.config.load import load_config
from infra.config.stack import StackConfig

ROOT = Path(__file__).resolve().parent.parent


def ranged() -> list[versions.Pin]:
    return [pin for pin in versions.PINS if pin.kubernetes is not None]


@pytest.mark.parametrize("pin", ranged(), ids=lambda pin: pin.name)
def test_every_pin_supports_the_default_kubernetes(pin: versions.Pin) -> None:
    assert pin.kubernetes is not None
    assert versions.KUBERNETES.version in pin.kubernetes, (
        f"{pin.name} {pin.version} supports Kubernetes {pin.kubernetes}, not the default "
        f"{versions.KUBERNETES.version}"
    )


def test_the_stack_range_is_what_every_pin_supports() -> None:
    # The autoscaler follows the cluster's minor by its own rule; every other pin must cover
    # the whole range the matrix declares.
    stack = versions.KUBERNETES.kubernetes
    assert stack is not None
    for pin in ranged():
        if pin.basis == "matches-cluster" or pin is versions.KUBERNETES:
            continue
        assert pin.kubernetes is not None
        assert stack.low in pin.kubernetes and stack.high in pin.kubernetes, pin.name
    inside = [v for v in versions.KUBERNETES_VERSIONS if v in stack]
    assert inside and inside[0] == stack.low and inside[-1] == stack.high


@pytest.mark.parametrize("provider", sorted(versions.STANDARD_SUPPORT_ENDS))
def test_default_kubernetes_is_in_standard_support_today(provider: str) -> None:
    end = versions.STANDARD_SUPPORT_ENDS[provider][versions.KUBERNETES.version]
    assert end > versions.TODAY, f"{provider} standard support for the default ended {end}"


def test_every_pin_names_its_source() -> None:
    for pin in versions.PINS:
        assert pin.source.strip(), pin.name
        if pin.basis in ("not-stated", "unsupported-upstream"):
            assert pin.note or pin.basis == "unsupported-upstream", pin.name


def test_config_defaults_are_the_matrix() -> None:
    config = load_config("test", {"target": "existing"})
    assert config.kubernetes_version == versions.KUBERNETES.version
    defaults = {
        "mldmChartVersion": config.mldm.chart_version,
        "mldeVersion": config.mlde.version,
        "mldeGpuImage": config.mlde.gpu_image,
        "mldeCpuImage": config.mlde.cpu_image,
        "kserveChartVersion": config.kserve.chart_version,
        "knativeServingVersion": config.knative.serving_version,
        "knativeNetIstioVersion": config.knative.net_istio_version,
        "istioChartVersion": config.istio.chart_version,
        "certManagerChartVersion": config.cert_manager.chart_version,
        "gatewayChartVersion": config.gateway.chart_version,
        "gpuDevicePluginChartVersion": config.gpu.device_plugin_chart_version,
        "postgresImage": config.postgres.image,
    }
    for key, value in defaults.items():
        assert versions.by_config_key()[key].version == value, key
    assert StackConfig.model_fields["kubernetes_version"].get_default() == "1.35"


def _pyproject_pins() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        requirements.extend(extra)
    pins = {}
    for requirement in requirements:
        match = re.match(r"^([A-Za-z0-9_.-]+)==([^;\s]+)", requirement)
        if match:
            pins[match[1].lower()] = match[2]
    return pins


def test_clients_match_their_servers_major_minor() -> None:
    """Pachyderm supports only same-major.minor clients; the determined 0.38 client fails on
    older masters' replies (KeyError 'key' on projects)."""
    pins = _pyproject_pins()
    assert pins["pachyderm-sdk"] == versions.PACHYDERM_SDK.version
    assert pins["determined"] == versions.DETERMINED_SDK.version
    assert versions.minor(versions.PACHYDERM_SDK.version) == versions.minor(
        versions.PACHYDERM_CHART.version
    )
    assert versions.minor(versions.DETERMINED_SDK.version) == versions.minor(versions.MLDE.version)
    assert versions.PACHYDERM_CHART.extra["determined"] == versions.MLDE.version


def test_flow_images_pin_the_matrix_clients() -> None:
    for image in ("train", "deploy"):
        requirements = (ROOT / "images" / image / "requirements.txt").read_text()
        assert f"determined=={versions.DETERMINED_SDK.version}" in requirements, image
        dockerfile = (ROOT / "images" / image / "Dockerfile").read_text()
        assert f"FROM {versions.FLOW_BASE.version}" in dockerfile, image
    deploy = (ROOT / "images" / "deploy" / "Dockerfile").read_text()
    assert f"torch=={versions.EXPORT_TORCH.version}" in deploy


def test_readme_version_table_is_current() -> None:
    readme = (ROOT / "README.md").read_text()
    assert versions.README_BEGIN in readme and versions.README_END in readme
    assert versions.readme_with_table(readme) == readme, (
        "README's version table is stale; regenerate it: python -m infra.versions"
    )
