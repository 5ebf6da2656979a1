"""Code that runs inside images the stack does not build, checked against the Python those
images have (``infra/versions.py``): each example's trial code and startup-hook packages
against the MLDE task image's Python, and the files packed into each model archive against the
serving runtime's Python. Minimum versions come from vermin's analysis of the source."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from infra import versions
from pdk_assets.manifest import EXAMPLES_DIR, MANIFEST_FILE, load_manifest
from pdk_assets.serving import HANDLER_BASE

PDK_ASSETS_DIR = HANDLER_BASE.parent

EXAMPLES = sorted(path.parent.name for path in EXAMPLES_DIR.glob(f"*/{MANIFEST_FILE}"))
TASK_PYTHON = versions.MLDE_GPU_IMAGE.extra["python"]
RUNTIME_PYTHON = versions.TORCHSERVE_RUNTIME.extra["python"]


def minimum_python(files: list[Path]) -> str:
    """The newest Python minimum vermin finds in ``files`` (MAJOR.MINOR)."""
    result = subprocess.run(
        [str(Path(sys.executable).parent / "vermin"), "--no-tips", "--eval-annotations",
         "--violations", "-t=3.0-", *map(str, files)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    found = re.search(r"Minimum required versions: ([0-9.]+)", result.stdout)
    assert found, result.stdout + result.stderr
    return found[1]


def test_task_images_share_one_python() -> None:
    assert versions.MLDE_CPU_IMAGE.extra["python"] == TASK_PYTHON


@pytest.mark.parametrize("example", EXAMPLES)
def test_trial_code_runs_on_the_task_image_python(example: str) -> None:
    files = sorted((EXAMPLES_DIR / example / "experiment").glob("*.py"))
    assert files
    # The pdk_assets modules the trial imports travel with it (the train container uploads
    # the package) and run on the same Python.
    imported = {
        name
        for path in files
        for name in re.findall(r"^from pdk_assets\.(\w+) import", path.read_text(), re.M)
    }
    files += [PDK_ASSETS_DIR / f"{name}.py" for name in sorted(imported)]
    needed = minimum_python(files)
    assert Version(needed) <= Version(TASK_PYTHON), (
        f"{example}'s trial code needs Python {needed}; the task image has {TASK_PYTHON}"
    )


def test_vermin_sees_runtime_subscripts(tmp_path: Path) -> None:
    """Guards the check: ``tuple[int, str]`` evaluated at runtime needs 3.9, the failure the
    Python 3.8 task images had."""
    probe = tmp_path / "probe.py"
    probe.write_text("Pair = tuple[int, str]\n")
    assert Version(minimum_python([probe])) >= Version("3.9")


def _hook_pins(example: str) -> list[str]:
    hook = (EXAMPLES_DIR / example / "experiment" / "startup-hook.sh").read_text()
    return re.findall(r"\b([A-Za-z0-9_.-]+==[0-9][^\s]*)", hook)


@pytest.mark.parametrize("example", EXAMPLES)
def test_startup_hook_packages_install_on_the_task_image_python(example: str) -> None:
    pins = _hook_pins(example)
    assert pins, f"{example}: no pinned package in the startup hook"
    for pin in pins:
        assert pin in versions.STARTUP_HOOK_REQUIRES_PYTHON, (
            f"{example}: record {pin}'s Requires-Python in infra/versions.py"
        )
        spec = SpecifierSet(versions.STARTUP_HOOK_REQUIRES_PYTHON[pin])
        assert Version(TASK_PYTHON) in spec, f"{pin} needs Python {spec}, image has {TASK_PYTHON}"


@pytest.mark.parametrize("pin", sorted(versions.STARTUP_HOOK_REQUIRES_PYTHON))
def test_recorded_requires_python_matches_installed_metadata(pin: str) -> None:
    name, version = pin.split("==")
    try:
        installed = importlib.metadata.metadata(name)
    except importlib.metadata.PackageNotFoundError:
        pytest.skip(f"{name} is not installed here")
    if installed["Version"] != version:
        pytest.skip(f"{name} {installed['Version']} is installed, not {version}")
    assert installed["Requires-Python"] == versions.STARTUP_HOOK_REQUIRES_PYTHON[pin]


def test_pachyderm_client_in_hooks_is_the_matrix_client() -> None:
    for example in EXAMPLES:
        assert f"pachyderm-sdk=={versions.PACHYDERM_SDK.version}" in _hook_pins(example)


@pytest.mark.parametrize("example", EXAMPLES)
def test_model_archive_code_runs_on_the_runtime_python(example: str) -> None:
    manifest = load_manifest(EXAMPLES_DIR / example)
    files = [HANDLER_BASE, EXAMPLES_DIR / example / "handler.py"]
    files += [EXAMPLES_DIR / example / name for name in manifest.serving.extra_files]
    needed = minimum_python(files)
    assert Version(needed) <= Version(RUNTIME_PYTHON), (
        f"{example}'s handler files need Python {needed}; the runtime image has {RUNTIME_PYTHON}"
    )
