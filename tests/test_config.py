"""Config validation: one test per message a user can meet, plus what valid config becomes."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.config.keys import KEYS
from infra.config.load import load_config
from infra.config.problems import ConfigError
from infra.config.stack import StackConfig
from infra.config.types import ConfigObject
from infra.platform.config import split_label, split_taint
from infra.targets import TARGETS
from infra.targets.existing.config import ExistingConfig
from tests.conftest import only_problem, problems

BASE = {"target": "existing"}


def test_minimal_config_takes_declared_defaults() -> None:
    config = load_config("test", BASE)
    assert isinstance(config, StackConfig)
    assert config.gpu.enabled is True
    assert config.section(ExistingConfig).postgres.storage_size == "20Gi"
    assert config.section(ExistingConfig).shared_fs.type == "hostPath"
    assert config.ephemeral is False


def test_strings_from_pulumi_are_coerced_to_types() -> None:
    config = load_config("test", {**BASE, "ephemeral": "true", "gpuEnabled": "false"})
    assert config.ephemeral is True
    assert config.gpu.enabled is False


def test_missing_required_key() -> None:
    message = only_problem({})
    assert message.startswith("pdk-deployer:target = (not set): is required and not set.")
    assert "Allowed: existing, aws, gcp." in message
    assert "pulumi config set target existing --stack test" in message


def test_unknown_key_suggests_the_closest_known_one() -> None:
    message = only_problem({**BASE, "postgresStorgeSize": "5Gi"})
    assert "pdk-deployer:postgresStorgeSize = '5Gi': is not a known key." in message
    assert "did you mean 'postgresStorageSize'?" in message
    assert "pulumi config rm postgresStorgeSize --stack test" in message


def test_value_outside_the_allowed_set() -> None:
    message = only_problem({**BASE, "sharedFsType": "smb"})
    assert "pdk-deployer:sharedFsType = 'smb': is not one of the allowed values." in message
    assert "Allowed: nfs, hostPath." in message


def test_unknown_target() -> None:
    message = only_problem({"target": "azure"})
    assert "pdk-deployer:target = 'azure': is not one of the allowed values" in message


def test_wrong_type() -> None:
    message = only_problem({**BASE, "ephemeral": "sometimes"})
    assert "pdk-deployer:ephemeral = 'sometimes': is not a boolean" in message
    assert "Allowed: true, false." in message


def test_storage_quantity_without_unit_rule() -> None:
    message = only_problem({**BASE, "postgresStorageSize": "20 gigabytes"})
    assert "is not a Kubernetes storage quantity" in message
    assert "e.g. 20Gi" in message


def test_zero_quantity_is_rejected() -> None:
    assert "is not a Kubernetes storage quantity" in only_problem(
        {**BASE, "minioStorageSize": "0Gi"}
    )


def test_node_label_shape() -> None:
    message = only_problem({**BASE, "gpuNodeLabel": "gpu-worker"})
    assert "pdk-deployer:gpuNodeLabel = 'gpu-worker': is not a node label" in message
    assert "KEY=VALUE" in message


def test_taint_effect_must_be_a_kubernetes_effect() -> None:
    message = only_problem({**BASE, "gpuTaint": "nvidia.com/gpu=present:Never"})
    assert "is not a node taint" in message
    assert "NoSchedule, PreferNoSchedule, NoExecute" in message


def test_unpinned_image() -> None:
    message = only_problem({**BASE, "minioImage": "minio/minio:latest"})
    assert "pdk-deployer:minioImage = 'minio/minio:latest': is not pinned" in message
    assert "pin it, e.g. minio/minio:<version>" in message


def test_image_without_any_tag_is_unpinned() -> None:
    assert "is not pinned" in only_problem({**BASE, "postgresImage": "postgres"})


def test_image_pinned_by_digest_is_accepted() -> None:
    image = "postgres@sha256:" + "a" * 64
    assert load_config("test", {**BASE, "postgresImage": image}).postgres.image == image


def test_malformed_image_reference() -> None:
    assert "is not a container image reference" in only_problem(
        {**BASE, "postgresImage": "Postgres 13"}
    )


def test_unsupported_kubernetes_version() -> None:
    message = only_problem({**BASE, "kubernetesVersion": "1.20"})
    assert "is not a supported Kubernetes version" in message
    assert "1.32" in message and "1.36" in message


def test_kubernetes_version_a_pin_does_not_support_names_the_pin() -> None:
    # 1.36 is a known minor, but the Pachyderm chart's range in the matrix stops at 1.35.
    found = problems({**BASE, "kubernetesVersion": "1.36"})
    assert any(
        "is not supported by pachyderm Helm chart" in problem
        and "2.12.2 (set by mldmChartVersion)" in problem
        and "supports Kubernetes 1.34-1.35" in problem
        for problem in found
    ), found


def test_overridden_pin_is_not_judged_by_the_matrix() -> None:
    # A stack that pins its own Istio takes over that version's support range.
    found = problems({**BASE, "kubernetesVersion": "1.36", "istioChartVersion": "1.31.0"})
    assert not any("istioChartVersion" in problem for problem in found), found


def test_server_must_match_the_client_minor() -> None:
    message = only_problem({**BASE, "mldeVersion": "0.37.0"})
    assert "does not match the determined client 0.38.1" in message
    assert "a 0.38.x version" in message


def test_deployment_id_must_be_a_short_dns_label() -> None:
    message = only_problem({**BASE, "deploymentId": "My_Deployment"})
    assert "pdk-deployer:deploymentId = 'My_Deployment': is not a short DNS label" in message


@pytest.mark.parametrize("target", list(TARGETS))
def test_key_of_another_target(target: str) -> None:
    """Every section key set on another target is refused, naming the target that owns it."""
    for other in TARGETS:
        if other == target:
            continue
        spec = next(spec for spec in KEYS.values() if spec.section == other)
        found = problems({"target": target, spec.key: "x"})
        assert any(
            f"pdk-deployer:{spec.key} = 'x': only applies to target {other}, not '{target}'" in p
            for p in found
        ), found


def test_every_problem_is_reported_at_once() -> None:
    found = problems(
        {
            "target": "existing",
            "ephemeral": "maybe",
            "postgresStorageSize": "big",
            "gpuTaint": "bad",
            "colour": "blue",
        }
    )
    assert len(found) == 4  # unknown key, bad bool, bad size, bad taint
    assert str(ConfigError("test")).startswith("Stack 'test' has 0 configuration problems")


def test_error_text_lists_problems_one_per_line() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config("dev", {"ephemeral": "maybe"})
    text = str(caught.value)
    assert text.splitlines()[0] == "Stack 'dev' has 2 configuration problems:"
    assert all(line.startswith("  - pdk-deployer:") for line in text.splitlines()[1:])


def test_label_and_taint_parsing() -> None:
    assert split_label("nodegroup-role=gpu-worker") == ("nodegroup-role", "gpu-worker")
    assert split_taint("nvidia.com/gpu=present:NoSchedule") == (
        "nvidia.com/gpu",
        "present",
        "NoSchedule",
    )
    assert split_taint("dedicated:NoExecute") == ("dedicated", "", "NoExecute")


def test_serverless_kserve_needs_istio() -> None:
    message = only_problem({**BASE, "istioEnabled": "false"})
    assert "pdk-deployer:kserveDeploymentMode = 'Serverless': is Serverless" in message
    assert "but istioEnabled is false" in message
    assert "pulumi config set kserveDeploymentMode RawDeployment --stack test" in message


def test_raw_deployment_without_istio_is_fine() -> None:
    config = load_config(
        "test", {**BASE, "istioEnabled": "false", "kserveDeploymentMode": "RawDeployment"}
    )
    assert config.istio.enabled is False


def test_gpu_pool_on_a_cpu_only_stack() -> None:
    message = only_problem({**BASE, "gpuEnabled": "false", "mldeComputePool": "gpu-pool"})
    assert (
        "pdk-deployer:mldeComputePool = 'gpu-pool': is the GPU pool, but gpuEnabled is false"
        in (message)
    )
    assert "pulumi config set mldeComputePool default --stack test" in message


def test_gpu_only_keys_on_a_cpu_only_stack_would_be_ignored() -> None:
    message = only_problem({**BASE, "gpuEnabled": "false", "gpuDevicePluginChartVersion": "0.17.3"})
    assert "pdk-deployer:gpuDevicePluginChartVersion = '0.17.3': is set but unused" in message
    assert "unset while gpuEnabled is false" in message
    assert "pulumi config rm gpuDevicePluginChartVersion --stack test" in message


def test_knative_version_with_raw_deployment_would_be_ignored() -> None:
    message = only_problem(
        {**BASE, "kserveDeploymentMode": "RawDeployment", "knativeServingVersion": "1.20.0"}
    )
    assert "pdk-deployer:knativeServingVersion = '1.20.0': is set but unused" in message


@pytest.mark.parametrize("version", ["latest", "1.17", ">=1.2.0", "v1.17.x", ""])
def test_chart_version_that_is_not_a_version(version: str) -> None:
    message = only_problem({**BASE, "certManagerChartVersion": version})
    assert f"pdk-deployer:certManagerChartVersion = {version!r}: is not a version" in message
    assert "exact semantic version" in message


def test_chart_versions_with_or_without_v_prefix_are_accepted() -> None:
    config = load_config(
        "test", {**BASE, "kserveChartVersion": "0.15.2", "istioChartVersion": "1.28.6-rc.1"}
    )
    assert config.kserve.chart_version == "0.15.2"


def test_source_range_that_is_not_a_cidr() -> None:
    message = only_problem({**BASE, "exposeSourceRanges": "10.0.0.0/8,office"})
    assert "contains 'office', which is not a network in CIDR notation" in message


def test_source_range_with_host_bits_set() -> None:
    assert "'10.0.0.1/8', which is not a network" in only_problem(
        {**BASE, "exposeSourceRanges": "10.0.0.1/8"}
    )


def test_source_ranges_are_normalised() -> None:
    config = load_config("test", {**BASE, "exposeSourceRanges": "10.0.0.0/8, 203.0.113.7/32"})
    assert config.expose.source_ranges == "10.0.0.0/8,203.0.113.7/32"


def test_default_source_ranges_are_private_networks_only() -> None:
    assert load_config("test", BASE).expose.source_ranges == (
        "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16"
    )


def test_model_domain_must_be_a_domain() -> None:
    message = only_problem({**BASE, "kserveDomain": "https://models.example.com"})
    assert "is not a DNS domain" in message


def test_slots_per_pod_range() -> None:
    message = only_problem({**BASE, "mldeMaxSlotsPerPod": "0"})
    assert "pdk-deployer:mldeMaxSlotsPerPod = '0': is not a GPU count per pod" in message


def test_tag_after_a_path_is_not_mistaken_for_a_port() -> None:
    image = "team/app:1"
    assert load_config("test", {**BASE, "mldeCpuImage": image}).mlde.cpu_image == image


def test_service_type_allowed_values() -> None:
    message = only_problem({**BASE, "exposeServiceType": "Ingress"})
    assert "Allowed: LoadBalancer, NodePort." in message


@pytest.mark.parametrize("text", ["yes", "True", "on", "1", "TRUE", "y"])
def test_booleans_are_exactly_what_the_pulumi_cli_accepts(text: str) -> None:
    """Defect class 3: the CLI (ValidateConfigValue, pulumi/pulumi project.go) accepts only the
    literal strings true and false for a boolean key; pydantic alone took yes/on/1."""
    message = only_problem({**BASE, "gpuEnabled": text})
    assert f"pdk-deployer:gpuEnabled = {text!r}: is not a boolean" in message


@pytest.mark.parametrize("text", ["1.0", "2e1", " 2", "2_0", "0x10", "", "two"])
def test_integers_are_exactly_what_the_pulumi_cli_accepts(text: str) -> None:
    """The CLI parses integers with Go's strconv.Atoi."""
    message = only_problem({**BASE, "mldeMaxSlotsPerPod": text})
    assert f"pdk-deployer:mldeMaxSlotsPerPod = {text!r}: is not a whole number" in message


