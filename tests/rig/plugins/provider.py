"""A ResourceProvider gRPC server for resources computed locally, as pulumi-random and
pulumi-tls are: nothing outside the state, so Read returns the state and Delete forgets it.

Each resource type is a ``ResourceType`` row: its inputs with the real provider's defaults,
its checks, what it computes and which outputs are secrets. The engine-facing behaviour is
that of these Terraform-bridged providers (pulumi-terraform-bridge, plugin framework):

- Check fills in defaults and reports invalid inputs as check failures;
- Diff replaces on any change of an input, except the few the Terraform schema updates in
  place (``update_in_place``), and reports a detailed diff;
- Create in a preview returns the inputs with every computed output unknown;
- secret inputs stay secret in the outputs, and the Terraform-sensitive outputs are secrets.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import plugin_pb2, provider_pb2, provider_pb2_grpc

from . import _rpc

log = logging.getLogger("pdk-rig-plugin")

REQUIRED = object()
"""Default of an input the resource cannot do without (Check fails when it is missing)."""

Failures = list[tuple[str, str]]
"""Check failures: (input name, reason)."""


class ProviderError(Exception):
    """A failure the user caused (an invalid input the checks cannot see, e.g. a bad PEM)."""


@dataclass(frozen=True)
class ResourceType:
    """One resource type the provider implements."""

    token: str
    """Pulumi type token, e.g. ``random:index/randomPassword:RandomPassword``."""
    inputs: Mapping[str, Any]
    """Every input (Pulumi camelCase name) and its default: a value, ``None`` (optional, no
    default) or ``REQUIRED``."""
    outputs: tuple[str, ...]
    """The outputs the provider computes (unknown in a preview)."""
    create: Callable[[dict[str, Any]], tuple[str, dict[str, Any]]]
    """Checked inputs (secrets revealed) to (resource ID, computed outputs)."""
    check: Callable[[dict[str, Any]], Failures] = lambda _inputs: []
    """Checked inputs (defaults filled, secrets revealed, unknowns possible) to failures."""
    secret_outputs: frozenset[str] = frozenset()
    """Outputs the real provider marks sensitive."""
    update_in_place: frozenset[str] = frozenset()
    """Inputs whose change is an update, not a replacement."""
    normalize: Callable[[dict[str, Any]], dict[str, Any]] = lambda inputs: inputs
    """Defaults that depend on other inputs (applied after the plain defaults)."""
    must_replace: Callable[[dict[str, Any]], str | None] = lambda _state: None
    """A state that must be replaced whatever the inputs (an expiring certificate): the output
    to name as the reason, or None."""


@dataclass
class ResourceProvider(provider_pb2_grpc.ResourceProviderServicer):
    """The gRPC servicer for one provider package."""

    package: str
    """Package name, e.g. ``random``."""
    version: str
    """Version reported to the engine: the one the Python SDK pins (its pulumi-plugin.json)."""
    types: Mapping[str, ResourceType]
    """Resource types by token."""
    config: dict[str, Any] = field(default_factory=dict)
    """Provider configuration from Configure (neither provider needs any here)."""

    def Handshake(
        self, request: provider_pb2.ProviderHandshakeRequest, context: grpc.ServicerContext
    ) -> provider_pb2.ProviderHandshakeResponse:
        """Says the provider takes secrets and resource references (as bridged providers do)."""
        return provider_pb2.ProviderHandshakeResponse(accept_secrets=True, accept_resources=True)

    def GetPluginInfo(
        self, request: empty_pb2.Empty, context: grpc.ServicerContext
    ) -> plugin_pb2.PluginInfo:
        """The pinned version, so the engine finds the version the program asked for."""
        return plugin_pb2.PluginInfo(version=self.version)

    def GetSchema(
        self, request: provider_pb2.GetSchemaRequest, context: grpc.ServicerContext
    ) -> provider_pb2.GetSchemaResponse:
        """A minimal schema: the resource types, their inputs and outputs, untyped."""
        resources: dict[str, Any] = {}
        for token, rtype in self.types.items():
            names = [*rtype.inputs, *rtype.outputs]
            resources[token] = {
                "inputProperties": {k: {} for k in rtype.inputs},
                "requiredInputs": [k for k, v in rtype.inputs.items() if v is REQUIRED],
                "properties": {
                    k: {"secret": True} if k in rtype.secret_outputs else {} for k in names
                },
            }
        schema = {"name": self.package, "version": self.version, "resources": resources}
        return provider_pb2.GetSchemaResponse(schema=json.dumps(schema))

    def CheckConfig(
        self, request: provider_pb2.CheckRequest, context: grpc.ServicerContext
    ) -> provider_pb2.CheckResponse:
        """Accepts any configuration (nothing here is configured)."""
        return provider_pb2.CheckResponse(inputs=request.news)

    def DiffConfig(
        self, request: provider_pb2.DiffRequest, context: grpc.ServicerContext
    ) -> provider_pb2.DiffResponse:
        """A configuration change never replaces the resources (none depends on it)."""
        olds = _rpc.from_struct(request.old_inputs) or _rpc.from_struct(request.olds)
        news = _rpc.from_struct(request.news)
        changed = sorted(k for k in set(olds) | set(news) if olds.get(k) != news.get(k))
        diff = provider_pb2.DiffResponse
        return diff(changes=diff.DIFF_SOME if changed else diff.DIFF_NONE, diffs=changed)

    def Configure(
        self, request: provider_pb2.ConfigureRequest, context: grpc.ServicerContext
    ) -> provider_pb2.ConfigureResponse:
        """Keeps the configuration; says secrets are accepted and previews supported."""
        self.config = _rpc.from_struct(request.args)
        return provider_pb2.ConfigureResponse(
            acceptSecrets=True, supportsPreview=True, acceptResources=True
        )

    def Check(
        self, request: provider_pb2.CheckRequest, context: grpc.ServicerContext
    ) -> provider_pb2.CheckResponse:
        """The inputs with the provider's defaults, or the failures of invalid ones."""
        rtype = self._type(request.urn, request.type, context)
        news = _rpc.from_struct(request.news)
        plain, secrets = _rpc.reveal_all(news)
        failures: Failures = [
            (k, f"unknown property {k!r} for {rtype.token}")
            for k in plain
            if k not in rtype.inputs and not k.startswith("__")
        ]
        checked = {k: v for k, v in plain.items() if k in rtype.inputs}
        for key, default in rtype.inputs.items():
            if checked.get(key) is None:
                if default is REQUIRED:
                    failures.append((key, f"Missing required property '{key}'"))
                elif default is not None:
                    checked[key] = default
        checked = rtype.normalize(checked)
        if not failures:
            failures.extend(rtype.check(checked))
        return provider_pb2.CheckResponse(
            inputs=_rpc.to_struct(_rpc.seal(checked, secrets)),
            failures=[provider_pb2.CheckFailure(property=k, reason=r) for k, r in failures],
        )

    def Diff(
        self, request: provider_pb2.DiffRequest, context: grpc.ServicerContext
    ) -> provider_pb2.DiffResponse:
        """Which inputs changed, and whether that replaces the resource."""
        rtype = self._type(request.urn, request.type, context)
        state, _ = _rpc.reveal_all(_rpc.from_struct(request.olds))
        olds, _ = _rpc.reveal_all(_rpc.from_struct(request.old_inputs) or state)
        news, _ = _rpc.reveal_all(_rpc.from_struct(request.news))
        ignored = set(request.ignoreChanges)
        detailed: dict[str, provider_pb2.PropertyDiff] = {}
        replaces: list[str] = []
        kinds = provider_pb2.PropertyDiff
        for key in rtype.inputs:
            old, new = olds.get(key), news.get(key)
            if key in ignored or (old == new and not _rpc.is_unknown(new)):
                continue
            replace = key not in rtype.update_in_place
            if old is None:
                kind = kinds.ADD_REPLACE if replace else kinds.ADD
            elif new is None:
                kind = kinds.DELETE_REPLACE if replace else kinds.DELETE
            else:
                kind = kinds.UPDATE_REPLACE if replace else kinds.UPDATE
            detailed[key] = provider_pb2.PropertyDiff(kind=kind, inputDiff=True)
            if replace:
                replaces.append(key)
        reason = rtype.must_replace(state)
        if reason is not None and reason not in detailed:
            detailed[reason] = provider_pb2.PropertyDiff(kind=kinds.UPDATE_REPLACE)
            replaces.append(reason)
        if not detailed:
            return provider_pb2.DiffResponse(
                changes=provider_pb2.DiffResponse.DIFF_NONE, hasDetailedDiff=True
            )
        return provider_pb2.DiffResponse(
            changes=provider_pb2.DiffResponse.DIFF_SOME,
            replaces=replaces,
            diffs=list(detailed),
            detailedDiff=detailed,
            hasDetailedDiff=True,
            deleteBeforeReplace=False,
        )

    def Create(
        self, request: provider_pb2.CreateRequest, context: grpc.ServicerContext
    ) -> provider_pb2.CreateResponse:
        """Computes the outputs (unknown in a preview) and returns inputs and outputs."""
        rtype = self._type(request.urn, request.type, context)
        props = _rpc.from_struct(request.properties)
        plain, secrets = _rpc.reveal_all(props)
        inputs = {k: v for k, v in plain.items() if k in rtype.inputs}
        if request.preview or _rpc.is_unknown(inputs):
            computed = dict.fromkeys(rtype.outputs, _rpc.UNKNOWN)
            return provider_pb2.CreateResponse(
                id="", properties=self._outputs(rtype, inputs, computed, secrets)
            )
        try:
            resource_id, computed = rtype.create(inputs)
        except (ProviderError, ValueError) as error:
            context.abort(grpc.StatusCode.UNKNOWN, f"{rtype.token}: {error}")
        log.debug("created %s %s", rtype.token, resource_id)
        return provider_pb2.CreateResponse(
            id=resource_id, properties=self._outputs(rtype, inputs, computed, secrets)
        )

    def Update(
        self, request: provider_pb2.UpdateRequest, context: grpc.ServicerContext
    ) -> provider_pb2.UpdateResponse:
        """New values of in-place inputs; every computed output stays as it was."""
        rtype = self._type(request.urn, request.type, context)
        state, state_secrets = _rpc.reveal_all(_rpc.from_struct(request.olds))
        news, news_secrets = _rpc.reveal_all(_rpc.from_struct(request.news))
        inputs = {k: v for k, v in news.items() if k in rtype.inputs}
        computed = {k: state.get(k) for k in rtype.outputs}
        secrets = news_secrets | (state_secrets & set(rtype.outputs))
        return provider_pb2.UpdateResponse(
            properties=self._outputs(rtype, inputs, computed, secrets)
        )

    def Read(
        self, request: provider_pb2.ReadRequest, context: grpc.ServicerContext
    ) -> provider_pb2.ReadResponse:
        """The state as it is: nothing outside it can have changed (refresh finds no drift)."""
        if not _rpc.from_struct(request.properties):
            context.abort(
                grpc.StatusCode.UNIMPLEMENTED,
                f"the rig's {self.package} provider cannot import resources (no state for "
                f"{request.id}); create them with `pulumi up` instead",
            )
        return provider_pb2.ReadResponse(
            id=request.id, properties=request.properties, inputs=request.inputs
        )

    def Delete(
        self, request: provider_pb2.DeleteRequest, context: grpc.ServicerContext
    ) -> empty_pb2.Empty:
        """Nothing to delete outside the state."""
        return empty_pb2.Empty()

    def Cancel(self, request: empty_pb2.Empty, context: grpc.ServicerContext) -> empty_pb2.Empty:
        """Nothing runs long enough to cancel."""
        return empty_pb2.Empty()

    def _type(self, urn: str, token: str, context: grpc.ServicerContext) -> ResourceType:
        token = token or urn.rsplit("::", 2)[-2].rsplit("$", 1)[-1]
        rtype = self.types.get(token)
        if rtype is None:
            context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"the rig's {self.package} provider does not implement {token}; it implements "
                f"{', '.join(sorted(self.types))} (tests/rig/plugins)",
            )
            raise AssertionError("abort raises")
        return rtype

    @staticmethod
    def _outputs(
        rtype: ResourceType,
        inputs: Mapping[str, Any],
        computed: Mapping[str, Any],
        secret_inputs: set[str],
    ) -> struct_pb2.Struct:
        """The state: inputs and computed outputs, secrets sealed."""
        state = {**inputs, **computed}
        return _rpc.to_struct(_rpc.seal(state, secret_inputs | set(rtype.secret_outputs)))


def main(argv: list[str], provider: ResourceProvider) -> None:
    """Runs ``provider`` as a plugin process."""
    args = _rpc.parse_args(argv, f"pulumi-resource-{provider.package}")
    _rpc.serve(
        lambda server: provider_pb2_grpc.add_ResourceProviderServicer_to_server(provider, server),
        args.engine_address,
        max_workers=8,
    )
