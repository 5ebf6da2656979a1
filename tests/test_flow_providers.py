"""The MLDM and MLDE dynamic providers, with the SDKs faked at their client boundary.

The fakes are autospecs of the SDKs' own classes, so a call with a keyword the SDK does not
take fails here as it would against a real pachd or MLDE master.
"""

from __future__ import annotations

import base64
import json
import pickle
from collections.abc import Callable
from typing import Any
from unittest.mock import create_autospec

import dill
import grpc
import pulumi
import pytest
from determined.common.api import errors as det_errors
from determined.experimental import Determined
from determined.experimental.client import Project, Workspace
from pachyderm_sdk.api import pfs, pps
from pachyderm_sdk.api.pfs.extension import ApiStub as PfsStub
from pachyderm_sdk.api.pps.extension import ApiStub as PpsStub
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from infra.flow.pipelines import PfsInput, PipelineSpecArgs, pipeline_spec
from infra.flow.providers import (
    MldeConnection,
    MldeProject,
    MldeProjectArgs,
    MldeProjectProvider,
    MldeWorkspace,
    MldeWorkspaceArgs,
    MldeWorkspaceProvider,
    MldmConnection,
    MldmPipeline,
    MldmPipelineArgs,
    MldmPipelineProvider,
    MldmProject,
    MldmProjectArgs,
    MldmProjectProvider,
    MldmRepo,
    MldmRepoArgs,
    MldmRepoProvider,
)
from infra.plan.engine import SECRET, use_mock_engine

MLDM = {"host": "pachd.example", "port": 30650.0, "token": "tok", "tls": False}
"""Connection properties as the engine hands them back (numbers arrive as floats)."""
MLDE = {"master": "http://mlde.example:8080", "user": "admin", "password": "pw"}
TRAIN = PipelineSpecArgs(
    name="dogs-and-cats-model",
    project="pdk-dogs-and-cats",
    cmd=["python", "-m", "pdk_assets.train"],
    input=PfsInput(repo="dogs-and-cats-data", project="pdk-dogs-and-cats"),
)
IMAGE_V1 = "registry.example/pdk-train:dog-cat-1111111111111111"
IMAGE_V2 = "registry.example/pdk-train:dog-cat-2222222222222222"


class RpcError(grpc.RpcError):
    def __init__(self, code: grpc.StatusCode) -> None:
        super().__init__(code.name)
        self._code = code

    def code(self) -> grpc.StatusCode:
        return self._code


class FakePachd:
    """A ``pachyderm_sdk.Client`` stand-in: autospecced ``pfs`` and ``pps`` stubs, and the
    connection it was opened with."""

    def __init__(self) -> None:
        self.pfs = create_autospec(PfsStub, instance=True)
        self.pps = create_autospec(PpsStub, instance=True)
        self.opened: list[tuple[str, int, str, bool]] = []
        self.trusted: list[str] = []

    def factory(self, host: str, port: int, token: str, tls: bool, ca: str) -> FakePachd:
        self.opened.append((host, port, token, tls))
        self.trusted.append(ca)
        return self


def _provider(cls: Callable[..., Any], fake: Any) -> Any:
    return cls(client_factory=fake.factory)


# MLDM project -------------------------------------------------------------------------------


def test_project_create_sends_create_project_and_opens_the_stored_connection() -> None:
    fake = FakePachd()
    fake.pfs.project_exists.return_value = False
    props = {**MLDM, "project": "pdk-dogs-and-cats", "description": "d", "__provider": "x"}
    result = _provider(MldmProjectProvider, fake).create(props)
    assert fake.opened == [("pachd.example", 30650, "tok", False)]
    fake.pfs.create_project.assert_called_once_with(
        project=pfs.Project(name="pdk-dogs-and-cats"), description="d", update=False
    )
    assert result.id == "pdk-dogs-and-cats"
    assert result.outs["adopted"] is False
    assert "__provider" not in result.outs


def test_existing_project_is_adopted_and_left_on_delete() -> None:
    fake = FakePachd()
    fake.pfs.project_exists.return_value = True
    provider = _provider(MldmProjectProvider, fake)
    result = provider.create({**MLDM, "project": "default", "description": ""})
    fake.pfs.create_project.assert_called_once_with(
        project=pfs.Project(name="default"), description="", update=True
    )
    assert result.outs["adopted"] is True
    provider.delete(result.id, result.outs)
    fake.pfs.delete_project.assert_not_called()


def test_project_delete_never_forces() -> None:
    fake = FakePachd()
    _provider(MldmProjectProvider, fake).delete("p", {**MLDM, "project": "p", "adopted": False})
    fake.pfs.delete_project.assert_called_once_with(project=pfs.Project(name="p"), force=False)


