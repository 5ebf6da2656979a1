"""The Analyzer proxy a Python policy pack runs behind (upstream: sdk/v3 policy_proxy.go).

pulumi-policy reads the stack's project, stack, organization, dry-run flag and config from
environment variables when it starts, but the engine only sends them after dialling the pack
(AnalyzerStackConfigure). So, as upstream's language host does, RunPlugin first serves this
proxy (its port is the pack's "port" line), waits for the engine's ConfigureStack, starts the
pack with those variables, reads the pack's own port, forwards ConfigureStack to it and from
then on forwards every Analyzer call.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent import futures
from typing import Any, TypeVar

import grpc
from google.protobuf import empty_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from . import _rpc

log = logging.getLogger("pdk-rig-plugin")

T = TypeVar("T")

WAIT_STEP_S = 1.0
"""How often a waiting call checks that its caller is still there."""


class PolicyProxy(analyzer_pb2_grpc.AnalyzerServicer):
    """Serves the Analyzer service on a free port until ``stop``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._configuration: futures.Future[analyzer_pb2.AnalyzerStackConfigureRequest | None]
        self._configuration = futures.Future()
        self._client: futures.Future[analyzer_pb2_grpc.AnalyzerStub] = futures.Future()
        self._channel: grpc.Channel | None = None
        self._server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=8), options=_rpc.GRPC_OPTIONS
        )
        analyzer_pb2_grpc.add_AnalyzerServicer_to_server(self, self._server)
        self.port = self._server.add_insecure_port("127.0.0.1:0")
        self._server.start()

    def stop(self) -> None:
        """Stops serving and closes the connection to the pack."""
        self.abort("the policy pack has stopped")
        self._server.stop(grace=0)
        if self._channel is not None:
            self._channel.close()

    def await_configuration(
        self, is_active: Callable[[], bool]
    ) -> analyzer_pb2.AnalyzerStackConfigureRequest | None:
        """The engine's stack configuration, None if it called something else first (e.g.
        ``pulumi policy publish`` asks for the analyzer info without configuring a stack)."""
        return _wait(self._configuration, is_active)

    def attach(self, port: int) -> None:
        """Connects to the started pack and forwards the configuration it was started with."""
        self._channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=_rpc.GRPC_OPTIONS)
        client = analyzer_pb2_grpc.AnalyzerStub(self._channel)
        configuration = self._configuration.result() if self._configuration.done() else None
        if configuration is not None:
            try:
                client.ConfigureStack(configuration, timeout=60)
            except grpc.RpcError as error:
                # Older pulumi-policy releases do not implement ConfigureStack; that is fine.
                code = error.code() if isinstance(error, grpc.Call) else None
                if code != grpc.StatusCode.UNIMPLEMENTED:
                    self.abort(f"policy pack configuration failed: {error}")
                    return
        with self._lock:
            if not self._client.done():
                self._client.set_result(client)

    def abort(self, reason: str) -> None:
        """Fails every waiting and later call with ``reason`` (the pack did not start)."""
        with self._lock:
            if not self._configuration.done():
                self._configuration.set_result(None)
            if not self._client.done():
                self._client.set_exception(RuntimeError(reason))

    def _await_client(self, context: grpc.ServicerContext) -> analyzer_pb2_grpc.AnalyzerStub:
        with self._lock:
            if not self._configuration.done():
                self._configuration.set_result(None)
        try:
            return _wait(self._client, context.is_active)
        except RuntimeError as error:
            context.abort(grpc.StatusCode.UNAVAILABLE, f"policy pack not started: {error}")
            raise

    def _forward(self, method: str, request: Any, context: grpc.ServicerContext) -> Any:
        client = self._await_client(context)
        # Without a deadline, time_remaining() is huge, which gRPC turns into an instant one.
        remaining = context.time_remaining()
        timeout = remaining if remaining is not None and remaining < 86400 else None
        try:
            return getattr(client, method)(request, timeout=timeout)
        except grpc.RpcError as error:
            if isinstance(error, grpc.Call):
                context.abort(error.code(), error.details() or str(error))
            raise

    def Handshake(
        self, request: analyzer_pb2.AnalyzerHandshakeRequest, context: grpc.ServicerContext
    ) -> analyzer_pb2.AnalyzerHandshakeResponse:
        """Answered here: the pack is not started yet."""
        return analyzer_pb2.AnalyzerHandshakeResponse()

    def ConfigureStack(
        self, request: analyzer_pb2.AnalyzerStackConfigureRequest, context: grpc.ServicerContext
    ) -> analyzer_pb2.AnalyzerStackConfigureResponse:
        """Kept to start the pack with; forwarded to it once it runs."""
        with self._lock:
            if not self._configuration.done():
                self._configuration.set_result(request)
        return analyzer_pb2.AnalyzerStackConfigureResponse()

    def Analyze(self, request: Any, context: grpc.ServicerContext) -> Any:
        """Forwarded."""
        return self._forward("Analyze", request, context)

    def AnalyzeStack(self, request: Any, context: grpc.ServicerContext) -> Any:
        """Forwarded."""
        return self._forward("AnalyzeStack", request, context)

    def Remediate(self, request: Any, context: grpc.ServicerContext) -> Any:
        """Forwarded."""
        return self._forward("Remediate", request, context)

    def GetAnalyzerInfo(self, request: empty_pb2.Empty, context: grpc.ServicerContext) -> Any:
        """Forwarded."""
        return self._forward("GetAnalyzerInfo", request, context)

    def GetPluginInfo(self, request: empty_pb2.Empty, context: grpc.ServicerContext) -> Any:
        """Forwarded."""
        return self._forward("GetPluginInfo", request, context)

    def Configure(self, request: Any, context: grpc.ServicerContext) -> Any:
        """Forwarded."""
        return self._forward("Configure", request, context)

    def Cancel(self, request: empty_pb2.Empty, context: grpc.ServicerContext) -> Any:
        """Forwarded."""
        return self._forward("Cancel", request, context)


def _wait(future: futures.Future[T], is_active: Callable[[], bool]) -> T:
    """``future``'s result, giving up (RuntimeError) once the caller is gone."""
    while True:
        try:
            return future.result(timeout=WAIT_STEP_S)
        except futures.TimeoutError:
            if not is_active():
                raise RuntimeError("the caller went away") from None
