"""MLDE (Determined) workspaces and projects as Pulumi resources, over the ``determined`` SDK.

Each resource stores its connection (master URL, user, password) with its state, so ``pulumi
destroy`` and ``pulumi refresh`` reach the same master. The master must be reachable from the
machine running Pulumi (the MLDE ingress, or a port-forward).

A workspace or project that already exists is adopted (output ``adopted`` true) and left in
place on destroy: deleting an MLDE workspace or project also deletes the experiments and models
in it, which this stack may not have created. Renaming either, or moving a project to another
workspace, replaces it; a project's description is updated in place.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi.dynamic

from infra.flow.providers._common import (
    ADOPTED,
    TYPE_MODULE,
    diff,
    inputs,
    unreachable,
    with_secret_outputs,
)

CONNECTION_KEYS = ("master", "user", "password", "ca")
"""Inputs every MLDE resource carries to reach the master."""
SECRET_KEYS = ("password",)

ClientFactory = Callable[[str, str, str, str], Any]
"""(master URL, user, password, CA PEM or "") -> a ``determined.experimental.Determined`` or
a stand-in with its ``get_workspace``/``create_workspace``/``delete_workspace`` methods."""


@dataclass(frozen=True)
class MldeConnection:
    """How Pulumi reaches the MLDE master's REST API."""

    master: pulumi.Input[str]
    """Master URL reachable from the machine running Pulumi, e.g. ``http://10.0.0.5:8080``."""
    user: pulumi.Input[str]
    """User to log in as; it must be allowed to create workspaces (``admin`` by default)."""
    password: pulumi.Input[str]
    """The user's password, stored as a Pulumi secret."""
    ca: pulumi.Input[str] = ""
    """PEM of the CA to trust for an https master (the stack's CA); empty: the system's."""

    def props(self) -> dict[str, Any]:
        return {
            "master": self.master,
            "user": self.user,
            "password": pulumi.Output.secret(self.password),
            "ca": self.ca,
        }


def _default_client(master: str, user: str, password: str, ca: str) -> Any:
    # The documented import path; determined.common.experimental warns that it is deprecated.
    from determined.experimental import Determined

    if not ca:
        return Determined(master=master, user=user, password=password)
    # Determined reads a CA from a file only; the file may go once the client holds it.
    with tempfile.NamedTemporaryFile("w", suffix=".crt") as handle:
        handle.write(ca)
        handle.flush()
        return Determined(master=master, user=user, password=password, cert_path=handle.name)


def _is_not_found(error: Exception) -> bool:
    from determined.common.api import errors

    return isinstance(error, errors.NotFoundException)


class _MldeProvider(pulumi.dynamic.ResourceProvider):
    """Logs in per call with the connection stored in the resource's properties."""

    serialize_as_secret_always = True

    def __init__(self, client_factory: ClientFactory | None = None) -> None:
        super().__init__()
        self._client_factory = client_factory

    def _client(self, props: Mapping[str, Any]) -> Any:
        factory = self._client_factory or _default_client
        master = str(props["master"])
        try:
            return factory(
                master, str(props["user"]), str(props["password"]), str(props.get("ca") or "")
            )
        except Exception as error:
            from determined.common.api import errors

            if isinstance(error, errors.MasterNotFoundException | ConnectionError):
                raise unreachable("the MLDE master", master, error) from None
            raise

    def _workspace(self, client: Any, name: str) -> Any | None:
        """The workspace named ``name``, or None."""
        try:
            return client.get_workspace(name)
        except Exception as error:
            if _is_not_found(error):
                return None
            raise