def test_delete_of_an_object_already_gone_succeeds_and_other_errors_surface() -> None:
    fake = FakePachd()
    provider = _provider(MldmProjectProvider, fake)
    props = {**MLDM, "project": "p", "adopted": False}
    fake.pfs.delete_project.side_effect = RpcError(grpc.StatusCode.NOT_FOUND)
    provider.delete("p", props)
    fake.pfs.delete_project.side_effect = RpcError(grpc.StatusCode.FAILED_PRECONDITION)
    with pytest.raises(RpcError):
        provider.delete("p", props)


def test_unreachable_pachd_is_an_error_that_says_what_to_check() -> None:
    fake = FakePachd()
    fake.pfs.project_exists.side_effect = RpcError(grpc.StatusCode.UNAVAILABLE)
    with pytest.raises(
        RuntimeError, match=r"could not reach MLDM \(pachd\) at pachd.example:30650 "
    ):
        _provider(MldmProjectProvider, fake).create({**MLDM, "project": "p", "description": ""})


def test_project_diff_replaces_on_rename_and_updates_otherwise() -> None:
    provider = MldmProjectProvider()
    old = {**MLDM, "project": "a", "description": "d", "adopted": False}
    renamed = provider.diff("a", old, {**MLDM, "project": "b", "description": "d"})
    assert (renamed.changes, renamed.replaces) == (True, ["project"])
    described = provider.diff("a", old, {**MLDM, "project": "a", "description": "e"})
    assert (described.changes, described.replaces) == (True, [])
    moved = provider.diff(
        "a", old, {**MLDM, "host": "localhost", "project": "a", "description": "d"}
    )
    assert (moved.changes, moved.replaces) == (True, [])
    same = provider.diff("a", old, {**MLDM, "port": 30650, "project": "a", "description": "d"})
    assert (same.changes, same.replaces) == (False, [])


def test_project_read_reports_a_deleted_project_as_gone() -> None:
    fake = FakePachd()
    fake.pfs.inspect_project.side_effect = RpcError(grpc.StatusCode.NOT_FOUND)
    result = _provider(MldmProjectProvider, fake).read("p", {**MLDM, "project": "p"})
    assert result.id == ""


def test_project_update_sends_only_a_description_change() -> None:
    fake = FakePachd()
    provider = _provider(MldmProjectProvider, fake)
    old = {**MLDM, "project": "p", "description": "d", "adopted": True}
    provider.update("p", old, {**MLDM, "host": "localhost", "project": "p", "description": "d"})
    fake.pfs.create_project.assert_not_called()
    result = provider.update("p", old, {**MLDM, "project": "p", "description": "e"})
    fake.pfs.create_project.assert_called_once_with(
        project=pfs.Project(name="p"), description="e", update=True
    )
    assert result.outs["adopted"] is True


# MLDM repo ----------------------------------------------------------------------------------


def test_repo_create_and_delete() -> None:
    fake = FakePachd()
    fake.pfs.repo_exists.return_value = False
    provider = _provider(MldmRepoProvider, fake)
    result = provider.create({**MLDM, "project": "p", "repo": "data", "description": "in"})
    repo = pfs.Repo(name="data", type="user", project=pfs.Project(name="p"))
    fake.pfs.create_repo.assert_called_once_with(repo=repo, description="in", update=False)
    assert result.id == "p/data"
    provider.delete(result.id, result.outs)
    fake.pfs.delete_repo.assert_called_once_with(repo=repo, force=False)


def test_repo_diff_replaces_on_rename_or_move() -> None:
    provider = MldmRepoProvider()
    old = {**MLDM, "project": "p", "repo": "r", "description": ""}
    assert provider.diff("p/r", old, {**old, "repo": "s"}).replaces == ["repo"]
    assert provider.diff("p/r", old, {**old, "project": "q"}).replaces == ["project"]
    described = provider.diff("p/r", old, {**old, "description": "x"})
    assert (described.changes, described.replaces) == (True, [])


# MLDM pipeline ------------------------------------------------------------------------------


def _pipeline_props(image: str = IMAGE_V1, **overrides: Any) -> dict[str, Any]:
    return {
        **MLDM,
        "project": TRAIN.project,
        "pipeline": TRAIN.name,
        "spec": pipeline_spec(TRAIN, image),
        **overrides,
    }


