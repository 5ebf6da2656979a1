"""The Python a program or policy pack runs with, chosen as upstream's pip toolchain chooses it
(sdk/python/toolchain/pip.go and toolchain.go, v3.276.0).

``virtualenv`` in the runtime options names a virtualenv relative to the project root; without
it, ``python3`` (or ``PULUMI_PYTHON_CMD``) from ``PATH`` is used. Commands run "activated": the
virtualenv's ``bin`` first on ``PATH``, ``VIRTUAL_ENV`` set, ``PYTHONHOME`` dropped. Unlike
upstream, nothing is ever installed: the rig's virtualenvs are made by ``make``, so a missing
one is an error that says how to make it. The uv and poetry toolchains are not supported.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TOOLCHAINS = ("pip", "poetry", "uv")
TYPECHECKERS = ("mypy", "pyright")

_PLUGIN_JSON = r"""
import importlib.metadata, importlib.util, json, os, sys
found = {}
for name in sys.argv[1:]:
    found[name] = None
    try:
        top = importlib.metadata.distribution(name).metadata["Name"].replace("-", "_")
        spec = importlib.util.find_spec(top)
    except Exception:
        continue
    for folder in list(spec.submodule_search_locations or []) if spec else []:
        path = os.path.join(str(folder), "pulumi-plugin.json")
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as handle:
                found[name] = handle.read()
            break