class MldeWorkspaceProvider(_MldeProvider):
    """Inputs: ``workspace`` and the connection. Id: the workspace's numeric id."""

    def diff(
        self, _id: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.DiffResult:
        return diff(olds, news, ["workspace"], CONNECTION_KEYS)

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        client = self._client(props)
        existing = self._workspace(client, props["workspace"])
        workspace = existing or client.create_workspace(props["workspace"])
        return pulumi.dynamic.CreateResult(
            str(workspace.id), {**inputs(props), ADOPTED: existing is not None}
        )

    def update(
        self, _id: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.UpdateResult:
        # Only the connection can change in place; it is stored for later calls.
        return pulumi.dynamic.UpdateResult({**inputs(news), ADOPTED: olds.get(ADOPTED, False)})

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        workspace = self._workspace(self._client(props), props["workspace"])
        if workspace is None:
            return pulumi.dynamic.ReadResult("", {})
        return pulumi.dynamic.ReadResult(str(workspace.id), inputs(props))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        if props.get(ADOPTED):
            return
        client = self._client(props)
        try:
            client.delete_workspace(props["workspace"])
        except Exception as error:
            if not _is_not_found(error):
                raise


class MldeProjectProvider(_MldeProvider):
    """Inputs: ``workspace``, ``project``, ``description`` and the connection. Id: the
    project's numeric id."""

    def diff(
        self, _id: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.DiffResult:
        return diff(olds, news, ["workspace", "project"], ["description", *CONNECTION_KEYS])

    def _require_workspace(self, client: Any, props: Mapping[str, Any]) -> Any:
        workspace = self._workspace(client, props["workspace"])
        if workspace is None:
            raise RuntimeError(
                f"MLDE workspace {props['workspace']!r} does not exist; declare it with "
                "MldeWorkspace and pass its workspace output to this project"
            )
        return workspace

    def _project(self, workspace: Any, name: str) -> Any | None:
        try:
            return workspace.get_project(name)
        except Exception as error:
            if _is_not_found(error):
                return None
            raise

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        client = self._client(props)
        workspace = self._require_workspace(client, props)
        description = props.get("description") or None
        existing = self._project(workspace, props["project"])
        if existing is None:
            project = workspace.create_project(props["project"], description=description)
        else:
            project = existing
            if description is not None and getattr(existing, "description", None) != description:
                existing.set_description(description)
        return pulumi.dynamic.CreateResult(
            str(project.id), {**inputs(props), ADOPTED: existing is not None}
        )

    def update(
        self, _id: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.UpdateResult:
        if olds.get("description") != news.get("description"):
            client = self._client(news)
            project = self._project(self._require_workspace(client, news), news["project"])
            if project is None:
                raise RuntimeError(
                    f"MLDE project {news['project']!r} is gone from workspace "
                    f"{news['workspace']!r}; run `pulumi refresh`, then `pulumi up` recreates it"
                )
            project.set_description(news.get("description") or "")
        return pulumi.dynamic.UpdateResult({**inputs(news), ADOPTED: olds.get(ADOPTED, False)})

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        client = self._client(props)
        workspace = self._workspace(client, props["workspace"])
        project = None if workspace is None else self._project(workspace, props["project"])
        if project is None:
            return pulumi.dynamic.ReadResult("", {})
        outs = {**inputs(props), "description": getattr(project, "description", "") or ""}
        return pulumi.dynamic.ReadResult(str(project.id), outs)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        if props.get(ADOPTED):
            return
        client = self._client(props)
        workspace = self._workspace(client, props["workspace"])
        if workspace is None:
            return
        try:
            workspace.delete_project(props["project"])
        except Exception as error:
            if not _is_not_found(error):
                raise


@dataclass(frozen=True)
class MldeWorkspaceArgs:
    connection: MldeConnection
    """How to reach the MLDE master."""
    workspace: str
    """Workspace name, e.g. ``PDK Demos``; renaming replaces the workspace."""


class MldeWorkspace(pulumi.dynamic.Resource, module=TYPE_MODULE, name="MldeWorkspace"):
    """An MLDE workspace (adopted if it exists, then left in place on destroy)."""

    workspace: pulumi.Output[str]
    adopted: pulumi.Output[bool]

    def __init__(
        self,
        name: str,
        args: MldeWorkspaceArgs,
        opts: pulumi.ResourceOptions | None = None,
        provider: MldeWorkspaceProvider | None = None,
    ) -> None:
        props = {**args.connection.props(), "workspace": args.workspace, ADOPTED: None}
        super().__init__(
            provider or MldeWorkspaceProvider(), name, props, with_secret_outputs(opts, SECRET_KEYS)
        )


@dataclass(frozen=True)
class MldeProjectArgs:
    connection: MldeConnection
    """How to reach the MLDE master."""
    workspace: pulumi.Input[str]
    """Workspace of the project; pass ``MldeWorkspace.workspace`` so the project waits for it."""
    project: str
    """Project name, e.g. ``pdk-dogs-and-cats``; renaming replaces the project."""
    description: str = ""
    """Shown in the MLDE web UI; default empty."""


class MldeProject(pulumi.dynamic.Resource, module=TYPE_MODULE, name="MldeProject"):
    """An MLDE project inside a workspace (adopted if it exists, then left in place on
    destroy)."""

    workspace: pulumi.Output[str]
    project: pulumi.Output[str]
    adopted: pulumi.Output[bool]

    def __init__(
        self,
        name: str,
        args: MldeProjectArgs,
        opts: pulumi.ResourceOptions | None = None,
        provider: MldeProjectProvider | None = None,
    ) -> None:
        props = {
            **args.connection.props(),
            "workspace": args.workspace,
            "project": args.project,
            "description": args.description,
            ADOPTED: None,
        }
        super().__init__(
            provider or MldeProjectProvider(), name, props, with_secret_outputs(opts, SECRET_KEYS)
        )