def test_pipeline_create_sends_the_spec_as_pachctl_json() -> None:
    fake = FakePachd()
    fake.pps.pipeline_exists.return_value = False
    fake.pps.create_pipeline_v2.return_value = pps.CreatePipelineV2Response(
        effective_create_pipeline_request_json='{"effective": true}'
    )
    props = _pipeline_props()
    result = _provider(MldmPipelineProvider, fake).create(props)
    fake.pps.pipeline_exists.assert_called_once_with(
        pps.Pipeline(name=TRAIN.name, project=pfs.Project(name=TRAIN.project))
    )
    fake.pps.create_pipeline_v2.assert_called_once_with(
        create_pipeline_request_json=json.dumps(props["spec"], sort_keys=True),
        update=False,
        reprocess=False,
    )
    assert result.id == f"{TRAIN.project}/{TRAIN.name}"
    assert result.outs["effective_spec"] == '{"effective": true}'


def test_existing_pipeline_is_taken_over_with_an_update() -> None:
    fake = FakePachd()
    fake.pps.pipeline_exists.return_value = True
    _provider(MldmPipelineProvider, fake).create(_pipeline_props())
    assert fake.pps.create_pipeline_v2.call_args.kwargs["update"] is True


def test_new_image_is_an_in_place_update_without_reprocessing() -> None:
    provider = MldmPipelineProvider()
    result = provider.diff("id", _pipeline_props(IMAGE_V1), _pipeline_props(IMAGE_V2))
    assert (result.changes, result.replaces) == (True, [])

    fake = FakePachd()
    _provider(MldmPipelineProvider, fake).update(
        "id", _pipeline_props(IMAGE_V1), _pipeline_props(IMAGE_V2)
    )
    sent = fake.pps.create_pipeline_v2.call_args.kwargs
    assert (sent["update"], sent["reprocess"]) == (True, False)
    assert json.loads(sent["create_pipeline_request_json"])["transform"]["image"] == IMAGE_V2


def test_renamed_or_moved_pipeline_is_replaced() -> None:
    provider = MldmPipelineProvider()
    old = _pipeline_props()
    assert provider.diff("id", old, {**old, "pipeline": "other"}).replaces == ["pipeline"]
    assert provider.diff("id", old, {**old, "project": "other"}).replaces == ["project"]
    assert provider.diff("id", old, _pipeline_props()).changes is False


def test_connection_change_alone_does_not_resend_the_spec() -> None:
    fake = FakePachd()
    old = {**_pipeline_props(), "effective_spec": "{}"}
    result = _provider(MldmPipelineProvider, fake).update(
        "id", old, _pipeline_props(host="localhost")
    )
    fake.pps.create_pipeline_v2.assert_not_called()
    assert result.outs["host"] == "localhost"
    assert result.outs["effective_spec"] == "{}"


def test_pipeline_delete_removes_its_output_repo_without_force() -> None:
    fake = FakePachd()
    _provider(MldmPipelineProvider, fake).delete("p/x", _pipeline_props())
    fake.pps.delete_pipeline.assert_called_once_with(
        pipeline=pps.Pipeline(name="x", project=pfs.Project(name="p")), force=False, keep_repo=False
    )


def test_pipeline_read_picks_up_a_hand_edited_spec() -> None:
    fake = FakePachd()
    edited = pipeline_spec(TRAIN, "hand/edited:1")
    fake.pps.inspect_pipeline.return_value = pps.PipelineInfo(
        user_spec_json=json.dumps(edited), effective_spec_json="{}"
    )
    result = _provider(MldmPipelineProvider, fake).read("p/x", _pipeline_props())
    assert fake.pps.inspect_pipeline.call_args.kwargs["details"] is True
    assert result.outs["spec"] == edited


def test_pipeline_check_refuses_a_spec_for_another_pipeline() -> None:
    provider = MldmPipelineProvider()
    assert provider.check({}, _pipeline_props()).failures == []
    failures = provider.check({}, _pipeline_props(pipeline="other")).failures
    assert [failure.property for failure in failures] == ["spec"]


# MLDE workspace and project -----------------------------------------------------------------


class FakeMaster:
    """A ``determined.experimental.Determined`` stand-in with one optional workspace."""

    def __init__(self, workspace: bool = False, project: bool = False) -> None:
        self.client = create_autospec(Determined, instance=True)
        self.workspace = create_autospec(Workspace, instance=True)
        self.workspace.id = 7
        self.project = create_autospec(Project, instance=True)
        self.project.id = 11
        self.project.description = "old"
        self.logins: list[tuple[str, str, str]] = []
        self.trusted: list[str] = []
        if workspace:
            self.client.get_workspace.return_value = self.workspace
        else:
            self.client.get_workspace.side_effect = det_errors.NotFoundException("no workspace")
        self.client.create_workspace.return_value = self.workspace
        if project:
            self.workspace.get_project.return_value = self.project
        else:
            self.workspace.get_project.side_effect = det_errors.NotFoundException("no project")
        self.workspace.create_project.return_value = self.project

    def factory(self, master: str, user: str, password: str, ca: str) -> Any:
        self.logins.append((master, user, password))
        self.trusted.append(ca)
        return self.client


