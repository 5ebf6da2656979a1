"""``pulumi-language-python`` stand-in: the LanguageRuntime the Pulumi CLI runs Python with.

Behaviour follows upstream's Go host (sdk/python/cmd/pulumi-language-python/main.go) for what
``preview``, ``up``, ``destroy``, ``refresh``, ``stack output`` and ``--policy-pack`` use:

- Run executes upstream's own exec script, ``pulumi-language-python-exec`` (from the sdk/v3
  v3.276.0 module in the rig's Go module cache, never copied), with the project's Python and
  the same arguments (``--monitor --engine --project --root_directory --stack --pwd --dry_run
  --parallel --tracing --organization <entry point> <args>``) and environment
  (``PULUMI_CONFIG``, ``PULUMI_CONFIG_SECRET_KEYS``, the virtualenv activated). Exit code 32
  means "the program already told the user": a bail, not an error.
- GetRequiredPackages reports every installed Pulumi package's plugin from its
  ``pulumi-plugin.json`` (name, version, server, parameterization), or from a ``pulumi-*``
  distribution's name and version.
- RunPlugin runs a Python policy pack (``python -u -m pulumi.policy <args> <pack dir>`` with the
  pack's own virtualenv, behind ``policy_proxy.PolicyProxy``) or a Python plugin.
- InstallDependencies installs nothing: the rig's virtualenvs come from ``make``.

Code generation (GenerateProgram/Project/Package), Pack and Link are not implemented: the rig
never converts or publishes packages.
"""

from __future__ import annotations

import argparse
import base64
import inspect
import json
import logging
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import tomllib
from collections.abc import Callable, Iterator
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import grpc
from google.protobuf import empty_pb2, json_format
from pulumi.runtime.proto import language_pb2, language_pb2_grpc, plugin_pb2

from . import _rpc
from .policy_proxy import PolicyProxy
from .python_env import PythonEnvError, PythonOptions, Toolchain, parse_options, plugin_version

log = logging.getLogger("pdk-rig-plugin")

VERSION = "3.276.0"
"""The Pulumi release this host stands in for (tests/rig/build.py builds the same CLI)."""

EXECUTOR = "pulumi-language-python-exec"
EXECUTOR_IN_MODULE = (
    f"github.com/pulumi/pulumi/sdk/v3@v{VERSION}/python/cmd/pulumi-language-python-exec"
)
"""Where upstream's exec script lies in a Go module cache."""

USER_ACTIONABLE_EXIT = 32
"""The exec script's exit code after it has shown the user an actionable message."""

PACKAGES_WITHOUT_PLUGINS = frozenset({"pulumi-policy", "pulumi-esc-sdk"})
"""Named pulumi-* but without a plugin (upstream's list)."""

INTERRUPT_GRACE_S = 5.0
"""How long a cancelled program gets after SIGINT before it is killed (upstream's WaitDelay)."""

MIN_PYTHON = (3, 7)

F = TypeVar("F", bound=Callable[..., Any])


def find_executor(given: str = "") -> Path:
    """The exec script: ``--use-executor``, next to this host (where upstream installs it), in
    this repository's rig module cache (``.rig/go/mod``), or in ``$GOMODCACHE``."""
    if given:
        return Path(given)
    here = Path(__file__).resolve().parent
    candidates = [here / EXECUTOR, here.parents[2] / ".rig" / "go" / "mod" / EXECUTOR_IN_MODULE]
    if os.environ.get("GOMODCACHE"):
        candidates.append(Path(os.environ["GOMODCACHE"]) / EXECUTOR_IN_MODULE)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"missing executor {EXECUTOR}: looked in {', '.join(map(str, candidates))}. It comes "
        "with the pulumi sdk/v3 Go module: run `make rig-build` to fetch it."
    )


USER_ERRORS = (ValueError, PythonEnvError, FileNotFoundError)


def _user_errors(method: F) -> F:
    """Turns a failure the user can fix (bad runtime options, a missing virtualenv) into a
    gRPC error carrying its message, which the CLI prints as is; also for streaming calls."""

    @wraps(method)
    def wrapper(self: Any, request: Any, context: grpc.ServicerContext) -> Any:
        try:
            result = method(self, request, context)
        except USER_ERRORS as error:
            context.abort(grpc.StatusCode.UNKNOWN, str(error))
        if inspect.isgenerator(result):
            return _guarded(result, context)
        return result

    return wrapper  # type: ignore[return-value]