def test_integer_text_the_cli_accepts() -> None:
    assert load_config("test", {**BASE, "mldeMaxSlotsPerPod": "+2"}).mlde.max_slots_per_pod == 2
    assert load_config("test", {**BASE, "mldeMaxSlotsPerPod": "02"}).mlde.max_slots_per_pod == 2


def test_a_list_where_a_value_belongs() -> None:
    message = only_problem({**BASE, "kserveDomain": ConfigObject('["a.com", "b.com"]')})
    assert "is a list or mapping, but the key takes a single value" in message


def test_declared_default_spelled_otherwise_is_not_taken_for_the_default() -> None:
    """'True' is not the default 'true' to the CLI: it is refused, not silently dropped."""
    assert "is not a boolean" in only_problem({**BASE, "gpuEnabled": "True"})


@pytest.mark.parametrize("key", ["exposeSourceRanges"])
def test_bare_address_where_a_cidr_is_required(key: str) -> None:
    """Defect class 5: a bare IP parsed as a /32 network and passed."""
    message = only_problem({**BASE, key: "10.0.0.0/8,203.0.113.7"})
    assert "contains '203.0.113.7', which is not a network in CIDR notation" in message


def test_storage_size_without_a_unit() -> None:
    """Defect class 10: '20' is 20 bytes to Kubernetes."""
    message = only_problem({**BASE, "sharedFsSize": "20"})
    assert "pdk-deployer:sharedFsSize = '20': has no unit" in message
    assert "write 20Gi if you mean GiB" in message