def test_workspace_create_and_delete() -> None:
    fake = FakeMaster()
    provider = _provider(MldeWorkspaceProvider, fake)
    result = provider.create({**MLDE, "workspace": "PDK Demos"})
    assert fake.logins == [("http://mlde.example:8080", "admin", "pw")]
    fake.client.create_workspace.assert_called_once_with("PDK Demos")
    assert (result.id, result.outs["adopted"]) == ("7", False)
    provider.delete(result.id, result.outs)
    fake.client.delete_workspace.assert_called_once_with("PDK Demos")


def test_existing_workspace_is_adopted_and_left_on_delete() -> None:
    fake = FakeMaster(workspace=True)
    provider = _provider(MldeWorkspaceProvider, fake)
    result = provider.create({**MLDE, "workspace": "Uncategorized"})
    fake.client.create_workspace.assert_not_called()
    assert result.outs["adopted"] is True
    provider.delete(result.id, result.outs)
    fake.client.delete_workspace.assert_not_called()


def test_workspace_diff_replaces_on_rename_only() -> None:
    provider = MldeWorkspaceProvider()
    old = {**MLDE, "workspace": "a", "adopted": False}
    assert provider.diff("7", old, {**MLDE, "workspace": "b"}).replaces == ["workspace"]
    relogged = provider.diff("7", old, {**MLDE, "password": "new", "workspace": "a"})
    assert (relogged.changes, relogged.replaces) == (True, [])


def test_mlde_project_create_in_its_workspace() -> None:
    fake = FakeMaster(workspace=True)
    props = {**MLDE, "workspace": "PDK Demos", "project": "pdk-dogs-and-cats", "description": "d"}
    result = _provider(MldeProjectProvider, fake).create(props)
    fake.client.get_workspace.assert_called_once_with("PDK Demos")
    fake.workspace.create_project.assert_called_once_with("pdk-dogs-and-cats", description="d")
    assert (result.id, result.outs["adopted"]) == ("11", False)


def test_existing_mlde_project_is_adopted_with_the_declared_description() -> None:
    fake = FakeMaster(workspace=True, project=True)
    props = {**MLDE, "workspace": "w", "project": "p", "description": "new"}
    result = _provider(MldeProjectProvider, fake).create(props)
    fake.workspace.create_project.assert_not_called()
    fake.project.set_description.assert_called_once_with("new")
    assert result.outs["adopted"] is True


def test_mlde_project_without_its_workspace_says_so() -> None:
    fake = FakeMaster()
    props = {**MLDE, "workspace": "w", "project": "p", "description": ""}
    with pytest.raises(RuntimeError, match="MLDE workspace 'w' does not exist"):
        _provider(MldeProjectProvider, fake).create(props)


def test_mlde_project_update_delete_and_diff() -> None:
    fake = FakeMaster(workspace=True, project=True)
    provider = _provider(MldeProjectProvider, fake)
    old = {**MLDE, "workspace": "w", "project": "p", "description": "a", "adopted": False}
    provider.update("11", old, {**old, "description": "b"})
    fake.project.set_description.assert_called_once_with("b")
    provider.delete("11", old)
    fake.workspace.delete_project.assert_called_once_with("p")
    assert provider.diff("11", old, {**old, "workspace": "v"}).replaces == ["workspace"]
    assert provider.diff("11", old, {**old, "project": "q"}).replaces == ["project"]
    assert provider.diff("11", old, {**old, "description": "c"}).replaces == []


# Pickling and registration ------------------------------------------------------------------

PROVIDERS = [
    MldmProjectProvider,
    MldmRepoProvider,
    MldmPipelineProvider,
    MldeWorkspaceProvider,
    MldeProjectProvider,
]


@pytest.mark.parametrize("cls", PROVIDERS, ids=lambda cls: cls.__name__)
def test_providers_pickle_by_reference(cls: type) -> None:
    """Pulumi stores each provider with dill and loads it in another process: it must carry no
    client or session, only a reference to its importable class."""
    blob = serialize_provider(cls())
    restored = dill.loads(base64.b64decode(blob))
    assert type(restored) is cls
    assert restored._client_factory is None
    assert len(blob) < 1000, "the provider was pickled by value; keep it importable and stateless"
    assert pickle.dumps(cls())  # plain pickle works too: nothing exotic is held


