"""MLDM (Pachyderm) projects, repos and pipelines as Pulumi resources, over ``pachyderm_sdk``.

Each resource stores its connection (pachd host, port, token) with its state, so ``pulumi
destroy`` and ``pulumi refresh`` reach the same pachd that created it. pachd must be reachable
from the machine running Pulumi (the MLDM proxy's address, or a port-forward).

Existing objects (the choice, per kind):

- Projects and repos that already exist are adopted: their description is set to the declared
  one, the output ``adopted`` is true, and ``pulumi destroy`` leaves them in place, because they
  may hold data this stack did not put there (and MLDM's ``default`` project always exists).
- A pipeline that already exists is taken over: it is updated to the declared spec and deleted
  on destroy. A pipeline is defined by its spec; its output repo is recomputed from its input.

Renaming a project, repo or pipeline (or moving it to another project) replaces it. Changing a
pipeline's spec, its image included, updates it in place with ``update=True`` and without
reprocessing: existing output commits stay, new input commits run the new code.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi.dynamic

from infra.flow.pipelines import PipelineSpecArgs, pipeline_spec
from infra.flow.providers._common import (
    ADOPTED,
    TYPE_MODULE,
    diff,
    inputs,
    unreachable,
    with_secret_outputs,
)

CONNECTION_KEYS = ("host", "port", "token", "tls", "ca")
"""Inputs every MLDM resource carries to reach pachd."""
SECRET_KEYS = ("token",)

ClientFactory = Callable[[str, int, str, bool, str], Any]
"""(host, port, token, tls, ca) -> a ``pachyderm_sdk.Client`` or a stand-in with its ``pfs``
and ``pps`` stubs."""


@dataclass(frozen=True)
class MldmConnection:
    """How Pulumi reaches pachd's gRPC API."""

    host: pulumi.Input[str]
    """Host name or address reachable from the machine running Pulumi."""
    port: pulumi.Input[int]
    """pachd's gRPC port (30650 in the cluster; the proxy serves it on 80/443)."""
    token: pulumi.Input[str] = ""
    """MLDM auth token (the platform's root token), stored as a Pulumi secret; empty when MLDM
    auth is off."""
    tls: bool = False
    """Whether this address speaks TLS (the platform's gateway does unless tlsEnabled is false)."""
    ca: pulumi.Input[str] = ""
    """PEM of the CA to trust for it (the stack's CA); empty: the system's roots."""

    def props(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "port": self.port,
            "token": pulumi.Output.secret(self.token),
            "tls": self.tls,
            "ca": self.ca,
        }


def _default_client(host: str, port: int, token: str, tls: bool, ca: str) -> Any:
    from pachyderm_sdk import Client

    return Client(
        host=host,
        port=port,
        auth_token=token or None,
        tls=tls,
        root_certs=ca.encode() if ca else None,
    )


def _grpc_code(error: Exception) -> str | None:
    """The gRPC status name of ``error`` (``NOT_FOUND``...), or None for other errors."""
    import grpc

    if not isinstance(error, grpc.RpcError):
        return None
    code = getattr(error, "code", None)
    status = code() if callable(code) else None
    return getattr(status, "name", None)


class _MldmProvider(pulumi.dynamic.ResourceProvider):
    """Opens a client per call from the connection stored in the resource's properties."""

    serialize_as_secret_always = True

    def __init__(self, client_factory: ClientFactory | None = None) -> None:
        super().__init__()
        self._client_factory = client_factory

    def _client(self, props: Mapping[str, Any]) -> Any:
        factory = self._client_factory or _default_client
        return factory(
            str(props["host"]),
            int(props["port"]),
            str(props.get("token") or ""),
            bool(props.get("tls")),
            str(props.get("ca") or ""),
        )

    def _call(self, props: Mapping[str, Any], action: Callable[[], Any]) -> Any:
        """Runs ``action``, turning "pachd unreachable" into an error that says what to check."""
        try:
            return action()
        except Exception as error:
            if _grpc_code(error) in ("UNAVAILABLE", "DEADLINE_EXCEEDED"):
                raise unreachable(
                    "MLDM (pachd)", f"{props['host']}:{int(props['port'])}", error
                ) from None
            raise

    def _is_not_found(self, error: Exception) -> bool:
        return _grpc_code(error) == "NOT_FOUND"


