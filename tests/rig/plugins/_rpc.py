"""What every stand-in plugin shares: the plugin process protocol and Pulumi's property values.

Plugin protocol (sdk/go/common/resource/plugin/plugin.go, v3.276.0): the CLI starts the
executable with ``[--logtostderr] [-v=N] [--tracing URL] <engine address>`` (the address is
always last), reads one line from its stdout, the port it listens on, then dials it. Upstream
plugins health-check the engine and exit once it is gone (rpcutil.Healthcheck); so do these.

Property values travel as ``google.protobuf.Struct``s in which Pulumi encodes secrets as
``{SIG_KEY: SECRET_SIG, "value": ...}`` and unknown values (previews) as the string ``UNKNOWN``
(sdk/go/common/resource/sig and plugin/rpc.go).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent import futures
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf import json_format, struct_pb2

SIG_KEY = "4dabf18193072939515e22adb298388d"
"""Key marking a special value (secret, asset, resource reference...) in a property map."""
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
"""``SIG_KEY``'s value for a secret; the plain value is under ``"value"``."""
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
"""A value not known yet (a preview, or an output of a resource not created yet)."""

GRPC_OPTIONS = [
    ("grpc.max_receive_message_length", 400 * 1024 * 1024),
    ("grpc.max_send_message_length", 400 * 1024 * 1024),
]
"""Pulumi's own limit (rpcutil.GrpcChannelOptions): states and schemas can be large."""

HEALTH_INTERVAL_S = float(os.environ.get("PDK_RIG_PLUGIN_HEALTH_INTERVAL_S", "5"))
"""How often the engine is checked. Upstream waits five minutes; a rig run is short, and a
plugin outliving its engine would hold the rig's ports and processes. (The variable lets the
tests see a plugin stop in a second.)"""

log = logging.getLogger("pdk-rig-plugin")

STOP = threading.Event()
"""Set to make ``serve`` return: a signal, the engine gone, or the plugin's own decision."""


@dataclass(frozen=True)
class PluginArgs:
    """The arguments the CLI passes every plugin."""

    engine_address: str
    """host:port of the engine's gRPC server; empty when run by hand."""
    tracing: str
    """Zipkin endpoint, passed on to the program as upstream does; empty: none."""
    extra: argparse.Namespace
    """The plugin's own flags (see ``parse_args``)."""


def parse_args(
    argv: list[str], prog: str, add_flags: Callable[[argparse.ArgumentParser], None] | None = None
) -> PluginArgs:
    """Parses the CLI's plugin arguments, accepting (and ignoring) Go logging flags it adds.

    ``-v=9 --logtostderr`` (``pulumi -v=9 --logflow --logtostderr``) turns on this plugin's
    debug log on stderr, which the CLI shows with its own log.
    """
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("--tracing", "-tracing", default="")
    parser.add_argument("--logtostderr", "-logtostderr", action="store_true")
    parser.add_argument("--logflow", "-logflow", action="store_true")
    parser.add_argument("-v", "--v", dest="verbose", type=int, default=0)
    parser.add_argument("engine", nargs="?", default="")
    if add_flags is not None:
        add_flags(parser)
    known, _unknown = parser.parse_known_args(argv)
    if known.logtostderr and known.verbose > 0:
        level = logging.DEBUG if known.verbose >= 7 else logging.INFO
        logging.basicConfig(stream=sys.stderr, level=level, format=f"{prog}: %(message)s")
    return PluginArgs(engine_address=known.engine, tracing=known.tracing, extra=known)


