"""The existing-cluster target's config: one test per message of its keys and rules."""

from __future__ import annotations

from infra.config.load import load_config
from infra.config.types import OFFLINE_SECRET
from infra.targets.existing.config import ExistingConfig
from tests.conftest import KUBECONFIG, only_problem, problems

BASE = {"target": "existing"}


def test_registry_with_scheme() -> None:
    message = only_problem({**BASE, "registry": "https://registry.example.com/pdk"})
    assert "is not an image registry prefix" in message
    assert "drop any 'https://'" in message


def test_nfs_server_must_be_an_address() -> None:
    message = only_problem({**BASE, "sharedFsType": "nfs", "sharedFsNfsServer": "nfs://server"})
    assert "is not a host name or IP address" in message


def test_shared_path_must_be_absolute() -> None:
    assert "is not an absolute path" in only_problem({**BASE, "sharedFsPath": "exports/pdk"})


def test_nfs_without_server() -> None:
    message = only_problem({**BASE, "sharedFsType": "nfs"})
    assert (
        "pdk-deployer:sharedFsNfsServer = (not set): is required when sharedFsType is nfs"
        in message
    )


def test_nfs_server_with_host_path_is_contradictory() -> None:
    message = only_problem({**BASE, "sharedFsNfsServer": "10.0.0.5"})
    assert "is set but unused by this stack's other settings (sharedFsType is hostPath)" in message
    assert "pulumi config rm sharedFsNfsServer" in message


def test_plain_text_kubeconfig_is_refused_and_not_echoed() -> None:
    message = only_problem({**BASE, "kubeconfig": KUBECONFIG})
    assert "pdk-deployer:kubeconfig = '[hidden]': is stored in plain text" in message
    assert "tok-123" not in message


def test_kubeconfig_that_is_not_yaml() -> None:
    message = only_problem({**BASE, "kubeconfig": "clusters: [unclosed"}, frozenset({"kubeconfig"}))
    assert "pdk-deployer:kubeconfig = '[secret]': is not valid YAML (line" in message
    assert "pulumi config set --secret kubeconfig" in message


def test_yaml_that_is_not_a_kubeconfig() -> None:
    message = only_problem({**BASE, "kubeconfig": "just: a map"}, frozenset({"kubeconfig"}))
    assert "is YAML but not a kubeconfig" in message


def test_context_missing_from_kubeconfig() -> None:
    message = only_problem(
        {**BASE, "kubeconfig": KUBECONFIG, "kubeContext": "prod"}, frozenset({"kubeconfig"})
    )
    assert "pdk-deployer:kubeContext = 'prod': is not a context in the kubeconfig" in message
    assert "Allowed: lab-admin." in message


def test_valid_secret_kubeconfig_and_context() -> None:
    config = load_config(
        "test",
        {**BASE, "kubeconfig": KUBECONFIG, "kubeContext": "lab-admin"},
        frozenset({"kubeconfig"}),
    )
    assert config.section(ExistingConfig).cluster.context == "lab-admin"


def test_undecrypted_kubeconfig_is_not_parsed_offline() -> None:
    config = load_config("test", {**BASE, "kubeconfig": OFFLINE_SECRET}, frozenset({"kubeconfig"}))
    assert config.section(ExistingConfig).cluster.kubeconfig == OFFLINE_SECRET


def test_host_path_root_is_refused() -> None:
    """Defect class 8: '/' as a hostPath would mount the node's root filesystem read-write into
    every task pod."""
    message = only_problem({**BASE, "gpuEnabled": "false", "sharedFsPath": "/"})
    assert "pdk-deployer:sharedFsPath = '/': is a system folder of the node" in message


def test_host_path_system_folders_and_climbing_are_refused() -> None:
    for path in ("/var/lib/kubelet", "/etc/", "/mnt/../etc", "//"):
        found = problems({**BASE, "gpuEnabled": "false", "sharedFsPath": path})
        assert any("is a system folder of the node" in p for p in found), path


def test_system_folder_is_fine_as_an_nfs_export_path() -> None:
    """The rule is about the node: an NFS export path is a path on the server."""
    config = load_config(
        "test", {**BASE, "sharedFsType": "nfs", "sharedFsNfsServer": "nfs", "sharedFsPath": "/"}
    )
    assert config.section(ExistingConfig).shared_fs.path == "/"


def test_host_path_with_gpu_nodes_is_a_warning() -> None:
    """Warnings channel: hostPath on a cluster with GPU nodes (so several nodes)."""
    config = load_config("test", BASE)
    [warning] = [w for w in config.warnings if w.key == "sharedFsType"]
    assert warning.severity == "warning"
    assert "hostPath keeps the shared filesystem on each node" in warning.render()
    assert "Safer: nfs with sharedFsNfsServer" in warning.render()
    assert not load_config(
        "test", {**BASE, "gpuEnabled": "false", "kserveDomain": "pdk.test"}
    ).warnings


def test_secure_value_of_a_checked_key_is_not_format_checked_offline() -> None:
    """Defect class 6: an undecrypted `secure:` value skips its format check (and the rules that
    read it); `pulumi up` checks the plaintext."""
    config = load_config(
        "test",
        {
            **BASE,
            "registry": OFFLINE_SECRET,
            "flowEnabled": "true",
            "postgresImage": OFFLINE_SECRET,
        },
        frozenset({"registry", "postgresImage"}),
    )
    assert config.flow.enabled


def test_plain_value_of_a_checked_key_is_still_checked() -> None:
    assert "is not an image registry prefix" in only_problem({**BASE, "registry": OFFLINE_SECRET})