def _registered(build: Callable[[], None]) -> dict[str, Any]:
    monitor = use_mock_engine("flow-test")

    async def program() -> None:
        build()
        await pulumi.runtime.stack.wait_for_rpcs()

    _sync_await(run_pulumi_func(program))
    return {record.name: record for record in monitor.recorded.values()}


def test_resources_register_with_secret_credentials_and_the_built_image() -> None:
    def build() -> None:
        mldm = MldmConnection(host="pachd.default.svc.cluster.local", port=30650, token="t")
        project = MldmProject("mldm-project", MldmProjectArgs(mldm, "pdk-dogs-and-cats"))
        repo = MldmRepo("mldm-repo", MldmRepoArgs(mldm, project.project, "dogs-and-cats-data"))
        MldmPipeline(
            "train-pipeline",
            MldmPipelineArgs(mldm, TRAIN, pulumi.Output.from_input(IMAGE_V1)),
            opts=pulumi.ResourceOptions(depends_on=[repo]),
        )
        mlde = MldeConnection(master="http://m:8080", user="admin", password="pw")
        workspace = MldeWorkspace("mlde-workspace", MldeWorkspaceArgs(mlde, "PDK Demos"))
        MldeProject("mlde-project", MldeProjectArgs(mlde, workspace.workspace, "pdk-dogs-and-cats"))

    recorded = _registered(build)
    types = {name: record.type for name, record in recorded.items()}
    assert types == {
        "mldm-project": "pulumi-python:dynamic/pdk:MldmProject",
        "mldm-repo": "pulumi-python:dynamic/pdk:MldmRepo",
        "train-pipeline": "pulumi-python:dynamic/pdk:MldmPipeline",
        "mlde-workspace": "pulumi-python:dynamic/pdk:MldeWorkspace",
        "mlde-project": "pulumi-python:dynamic/pdk:MldeProject",
    }
    for record in recorded.values():
        assert record.inputs["__provider"] == SECRET
    assert recorded["mldm-project"].inputs["token"] == SECRET
    assert recorded["mlde-workspace"].inputs["password"] == SECRET
    pipeline = recorded["train-pipeline"].inputs
    assert pipeline["spec"] == pipeline_spec(TRAIN, IMAGE_V1)
    assert (pipeline["project"], pipeline["pipeline"]) == (TRAIN.project, TRAIN.name)
    assert "mldm-repo" in recorded["train-pipeline"].dependencies
    assert recorded["mldm-repo"].inputs["project"] == "pdk-dogs-and-cats"
    assert "mldm-project" in recorded["mldm-repo"].dependencies
    assert "mlde-workspace" in recorded["mlde-project"].dependencies


def test_sdks_are_not_imported_by_declaring_resources() -> None:
    """Declaring the resources must not pull in pachyderm_sdk or determined (import time)."""
    import subprocess
    import sys

    code = (
        "import sys, infra.flow.providers, infra.flow.images;"
        "print(any(m.split('.')[0] in ('pachyderm_sdk', 'determined') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_fakes_match_the_sdk_client_surface() -> None:
    """The real client's ``pfs`` and ``pps`` are the stub classes the fakes autospec."""
    from pachyderm_sdk import client

    assert (client._PfsStub, client._PpsStub) == (PfsStub, PpsStub)


def test_unreachable_mlde_master_is_an_error_that_says_what_to_check() -> None:
    def refuse(master: str, user: str, password: str, ca: str) -> Any:
        raise det_errors.MasterNotFoundException("connection refused")

    provider = MldeWorkspaceProvider(client_factory=refuse)
    with pytest.raises(RuntimeError, match="could not reach the MLDE master at http://mlde"):
        provider.create({**MLDE, "workspace": "w"})


def test_the_stored_ca_reaches_both_clients() -> None:
    """The stack's CA travels with each resource's connection, so ``destroy`` and ``refresh``
    trust the same gateway certificate as ``up``."""
    pem = "-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n"
    pachd = FakePachd()
    pachd.pfs.project_exists.return_value = False
    _provider(MldmProjectProvider, pachd).create(
        {**MLDM, "tls": True, "ca": pem, "project": "p", "description": ""}
    )
    assert pachd.opened[0][3] is True
    assert pachd.trusted == [pem]
    master = FakeMaster()
    _provider(MldeWorkspaceProvider, master).create({**MLDE, "ca": pem, "workspace": "w"})
    assert master.trusted == [pem]
