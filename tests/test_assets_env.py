"""The container environment contract and the exact commands pipeline specs run."""

from __future__ import annotations

import pytest

from infra.platform.wiring import PIPELINE_SECRET, PIPELINE_SECRET_KEYS
from pdk_assets import deploy, env
from pdk_assets.manifest import EXAMPLES_DIR, load_manifest
from pdk_assets.train import MldmConnection

MANIFEST = load_manifest(EXAMPLES_DIR / "dog-cat")


def test_secret_mapping_covers_exactly_the_stacks_pipeline_secret() -> None:
    assert env.PIPELINE_SECRET == PIPELINE_SECRET
    assert set(env.SECRET_ENV) == set(PIPELINE_SECRET_KEYS)


def test_mldm_token_is_pach_token_on_both_sides() -> None:
    # FIX: the guides mapped pac_token to PAC_TOKEN while the code read PACH_TOKEN.
    assert env.SECRET_ENV["pac_token"] == "PACH_TOKEN"
    mapped = {env.SECRET_ENV[key]: f"value-of-{key}" for key in env.SECRET_ENV}
    mapped[env.PACHD_PORT] = "30650"
    connection = MldmConnection.from_env(mapped)
    assert connection.token == "value-of-pac_token"
    assert connection.host == "value-of-pachd_lb_service_host"
    with pytest.raises(env.MissingEnvironment, match="PACH_TOKEN"):
        MldmConnection.from_env(
            {"PAC_TOKEN": "t", env.PACHD_HOST: "pachd", env.PACHD_PORT: "30650"}
        )


def test_empty_token_counts_as_set() -> None:
    connection = MldmConnection.from_env(
        {env.PACH_TOKEN: "", env.PACHD_HOST: "pachd", env.PACHD_PORT: "30650"}
    )
    assert connection == MldmConnection("pachd", 30650, "")


def test_train_command_reads_the_input_repo_and_writes_pfs_out() -> None:
    command = env.train_command(MANIFEST)
    assert command[:3] == ["python", "-m", "pdk_assets.train"]
    assert command[command.index("--example") + 1] == env.EXAMPLE_PATH
    assert command[command.index("--input") + 1] == "/pfs/dogs-and-cats-data"
    assert command[command.index("--output") + 1] == "/pfs/out"
    assert "--git-url" not in command
    from_git = env.train_command(
        MANIFEST, git=env.GitSource("https://example.com/r.git", "v1", "examples/dog-cat")
    )
    assert from_git[-6:] == [
        "--git-url",
        "https://example.com/r.git",
        "--git-ref",
        "v1",
        "--git-subdir",
        "examples/dog-cat",
    ]


@pytest.mark.parametrize("wait", [True, False])
def test_deploy_command_round_trips_through_the_deploy_parser(wait: bool) -> None:
    command = env.deploy_command(MANIFEST, wait=wait)
    assert command[:3] == ["python", "-m", "pdk_assets.deploy"]
    arguments = deploy.parser().parse_args(command[3:])
    assert arguments.wait is wait
    assert str(arguments.model_info) == "/pfs/dogs-and-cats-model/model-info.yaml"


def test_wait_is_a_real_boolean_flag() -> None:
    # FIX: the guides parsed --wait as a string, so `--wait false` meant true.
    parse = deploy.parser().parse_args
    assert parse(["--model-info", "m.yaml"]).wait is True
    assert parse(["--model-info", "m.yaml", "--wait"]).wait is True
    assert parse(["--model-info", "m.yaml", "--no-wait"]).wait is False
    with pytest.raises(SystemExit):
        parse(["--model-info", "m.yaml", "--wait", "false"])


def test_require_lists_every_missing_variable() -> None:
    with pytest.raises(env.MissingEnvironment, match="DET_USER, DET_PASSWORD"):
        env.require((env.DET_MASTER, env.DET_USER, env.DET_PASSWORD), {env.DET_MASTER: "x"})


def test_deployment_label_is_the_stacks() -> None:
    from infra.naming import DEPLOYMENT_LABEL

    assert env.DEPLOYMENT_LABEL == DEPLOYMENT_LABEL
    assert {env.GPU_TOLERATION, env.DEPLOYMENT_ID} <= set(env.PLAIN_ENV)