def _guarded(stream: Iterator[Any], context: grpc.ServicerContext) -> Iterator[Any]:
    try:
        yield from stream
    except USER_ERRORS as error:
        context.abort(grpc.StatusCode.UNKNOWN, str(error))


def _options(info: language_pb2.ProgramInfo, is_plugin: bool = False) -> PythonOptions:
    options = json_format.MessageToDict(info.options) if info.HasField("options") else {}
    return parse_options(info.root_directory, info.program_directory, options, is_plugin)


class LanguageHost(language_pb2_grpc.LanguageRuntimeServicer):
    """The LanguageRuntime servicer."""

    def __init__(self, executor: Path, engine_address: str, tracing: str) -> None:
        self.executor = executor
        self.engine_address = engine_address
        self.tracing = tracing
        self._cancelled = threading.Event()
        self._lock = threading.Lock()
        self._children: set[subprocess.Popen[bytes]] = set()

    def stop_children(self) -> None:
        """Interrupts every program and plugin this host started (the host is stopping)."""
        with self._lock:
            children = list(self._children)
        for child in children:
            _interrupt(child)

    def Handshake(
        self, request: language_pb2.LanguageHandshakeRequest, context: grpc.ServicerContext
    ) -> language_pb2.LanguageHandshakeResponse:
        """Takes the engine address (when the CLI attaches to a host it did not start)."""
        if not self.engine_address:
            _rpc.watch_engine(request.engine_address, _rpc.STOP.set)
        self.engine_address = request.engine_address
        return language_pb2.LanguageHandshakeResponse()

    def GetPluginInfo(
        self, request: empty_pb2.Empty, context: grpc.ServicerContext
    ) -> plugin_pb2.PluginInfo:
        """The Pulumi release this host stands in for."""
        return plugin_pb2.PluginInfo(version=VERSION)

    @_user_errors
    def GetRequiredPackages(
        self, request: language_pb2.GetRequiredPackagesRequest, context: grpc.ServicerContext
    ) -> language_pb2.GetRequiredPackagesResponse:
        """The plugins of the Pulumi packages installed in the program's environment."""
        toolchain = Toolchain.resolve(_options(request.info))
        toolchain.validate()
        _warn_old_python(toolchain)
        return language_pb2.GetRequiredPackagesResponse(packages=required_packages(toolchain))

    @_user_errors
    def GetRequiredPlugins(
        self, request: language_pb2.GetRequiredPluginsRequest, context: grpc.ServicerContext
    ) -> language_pb2.GetRequiredPluginsResponse:
        """The same as GetRequiredPackages in the older shape. (Upstream answers UNIMPLEMENTED
        since the CLI moved to GetRequiredPackages; answering costs nothing and helps an older
        CLI.)"""
        toolchain = Toolchain.resolve(_options(request.info))
        toolchain.validate()
        plugins = [
            plugin_pb2.PluginDependency(
                name=p.name, kind=p.kind, version=p.version, server=p.server
            )
            for p in required_packages(toolchain)
        ]
        return language_pb2.GetRequiredPluginsResponse(plugins=plugins)

    @_user_errors
    def Run(
        self, request: language_pb2.RunRequest, context: grpc.ServicerContext
    ) -> language_pb2.RunResponse:
        """Runs the program to its end; its stdout and stderr are this host's."""
        if not self.engine_address:
            raise PythonEnvError(
                "when debugging or running explicitly, must call Handshake before Run"
            )
        if request.attach_debugger:
            return language_pb2.RunResponse(
                error="the rig's Python language host cannot attach a debugger"
            )
        options = _options(request.info)
        toolchain = Toolchain.resolve(options)
        toolchain.validate()
        env = toolchain.env()
        if request.config:
            env["PULUMI_CONFIG"] = json.dumps(dict(request.config))
        env["PULUMI_CONFIG_SECRET_KEYS"] = json.dumps(list(request.configSecretKeys))
        if options.typechecker:
            _typecheck(toolchain, options)
        command = [toolchain.python, str(self.executor), *self.arguments(request)]
        log.debug("running %s", " ".join(command))
        try:
            child = subprocess.Popen(command, env=env)
        except OSError as error:
            return language_pb2.RunResponse(
                error=f"problem executing program (could not run language executor): {error}"
            )
        code = self._wait(child, context.is_active, cancellable=True)
        sys.stdout.flush()
        sys.stderr.flush()
        if code == 0:
            return language_pb2.RunResponse()
        if code == USER_ACTIONABLE_EXIT:
            return language_pb2.RunResponse(bail=True)
        return language_pb2.RunResponse(
            error=f"program exited with non-zero exit code: {code if code > 0 else -1}"
        )

    def arguments(self, request: language_pb2.RunRequest) -> list[str]:
        """The exec script's arguments, in upstream's order; empty values are left out."""
        pairs = [
            ("monitor", request.monitor_address),
            ("engine", self.engine_address),
            ("project", request.project),
            ("root_directory", request.info.root_directory),
            ("stack", request.stack),
            ("pwd", request.pwd),
            ("dry_run", "true" if request.dryRun else "false"),
            ("parallel", str(request.parallel)),
            ("tracing", self.tracing),
            ("organization", request.organization),
        ]
        args = [part for key, value in pairs if value for part in (f"--{key}", value)]
        return [*args, request.info.entry_point or ".", *request.args]

    def _wait(
        self,
        child: subprocess.Popen[bytes],
        is_active: Callable[[], bool],
        cancellable: bool = False,
    ) -> int:
        """The child's exit code; interrupts it when its call ends or the host stops, and, for
        a program (``cancellable``), after the Cancel RPC (upstream cancels programs only)."""
        with self._lock:
            self._children.add(child)
        try:
            while True:
                try:
                    return child.wait(timeout=1.0)
                except subprocess.TimeoutExpired:
                    cancelled = cancellable and self._cancelled.is_set()
                    if not is_active() or cancelled or _rpc.STOP.is_set():
                        _interrupt(child)
        finally:
            with self._lock:
                self._children.discard(child)

    def Cancel(self, request: empty_pb2.Empty, context: grpc.ServicerContext) -> empty_pb2.Empty:
        """Interrupts running programs (the CLI was interrupted)."""
        self._cancelled.set()
        self.stop_children()
        return empty_pb2.Empty()

    @_user_errors
    def InstallDependencies(
        self, request: language_pb2.InstallDependenciesRequest, context: grpc.ServicerContext
    ) -> Iterator[language_pb2.InstallDependenciesResponse]:
        """Reports the environment ready without installing: ``make`` builds the virtualenvs,
        so the rig never depends on reaching PyPI while it runs."""
        toolchain = Toolchain.resolve(_options(request.info, request.is_plugin))

        def out(text: str) -> language_pb2.InstallDependenciesResponse:
            return language_pb2.InstallDependenciesResponse(stdout=text.encode())

        yield out("Installing dependencies...\n\n")
        toolchain.validate()
        where = toolchain.venv if toolchain.venv is not None else f"Python {toolchain.python}"
        yield out(
            f"Nothing to do: {where} is set up already (the rig's language host does not "
            "run pip; `make` creates and updates the virtualenv).\n\n"
        )
        yield out("Finished installing dependencies\n\n")

    def RuntimeOptionsPrompts(
        self, request: language_pb2.RuntimeOptionsRequest, context: grpc.ServicerContext
    ) -> language_pb2.RuntimeOptionsResponse:
        """Upstream's prompts for ``pulumi new``: a toolchain, then a virtualenv for pip."""
        options = json_format.MessageToDict(request.info.options)
        prompt = language_pb2.RuntimeOptionPrompt
        string = prompt.STRING
        prompts: list[language_pb2.RuntimeOptionPrompt] = []
        if "toolchain" not in options:
            pip = prompt.RuntimeOptionValue(promptType=string, stringValue="pip", displayName="pip")
            found = [
                prompt.RuntimeOptionValue(promptType=string, stringValue=name, displayName=name)
                for name in ("poetry", "uv")
                if shutil.which(name)
            ]
            prompts.append(
                prompt(
                    key="toolchain",
                    description="The toolchain to use for installing dependencies and running "
                    "the program",
                    promptType=string,
                    choices=[pip, *found],
                    default=pip,
                )
            )
        elif options["toolchain"] == "pip" and "virtualenv" not in options:
            venv = prompt.RuntimeOptionValue(promptType=string, stringValue="venv")
            prompts.append(
                prompt(
                    key="virtualenv",
                    description="The virtualenv to use",
                    promptType=string,
                    choices=[venv],
                    default=venv,
                )
            )
        return language_pb2.RuntimeOptionsResponse(prompts=prompts)

    def Template(
        self, request: language_pb2.TemplateRequest, context: grpc.ServicerContext
    ) -> language_pb2.TemplateResponse:
        """Nothing to prepare for pip (requirements.txt is the template's form)."""
        return language_pb2.TemplateResponse()

    @_user_errors
    def About(
        self, request: language_pb2.AboutRequest, context: grpc.ServicerContext
    ) -> language_pb2.AboutResponse:
        """The interpreter and pip versions (``pulumi about``)."""
        if request.HasField("info"):
            options = _options(request.info)
        else:
            options = parse_options(".", ".", {"toolchain": "pip"}, False)
        toolchain = Toolchain.resolve(options)
        executable = toolchain.run("-c", "import sys; print(sys.executable)").strip()
        pip = toolchain.run("-m", "pip", "--version", "--disable-pip-version-check").split()
        return language_pb2.AboutResponse(
            executable=executable,
            version=toolchain.version(),
            metadata={
                "toolchain": "pip",
                "toolchainVersion": pip[1] if len(pip) > 1 else "",
                "typechecker": options.typechecker or "none",
            },
        )

    @_user_errors
    def GetProgramDependencies(
        self, request: language_pb2.GetProgramDependenciesRequest, context: grpc.ServicerContext
    ) -> language_pb2.GetProgramDependenciesResponse:
        """``pip list`` of the program's environment (``pulumi about``)."""
        toolchain = Toolchain.resolve(_options(request.info))
        listed = toolchain.list_packages(transitive=request.transitiveDependencies)
        return language_pb2.GetProgramDependenciesResponse(
            dependencies=[language_pb2.DependencyInfo(name=n, version=v) for n, v in listed]
        )

    @_user_errors
    def RunPlugin(
        self, request: language_pb2.RunPluginRequest, context: grpc.ServicerContext
    ) -> Iterator[language_pb2.RunPluginResponse]:
        """Runs a Python policy pack or plugin, streaming its output and its exit code."""
        analyzer = request.kind == "analyzer"
        options = _options(request.info, is_plugin=not analyzer)
        toolchain = Toolchain.resolve(options)
        # Upstream would fail later, on exec, with a bare "no such file"; say how to fix it.
        toolchain.validate()
        command = [toolchain.python, *_plugin_arguments(request, options, toolchain, analyzer)]
        # Policy packs always ran in their own folder; other plugins run where the CLI runs.
        cwd = request.info.program_directory if analyzer else (request.pwd or None)
        env = toolchain.env()
        proxy = PolicyProxy() if analyzer else None
        try:
            if proxy is not None:
                yield language_pb2.RunPluginResponse(stdout=f"{proxy.port}\n".encode())
                env.update(_policy_env(proxy.await_configuration(context.is_active)))
            for entry in request.env:
                key, _, value = entry.partition("=")
                env[key] = value
            log.debug("running plugin %s in %s", " ".join(command), cwd)
            yield from self._stream(command, cwd, env, proxy, context)
        finally:
            if proxy is not None:
                proxy.stop()

    def _stream(
        self,
        command: list[str],
        cwd: str | None,
        env: dict[str, str],
        proxy: PolicyProxy | None,
        context: grpc.ServicerContext,
    ) -> Iterator[language_pb2.RunPluginResponse]:
        try:
            child = subprocess.Popen(
                command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
        except OSError as error:
            if proxy is not None:
                proxy.abort(str(error))
            raise PythonEnvError(
                f"problem executing plugin program (could not run language executor): {error}"
            ) from error
        events: queue.Queue[tuple[str, bytes | int]] = queue.Queue()
        assert child.stdout is not None and child.stderr is not None
        pumps = [
            threading.Thread(target=_pump, args=(child.stderr, "stderr", events), daemon=True),
            threading.Thread(
                target=_pump_plugin_stdout, args=(child.stdout, proxy, events), daemon=True
            ),
        ]
        for pump in pumps:
            pump.start()

        def wait() -> None:
            code = self._wait(child, lambda: context.is_active())
            for pump in pumps:
                pump.join()
            events.put(("exit", code))

        threading.Thread(target=wait, daemon=True).start()
        try:
            while True:
                kind, payload = events.get()
                if kind == "exit":
                    assert isinstance(payload, int)
                    if payload != 0:
                        yield language_pb2.RunPluginResponse(exitcode=payload)
                    return
                assert isinstance(payload, bytes)
                if kind == "stdout":
                    yield language_pb2.RunPluginResponse(stdout=payload)
                else:
                    yield language_pb2.RunPluginResponse(stderr=payload)
        finally:
            if child.poll() is None:
                child.kill()


def _plugin_arguments(
    request: language_pb2.RunPluginRequest,
    options: PythonOptions,
    toolchain: Toolchain,
    analyzer: bool,
) -> list[str]:
    """Upstream's command line: a pack by ``pulumi.policy`` with its folder last, a bare
    plugin folder by its ``__main__.py``, a buildable package by ``pulumi.run.plugin``."""
    program_dir = request.info.program_directory
    if (options.root / "__main__.py").is_file():
        if analyzer:
            return ["-u", "-m", "pulumi.policy", *request.args, program_dir]
        return [program_dir, *request.args]
    try:
        toolchain.run("-c", "import pulumi.run.plugin")
    except PythonEnvError:
        if analyzer:
            return ["-u", "-m", "pulumi.policy", *request.args, program_dir]
        return [program_dir, *request.args]
    pyproject = options.root / "pyproject.toml"
    name = ""
    if pyproject.is_file():
        name = tomllib.loads(pyproject.read_text()).get("project", {}).get("name", "")
    if not name:
        raise PythonEnvError(
            "plugin is not runnable, it provides neither __main__.py nor a buildable pyproject.toml"
        )
    return ["-m", "pulumi.run.plugin", name, *request.args]


def _policy_env(
    configuration: Any,
) -> dict[str, str]:
    """The variables pulumi-policy reads the stack from (upstream sets the non-empty ones)."""
    if configuration is None:
        return {}
    env = {
        "PULUMI_ORGANIZATION": configuration.organization,
        "PULUMI_PROJECT": configuration.project,
        "PULUMI_STACK": configuration.stack,
        "PULUMI_DRY_RUN": "true" if configuration.dry_run else "false",
    }
    if configuration.config:
        env["PULUMI_CONFIG"] = json.dumps(dict(configuration.config))
    return {k: v for k, v in env.items() if v}


def _pump(stream: Any, kind: str, events: queue.Queue[tuple[str, bytes | int]]) -> None:
    """Copies ``stream`` to ``events`` as chunks arrive."""
    while chunk := os.read(stream.fileno(), 65536):
        events.put((kind, chunk))


def _pump_plugin_stdout(
    stream: Any, proxy: PolicyProxy | None, events: queue.Queue[tuple[str, bytes | int]]
) -> None:
    """A policy pack's first stdout line is its port, for the proxy; the rest is output."""
    if proxy is not None:
        line = stream.readline()
        try:
            proxy.attach(int(line.strip()))
        except ValueError:
            proxy.abort(f"could not read policy pack port (it wrote {line[:200]!r})")
            if line:
                events.put(("stdout", line))
    while chunk := stream.read1(65536):
        events.put(("stdout", chunk))


def _interrupt(child: subprocess.Popen[bytes]) -> None:
    """SIGINT, then SIGKILL if the child is still there after the grace period."""
    if child.poll() is not None:
        return
    try:
        child.send_signal(signal.SIGINT)
        child.wait(timeout=INTERRUPT_GRACE_S)
    except subprocess.TimeoutExpired:
        child.kill()
    except ProcessLookupError:
        pass


def _warn_old_python(toolchain: Toolchain) -> None:
    """Upstream's version check: a warning on stderr (shown by the CLI), never a failure."""
    try:
        parts = tuple(int(p) for p in toolchain.version().split(".")[:2])
    except (PythonEnvError, ValueError) as error:
        print(f"Failed to resolve python version command: {error}", file=sys.stderr)
        return
    if parts < MIN_PYTHON:
        print(
            f"Pulumi does not support Python {'.'.join(map(str, parts))}. Please upgrade to at "
            "least 3.7.0",
            file=sys.stderr,
        )


def _typecheck(toolchain: Toolchain, options: PythonOptions) -> None:
    """Runs the configured type checker on the program first; its errors fail the run."""
    checker = options.typechecker
    if checker not in {name for name, _ in toolchain.list_packages()}:
        raise PythonEnvError(
            f"The typechecker option is set to {checker}, but {checker} is not installed. Please "
            f"add an entry for {checker} to requirements.txt and run "
            f"`{options.virtualenv or 'venv'}/bin/pip install -r requirements.txt`"
        )
    args = ["-m", checker]
    if checker == "mypy" and toolchain.venv is not None:
        args += ["--exclude", os.path.relpath(toolchain.venv, options.program_dir)]
    done = subprocess.run(
        [toolchain.python, *args, str(options.program_dir)],
        cwd=options.program_dir,
        env=toolchain.env(),
        capture_output=True,
        text=True,
        check=False,
    )
    sys.stdout.write(done.stdout)
    sys.stderr.write(done.stderr)
    if done.returncode != 0:
        raise PythonEnvError(
            f"{checker} failed: exit status {done.returncode}\n{done.stdout}{done.stderr}"
        )


def required_packages(toolchain: Toolchain) -> list[plugin_pb2.PackageDependency]:
    """Upstream's rule: a distribution with a ``pulumi-plugin.json`` (unless it says
    ``resource: false``), or named ``pulumi-*``, is a package whose plugin the program needs;
    the file's name/version/server win over the distribution's name and version."""
    listed = [(n, v) for n, v in toolchain.list_packages() if n not in PACKAGES_WITHOUT_PLUGINS]
    manifests = toolchain.plugin_json([n for n, _ in listed])
    packages: list[plugin_pb2.PackageDependency] = []
    for name, version in listed:
        manifest = manifests.get(name)
        if manifest is None and not name.startswith("pulumi-"):
            continue
        manifest = manifest or {"resource": True}
        if not manifest.get("resource"):
            continue
        plugin = manifest.get("name") or name.removeprefix("pulumi-")
        wanted = manifest.get("version") or ""
        if not wanted:
            try:
                wanted = plugin_version(version)
            except ValueError as error:
                log.debug("skipping %s: %s", name, error)
                continue
        parameterization = manifest.get("parameterization")
        packages.append(
            plugin_pb2.PackageDependency(
                name=plugin,
                kind="resource",
                version=wanted if wanted.startswith("v") else f"v{wanted}",
                server=manifest.get("server") or "",
                parameterization=(
                    plugin_pb2.PackageParameterization(
                        name=parameterization.get("name", ""),
                        version=parameterization.get("version", ""),
                        value=_b64(parameterization.get("value", "")),
                    )
                    if parameterization
                    else None
                ),
            )
        )
    return packages


def _b64(value: str) -> bytes:
    """pulumi-plugin.json holds a parameterization's value base64-encoded (Go's []byte)."""
    return base64.b64decode(value) if value else b""


def main(argv: list[str]) -> None:
    """Plugin entry point (``pulumi-language-python``)."""

    def flags(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--use-executor", "-use-executor", dest="use_executor", default="")
        parser.add_argument("--version", "-version", dest="show_version", action="store_true")

    args = _rpc.parse_args(argv, "pulumi-language-python", flags)
    if args.extra.show_version:
        print(VERSION)
        return
    try:
        executor = find_executor(args.extra.use_executor)
    except FileNotFoundError as error:
        sys.exit(str(error))
    host = LanguageHost(executor, args.engine_address, args.tracing)
    _rpc.serve(
        lambda server: language_pb2_grpc.add_LanguageRuntimeServicer_to_server(host, server),
        args.engine_address,
        on_shutdown=host.stop_children,
    )