def _project(name: str) -> Any:
    from pachyderm_sdk.api import pfs

    return pfs.Project(name=name)


def _repo(project: str, name: str) -> Any:
    from pachyderm_sdk.api import pfs

    return pfs.Repo(name=name, type="user", project=_project(project))


def _pipeline(project: str, name: str) -> Any:
    from pachyderm_sdk.api import pps

    return pps.Pipeline(name=name, project=_project(project))


class MldmProjectProvider(_MldmProvider):
    """Inputs: ``project``, ``description`` and the connection. Id: the project name."""

    def diff(
        self, _id: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.DiffResult:
        return diff(olds, news, ["project"], ["description", *CONNECTION_KEYS])

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        client = self._client(props)
        project = _project(props["project"])

        def run() -> bool:
            adopted = bool(client.pfs.project_exists(project))
            client.pfs.create_project(
                project=project, description=props.get("description", ""), update=adopted
            )
            return adopted

        adopted = self._call(props, run)
        return pulumi.dynamic.CreateResult(props["project"], {**inputs(props), ADOPTED: adopted})

    def update(
        self, _id: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.UpdateResult:
        if olds.get("description") != news.get("description"):
            client = self._client(news)
            self._call(
                news,
                lambda: client.pfs.create_project(
                    project=_project(news["project"]),
                    description=news.get("description", ""),
                    update=True,
                ),
            )
        return pulumi.dynamic.UpdateResult({**inputs(news), ADOPTED: olds.get(ADOPTED, False)})

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        client = self._client(props)
        try:
            info = self._call(props, lambda: client.pfs.inspect_project(project=_project(id_)))
        except Exception as error:
            if self._is_not_found(error):
                return pulumi.dynamic.ReadResult("", {})
            raise
        return pulumi.dynamic.ReadResult(
            id_, {**inputs(props), "project": id_, "description": info.description}
        )

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        if props.get(ADOPTED):
            return
        client = self._client(props)
        try:
            # Without force: MLDM refuses while the project still holds repos, which protects
            # data that other stacks or users put there.
            self._call(props, lambda: client.pfs.delete_project(project=_project(id_), force=False))
        except Exception as error:
            if not self._is_not_found(error):
                raise


class MldmRepoProvider(_MldmProvider):
    """Inputs: ``project``, ``repo``, ``description`` and the connection. Id: ``project/repo``."""

    def diff(
        self, _id: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.DiffResult:
        return diff(olds, news, ["project", "repo"], ["description", *CONNECTION_KEYS])

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        client = self._client(props)
        repo = _repo(props["project"], props["repo"])

        def run() -> bool:
            adopted = bool(client.pfs.repo_exists(repo))
            client.pfs.create_repo(
                repo=repo, description=props.get("description", ""), update=adopted
            )
            return adopted

        adopted = self._call(props, run)
        return pulumi.dynamic.CreateResult(
            f"{props['project']}/{props['repo']}", {**inputs(props), ADOPTED: adopted}
        )

    def update(
        self, _id: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.UpdateResult:
        if olds.get("description") != news.get("description"):
            client = self._client(news)
            self._call(
                news,
                lambda: client.pfs.create_repo(
                    repo=_repo(news["project"], news["repo"]),
                    description=news.get("description", ""),
                    update=True,
                ),
            )
        return pulumi.dynamic.UpdateResult({**inputs(news), ADOPTED: olds.get(ADOPTED, False)})

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        client = self._client(props)
        project, _, name = id_.partition("/")
        try:
            info = self._call(props, lambda: client.pfs.inspect_repo(repo=_repo(project, name)))
        except Exception as error:
            if self._is_not_found(error):
                return pulumi.dynamic.ReadResult("", {})
            raise
        return pulumi.dynamic.ReadResult(
            id_,
            {**inputs(props), "project": project, "repo": name, "description": info.description},
        )

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        if props.get(ADOPTED):
            return
        client = self._client(props)
        project, _, name = id_.partition("/")
        try:
            # Without force: MLDM refuses while a pipeline still reads the repo.
            self._call(
                props, lambda: client.pfs.delete_repo(repo=_repo(project, name), force=False)
            )
        except Exception as error:
            if not self._is_not_found(error):
                raise


class MldmPipelineProvider(_MldmProvider):
    """Inputs: ``project``, ``pipeline``, ``spec`` (the builder's dict) and the connection.
    Id: ``project/pipeline``. Output ``effective_spec``: the spec pachd runs, defaults filled in
    (JSON text)."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        spec = news.get("spec")
        failures = []
        if isinstance(spec, dict):
            declared = spec.get("pipeline", {})
            named = (declared.get("project", {}).get("name"), declared.get("name"))
            if named != (news.get("project"), news.get("pipeline")):
                failures.append(
                    pulumi.dynamic.CheckFailure(
                        "spec",
                        f"the spec names pipeline {named[0]}/{named[1]} but the resource "
                        f"declares {news.get('project')}/{news.get('pipeline')}; build both "
                        "from the same PipelineSpecArgs",
                    )
                )
        return pulumi.dynamic.CheckResult(news, failures)

    def diff(
        self, _id: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.DiffResult:
        return diff(olds, news, ["project", "pipeline"], ["spec", *CONNECTION_KEYS])

    def _apply(self, props: Mapping[str, Any], update: bool) -> str:
        client = self._client(props)
        response = self._call(
            props,
            lambda: client.pps.create_pipeline_v2(
                create_pipeline_request_json=json.dumps(props["spec"], sort_keys=True),
                update=update,
                # Keep finished output: a new image or spec applies to new input commits.
                reprocess=False,
            ),
        )
        return str(getattr(response, "effective_create_pipeline_request_json", "") or "")

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        client = self._client(props)
        exists = self._call(
            props,
            lambda: client.pps.pipeline_exists(_pipeline(props["project"], props["pipeline"])),
        )
        effective = self._apply(props, update=bool(exists))
        return pulumi.dynamic.CreateResult(
            f"{props['project']}/{props['pipeline']}",
            {**inputs(props), "effective_spec": effective},
        )

    def update(
        self, _id: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.UpdateResult:
        effective = olds.get("effective_spec", "")
        # A new address or token alone is stored, not sent: re-sending an unchanged spec would
        # still restart the pipeline's workers.
        if olds.get("spec") != news.get("spec"):
            effective = self._apply(news, update=True)
        return pulumi.dynamic.UpdateResult({**inputs(news), "effective_spec": effective})

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        client = self._client(props)
        project, _, name = id_.partition("/")
        try:
            info = self._call(
                props,
                lambda: client.pps.inspect_pipeline(
                    pipeline=_pipeline(project, name), details=True
                ),
            )
        except Exception as error:
            if self._is_not_found(error):
                return pulumi.dynamic.ReadResult("", {})
            raise
        outs = {**inputs(props), "project": project, "pipeline": name}
        # The spec as last submitted: a change made by hand with pachctl shows up as drift.
        if getattr(info, "user_spec_json", ""):
            outs["spec"] = json.loads(info.user_spec_json)
        if getattr(info, "effective_spec_json", ""):
            outs["effective_spec"] = info.effective_spec_json
        return pulumi.dynamic.ReadResult(id_, outs)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        client = self._client(props)
        project, _, name = id_.partition("/")
        try:
            # Also deletes the pipeline's output repo (keep_repo=False): it only holds what the
            # pipeline computed. Without force: MLDM refuses while another pipeline reads it.
            self._call(
                props,
                lambda: client.pps.delete_pipeline(
                    pipeline=_pipeline(project, name), force=False, keep_repo=False
                ),
            )
        except Exception as error:
            if not self._is_not_found(error):
                raise


@dataclass(frozen=True)
class MldmProjectArgs:
    connection: MldmConnection
    """How to reach pachd."""
    project: str
    """Project name, e.g. ``pdk-dogs-and-cats``; renaming replaces the project."""
    description: str = ""
    """Shown by ``pachctl list project``; default empty."""


class MldmProject(pulumi.dynamic.Resource, module=TYPE_MODULE, name="MldmProject"):
    """An MLDM project (adopted if it exists, then left in place on destroy)."""

    project: pulumi.Output[str]
    adopted: pulumi.Output[bool]

    def __init__(
        self,
        name: str,
        args: MldmProjectArgs,
        opts: pulumi.ResourceOptions | None = None,
        provider: MldmProjectProvider | None = None,
    ) -> None:
        props = {
            **args.connection.props(),
            "project": args.project,
            "description": args.description,
            ADOPTED: None,
        }
        super().__init__(
            provider or MldmProjectProvider(), name, props, with_secret_outputs(opts, SECRET_KEYS)
        )


@dataclass(frozen=True)
class MldmRepoArgs:
    connection: MldmConnection
    """How to reach pachd."""
    project: pulumi.Input[str]
    """Project of the repo; pass ``MldmProject.project`` so the repo waits for its project."""
    repo: str
    """Repo name, e.g. ``dogs-and-cats-data``; renaming replaces the repo (and its data)."""
    description: str = ""
    """Shown by ``pachctl list repo``; default empty."""


class MldmRepo(pulumi.dynamic.Resource, module=TYPE_MODULE, name="MldmRepo"):
    """An MLDM input repo (adopted if it exists, then left in place on destroy). It holds data:
    declare it with ``Naming.stateful`` options."""

    project: pulumi.Output[str]
    repo: pulumi.Output[str]
    adopted: pulumi.Output[bool]

    def __init__(
        self,
        name: str,
        args: MldmRepoArgs,
        opts: pulumi.ResourceOptions | None = None,
        provider: MldmRepoProvider | None = None,
    ) -> None:
        props = {
            **args.connection.props(),
            "project": args.project,
            "repo": args.repo,
            "description": args.description,
            ADOPTED: None,
        }
        super().__init__(
            provider or MldmRepoProvider(), name, props, with_secret_outputs(opts, SECRET_KEYS)
        )


@dataclass(frozen=True)
class MldmPipelineArgs:
    connection: MldmConnection
    """How to reach pachd."""
    spec: PipelineSpecArgs
    """The pipeline (name, project, input, command, variant...), built by ``pipeline_spec``."""
    image: pulumi.Input[str]
    """The image the user container runs: a ``FlowImages`` output, so the spec changes (and the
    pipeline updates) exactly when the image's build inputs change."""
    env: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Plain variables known only at deploy time (a generated bucket name), added to
    ``spec.env``; default none."""


class MldmPipeline(pulumi.dynamic.Resource, module=TYPE_MODULE, name="MldmPipeline"):
    """An MLDM pipeline whose spec comes from ``pipeline_spec``. Put its input repo (or, for the
    deploy pipeline, the train pipeline) in ``depends_on`` so destroy removes it first."""

    project: pulumi.Output[str]
    pipeline: pulumi.Output[str]
    spec: pulumi.Output[dict[str, Any]]
    effective_spec: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        args: MldmPipelineArgs,
        opts: pulumi.ResourceOptions | None = None,
        provider: MldmPipelineProvider | None = None,
    ) -> None:
        spec_args = args.spec
        props = {
            **args.connection.props(),
            "project": spec_args.project,
            "pipeline": spec_args.name,
            "spec": pulumi.Output.all(args.image, dict(args.env)).apply(
                lambda resolved: pipeline_spec(
                    dataclasses.replace(spec_args, env={**spec_args.env, **resolved[1]}),
                    resolved[0],
                )
            ),
            "effective_spec": None,
        }
        super().__init__(
            provider or MldmPipelineProvider(), name, props, with_secret_outputs(opts, SECRET_KEYS)
        )