def test_over_long_label_value_and_name() -> None:
    found = problems(
        {**BASE, "gpuNodeLabel": f"role={'x' * 64}", "gpuCpuNodeLabel": f"{'k' * 64}=v"}
    )
    assert sum("is not a node label" in p for p in found) == 2


def test_over_long_domain_label() -> None:
    assert "is not a DNS domain" in only_problem({**BASE, "kserveDomain": f"{'a' * 64}.com"})


@pytest.mark.parametrize("stack", ["team_alpha", "Team.Alpha", "a-stack-name-longer-than-twenty"])
def test_stack_name_that_cannot_be_the_deployment_id(stack: str) -> None:
    """Defect class 2: the stack name becomes the deployment id; it is checked up front."""
    with pytest.raises(ConfigError) as caught:
        load_config(stack, BASE)
    [problem] = caught.value.problems
    assert problem.key == "deploymentId"
    assert f"the stack name {stack!r} would be the deployment id" in problem.render()
    assert load_config(stack, {**BASE, "deploymentId": "alpha"}).deployment_id == "alpha"


def test_flow_keys_without_the_flow_would_be_ignored() -> None:
    message = only_problem({**BASE, "flowExample": "other"})
    assert "pdk-deployer:flowExample = 'other': is set but unused" in message


def test_models_web_app_image_without_the_app_would_be_ignored() -> None:
    message = only_problem({**BASE, "kserveModelsWebAppImage": "ghcr.io/kserve/models-web-app:1"})
    assert "is set but unused" in message