print(json.dumps(found))
"""
"""Run by the environment's Python: each distribution's ``pulumi-plugin.json`` (the file next
to its top-level package's ``__init__``), or null."""


class PythonEnvError(Exception):
    """The configured Python environment is missing or unusable; the message says what to do."""


@dataclass(frozen=True)
class PythonOptions:
    """The ``runtime.options`` of a Pulumi.yaml or PulumiPolicy.yaml, resolved."""

    root: Path
    """Folder of the Pulumi.yaml (or PulumiPolicy.yaml): relative virtualenvs start here."""
    program_dir: Path
    """Folder of the program (lock files are searched from here up)."""
    virtualenv: str
    """The ``virtualenv`` option as written; empty: the ambient Python."""
    toolchain: str
    """pip (``auto`` resolves to pip here)."""
    typechecker: str
    """mypy, pyright or empty: run before the program, which fails if it reports errors."""


def parse_options(
    root: str, program_dir: str, options: Mapping[str, Any], is_plugin: bool
) -> PythonOptions:
    """Upstream's parseOptions: validates the options; a plugin (not a policy pack) with no
    virtualenv gets ``venv``, since plugins never run on the ambient Python."""
    virtualenv = options.get("virtualenv", "")
    if not isinstance(virtualenv, str):
        raise ValueError("virtualenv option must be a string")
    typechecker = options.get("typechecker", "")
    if not isinstance(typechecker, str):
        raise ValueError("typechecker option must be a string")
    if typechecker and typechecker not in TYPECHECKERS:
        raise ValueError(f"unsupported typechecker option: {typechecker}")
    toolchain = options.get("toolchain", "auto")
    if not isinstance(toolchain, str):
        raise ValueError("toolchain option must be a string")
    if toolchain != "auto" and toolchain not in TOOLCHAINS:
        raise ValueError(f"unsupported toolchain option: {toolchain}")
    if is_plugin and toolchain in ("pip", "auto") and not virtualenv:
        virtualenv = "venv"
    return PythonOptions(Path(root), Path(program_dir), virtualenv, toolchain, typechecker)


def _search_up(start: Path, name: str) -> bool:
    return any((folder / name).exists() for folder in (start, *start.parents))


@dataclass(frozen=True)
class Toolchain:
    """The pip toolchain for one set of options."""

    options: PythonOptions

    @classmethod
    def resolve(cls, options: PythonOptions) -> Toolchain:
        """The toolchain, or an error for the ones this stand-in does not implement."""
        chosen = options.toolchain
        if chosen == "auto":
            for lock, name in (("uv.lock", "uv"), ("poetry.lock", "poetry")):
                if _search_up(options.program_dir, lock):
                    chosen = name
                    break
            else:
                chosen = "pip"
        if chosen != "pip":
            raise PythonEnvError(
                f"the rig's Python language host supports the pip toolchain only, not {chosen} "
                "(tests/rig/plugins/python_env.py); set `toolchain: pip` in the runtime options"
            )
        return cls(options)

    @property
    def venv(self) -> Path | None:
        """Absolute path of the virtualenv, None for the ambient Python."""
        if not self.options.virtualenv:
            return None
        path = Path(self.options.virtualenv)
        return path if path.is_absolute() else self.options.root / path

    @property
    def python(self) -> str:
        """The interpreter: the virtualenv's, else PULUMI_PYTHON_CMD, python3 or python."""
        if self.venv is not None:
            return str(self.venv / "bin" / "python")
        wanted = (
            [os.environ["PULUMI_PYTHON_CMD"]]
            if os.environ.get("PULUMI_PYTHON_CMD")
            else [
                "python3",
                "python",
            ]
        )
        for name in wanted:
            found = shutil.which(name)
            if found:
                return found
        raise PythonEnvError(
            f"failed to locate any of {wanted} on your PATH. Have you installed Python 3.10 or "
            "greater?"
        )

    def is_venv(self) -> bool:
        """Whether the virtualenv has a Python (upstream's IsVirtualEnv)."""
        return self.venv is not None and (self.venv / "bin" / "python").is_file()

    def validate(self) -> None:
        """Fails, saying how to make it, when the named virtualenv is not there."""
        if self.venv is None or self.is_venv():
            return
        state = "doesn't exist" if not self.venv.exists() else "doesn't appear to be a virtualenv"
        raise PythonEnvError(
            f"The 'virtualenv' option is set to {self.options.virtualenv!r}, but "
            f"{str(self.venv)!r} {state}. The rig's language host does not install anything: "
            f"create it with `python3 -m venv {self.venv}` and `{self.venv}/bin/python -m pip "
            f"install -r {self.options.root}/requirements.txt` (this repository's .venv: `make`)."
        )

    def env(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """``base`` (default: this process's environment) activated for the virtualenv."""
        env = dict(os.environ if base is None else base)
        if self.venv is None:
            return env
        env.pop("PYTHONHOME", None)
        env["PATH"] = os.pathsep.join(filter(None, [str(self.venv / "bin"), env.get("PATH")]))
        env["VIRTUAL_ENV"] = str(self.venv)
        return env

    def run(self, *args: str, timeout: float = 120.0) -> str:
        """Runs the interpreter with ``args`` and returns its stdout; fails with its stderr."""
        done = subprocess.run(
            [self.python, *args],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise PythonEnvError(
                f"calling `{self.python} {' '.join(args[:3])}` failed ({done.returncode}): "
                f"{done.stderr.strip()}"
            )
        return done.stdout

    def list_packages(self, transitive: bool = True) -> list[tuple[str, str]]:
        """Installed distributions (normalized name, version), as ``pip list`` reports them;
        only those nothing else requires when not ``transitive``."""
        args = ["-m", "pip", "list", "--format", "json", "--disable-pip-version-check"]
        if not transitive:
            args.append("--not-required")
        listed = json.loads(self.run(*args))
        return [(normalize(p["name"]), p["version"]) for p in listed]

    def plugin_json(self, names: list[str]) -> dict[str, dict[str, Any] | None]:
        """Each distribution's parsed ``pulumi-plugin.json``, or None."""
        if not names:
            return {}
        raw: dict[str, str | None] = json.loads(self.run("-c", _PLUGIN_JSON, *names))
        return {k: json.loads(v) if v else None for k, v in raw.items()}

    def version(self) -> str:
        """``X.Y.Z`` of the interpreter."""
        return self.run("--version").strip().removeprefix("Python ").strip()


def normalize(name: str) -> str:
    """PEP 503 normalized distribution name (upstream's normalizePythonPackageName)."""
    return re.sub(r"[-_.]+", "-", name.lower())


def plugin_version(version: str) -> str:
    """A PEP 440 version as the plugin's semver (upstream's determinePluginVersion): at least
    three numbers, ``aN``/``bN``/``rcN`` as ``-alpha.N``/``-beta.N``/``-rc.N``, ``.postN`` and
    ``.devN`` as build metadata. Raises ValueError for what it cannot translate (epochs,
    local versions), as upstream does; the package then has no plugin."""
    match = re.fullmatch(
        r"(?P<nums>\d+(?:\.\d+)*)(?:(?P<pre>a|b|rc)(?P<pren>\d*))?"
        r"(?:\.post(?P<post>\d*))?(?:\.dev(?P<dev>\d*))?",
        version,
    )
    if match is None:
        raise ValueError(f"cannot translate package version {version!r} to a plugin version")
    nums = match["nums"].split(".")
    nums += ["0"] * (3 - len(nums))
    result = ".".join(nums)
    if match["pre"]:
        result += {"a": "-alpha.", "b": "-beta.", "rc": "-rc."}[match["pre"]] + match["pren"]
    build = ""
    if match["post"] is not None:
        build += f"post{match['post']}"
    if match["dev"] is not None:
        build += f"dev{match['dev']}"
    return result + (f"+{build}" if build else "")