def serve(
    register: Callable[[grpc.Server], None],
    engine_address: str,
    on_shutdown: Callable[[], None] | None = None,
    max_workers: int = 16,
) -> None:
    """Serves on a free loopback port, prints the port, and returns when told to stop.

    Stops on SIGINT/SIGTERM (the CLI interrupts plugins, then kills them after 5 s) or when
    the engine stops answering. ``on_shutdown`` runs first, e.g. to stop a running program.
    """
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=max_workers), options=GRPC_OPTIONS)
    register(server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    sys.stdout.write(f"{port}\n")
    sys.stdout.flush()

    def stop(*_args: object) -> None:
        STOP.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    if engine_address:
        watch_engine(engine_address, STOP.set)
    while not STOP.wait(timeout=1.0):
        pass
    if on_shutdown is not None:
        on_shutdown()
    server.stop(grace=1.0).wait()
    sys.stdout.flush()
    sys.stderr.flush()
    # Worker threads may still block on child processes or streams; they must not hold the exit.
    os._exit(0)


def watch_engine(address: str, on_gone: Callable[[], None]) -> None:
    """Calls ``on_gone`` once the engine at ``address`` stops answering health checks.

    As upstream, an UNIMPLEMENTED answer counts as alive: only a dead engine stops the plugin.
    Two failures in a row are required so one slow answer on a loaded machine is not fatal.
    """
    channel = grpc.insecure_channel(address, options=GRPC_OPTIONS)
    check = channel.unary_unary(
        "/grpc.health.v1.Health/Check",
        request_serializer=lambda _request: b"",
        response_deserializer=lambda data: data,
    )

    def loop() -> None:
        failures = 0
        while True:
            threading.Event().wait(HEALTH_INTERVAL_S)
            try:
                check(None, timeout=HEALTH_INTERVAL_S)
                failures = 0
            except grpc.RpcError as error:
                code = error.code() if isinstance(error, grpc.Call) else None
                if code == grpc.StatusCode.UNIMPLEMENTED:
                    failures = 0
                    continue
                failures += 1
                log.debug("engine health check failed (%s)", code)
                if failures >= 2:
                    log.info("the engine at %s is gone; stopping", address)
                    on_gone()
                    return

    threading.Thread(target=loop, name="engine-health", daemon=True).start()


def from_struct(struct: struct_pb2.Struct | None) -> dict[str, Any]:
    """A property map as plain Python values; whole numbers become ``int`` (Struct has only
    doubles, and the providers' integer inputs are compared and used as integers)."""
    if struct is None:
        return {}
    return {k: _ints(v) for k, v in json_format.MessageToDict(struct).items()}


def to_struct(values: Mapping[str, Any]) -> struct_pb2.Struct:
    """The ``Struct`` for a property map; ``None`` values are kept as nulls."""
    struct = struct_pb2.Struct()
    struct.update(dict(values))
    return struct


def _ints(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_ints(v) for v in value]
    if isinstance(value, dict):
        return {k: _ints(v) for k, v in value.items()}
    return value


def is_secret(value: Any) -> bool:
    """Whether ``value`` is a secret envelope."""
    return isinstance(value, dict) and value.get(SIG_KEY) == SECRET_SIG


def secret(value: Any) -> dict[str, Any]:
    """``value`` in a secret envelope (idempotent)."""
    return value if is_secret(value) else {SIG_KEY: SECRET_SIG, "value": value}


def reveal(value: Any) -> tuple[Any, bool]:
    """``value`` without any secret envelope, at any depth, and whether it held one."""
    if is_secret(value):
        inner, _ = reveal(value.get("value"))
        return inner, True
    if isinstance(value, list):
        pairs = [reveal(v) for v in value]
        return [v for v, _ in pairs], any(s for _, s in pairs)
    if isinstance(value, dict):
        revealed = {k: reveal(v) for k, v in value.items()}
        return {k: v for k, (v, _) in revealed.items()}, any(s for _, s in revealed.values())
    return value, False


def reveal_all(props: Mapping[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """A property map without secret envelopes, and the top-level keys that held secrets."""
    plain: dict[str, Any] = {}
    secrets: set[str] = set()
    for key, value in props.items():
        plain[key], was_secret = reveal(value)
        if was_secret:
            secrets.add(key)
    return plain, secrets


def is_unknown(value: Any) -> bool:
    """Whether ``value`` is, or contains, an unknown value."""
    if value == UNKNOWN:
        return True
    if isinstance(value, list):
        return any(is_unknown(v) for v in value)
    if isinstance(value, dict):
        return any(is_unknown(v) for v in value.values())
    return False


def seal(props: Mapping[str, Any], secret_keys: Iterable[str]) -> dict[str, Any]:
    """``props`` with the values under ``secret_keys`` in secret envelopes (nulls stay null)."""
    keys = set(secret_keys)
    return {
        k: secret(v) if k in keys and v is not None and v != UNKNOWN else v
        for k, v in props.items()
    }