def test_services_open_to_the_internet_is_a_warning() -> None:
    config = load_config("test", {**BASE, "exposeSourceRanges": "0.0.0.0/0"})
    rendered = [w.render() for w in config.warnings]
    assert any("0.0.0.0/0 lets anyone on the internet reach the gateway" in w for w in rendered)


def test_a_public_range_is_no_warning_now_that_mldm_auth_and_tls_are_on() -> None:
    config = load_config("test", {**BASE, "exposeSourceRanges": "10.0.0.0/8,8.8.8.0/24"})
    assert [w for w in config.warnings if w.key == "exposeSourceRanges"] == []
    quiet = load_config("test", {**BASE, "gpuEnabled": "false", "kserveDomain": "pdk.test"})
    assert quiet.warnings == ()


def test_acknowledged_plain_http_beyond_private_ranges_is_a_warning() -> None:
    config = load_config(
        "test",
        {
            **BASE,
            "tlsEnabled": "false",
            "tlsPlaintextAcknowledged": "true",
            "exposeSourceRanges": "10.0.0.0/8,8.8.8.0/24",
        },
    )
    (warning,) = [w.render() for w in config.warnings if w.key == "tlsEnabled"]
    assert "tlsEnabled" in warning and "8.8.8.0/24" in warning and "in clear" in warning


def test_node_port_services_are_not_warned_about() -> None:
    config = load_config(
        "test",
        {
            **BASE,
            "gpuEnabled": "false",
            "exposeServiceType": "NodePort",
            "exposeSourceRanges": "0.0.0.0/0",
            "kserveDomain": "pdk.test",
        },
    )
    assert config.warnings == ()


def test_misplaced_namespace_is_named_as_the_cause() -> None:
    """Defect class 10: keys under another project prefix; the cause, not 'target is not set'."""
    found = problems({"pdk-deployr:target": "existing"})
    assert found == [
        "pdk-deployr:target = 'existing': is in namespace 'pdk-deployr', not this project's "
        "'pdk-deployer', so Pulumi would not pass it to the program. Allowed: "
        "pdk-deployer:target. Fix: rename the key in the stack file to pdk-deployer:target."
    ]


def test_chart_archives_must_be_an_absolute_path() -> None:
    message = only_problem({**BASE, "chartArchives": "charts"})
    assert "pdk-deployer:chartArchives = 'charts': is not an absolute path" in message


def test_chart_archives_must_hold_every_chart_the_stack_installs(tmp_path: Path) -> None:
    """Checked before anything is registered, naming each missing archive and its pin."""
    (tmp_path / "cert-manager-v1.21.2.tgz").write_bytes(b"")
    message = only_problem({**BASE, "chartArchives": str(tmp_path)})
    assert "lacks pachyderm-2.12.2.tgz (mldmChartVersion)" in message
    assert "cert-manager-v1.21.2.tgz" not in message.split("lacks", 1)[1].split("Allowed")[0]
