"""Reading ``Pulumi.yaml`` and the stack files in ``stacks/`` without the Pulumi CLI, the way
the CLI reads them.

The CLI decodes the file with Go's yaml.v3 and hands the program a string per value: a
string's text, and the JSON of anything else (``infra.plan.cli_yaml``). So an unquoted ``1.30``
arrives as ``1.3`` and ``010`` as ``8``, while ``yes`` stays ``yes``; lists and mappings arrive
as JSON. This reader resolves each scalar by those rules (checked against the real CLI in the
rig, tests/test_rig_stackfiles.py), so ``pdk plan`` and ``pulumi up`` see the same values; the
loader then types them with the CLI's rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from infra.config.keys import misplaced_key
from infra.config.types import OFFLINE_SECRET, PROJECT, ConfigObject
from infra.plan import cli_yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
STACKS_DIR = "stacks"
_NULL_TAG = "tag:yaml.org,2002:null"
_STACK_FILE_KEYS = {"config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment"}
"""Top-level keys of a stack file (``ProjectStack`` in pulumi/pulumi)."""


@dataclass
class StackFileError(Exception):
    """A stack that does not exist, or whose file cannot be read as a stack file."""

    message: str

    def __str__(self) -> str:
        return self.message


def known_stacks(root: Path = REPO_ROOT) -> list[str]:
    """Stack names with a ``stacks/Pulumi.<name>.yaml`` file, sorted."""
    return sorted(
        path.name[len("Pulumi.") : -len(".yaml")]
        for path in (root / STACKS_DIR).glob("Pulumi.*.yaml")
    )


def _kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if isinstance(node, yaml.ScalarNode):
        return f"the text {node.value!r}"
    return "a mapping"


def _value(where: str, key: str, node: yaml.Node) -> tuple[str, bool]:
    """The text Pulumi passes for one value, and whether it is a ``secure:`` value."""
    try:
        document: Any = cli_yaml.decode(node)
        if isinstance(node, yaml.ScalarNode):
            if document is None:
                raise StackFileError(
                    f"{where}: {key} has no value (YAML null), which Pulumi does not pass as "
                    "text. Write '' for an empty value, or remove the line."
                )
            text = cli_yaml.scalar_text(document)
            if node.style is None and text != node.value:
                return cli_yaml.Retyped(text, node.value), False
            return text, False
        if isinstance(document, dict) and set(document) == {"secure"}:
            return OFFLINE_SECRET, True
        return ConfigObject(cli_yaml.go_json(document)), False
    except cli_yaml.Unrepresentable as error:
        raise StackFileError(f"{where}: {key} is {error}") from None


def _config_node(stack: str, root: Path) -> tuple[str, yaml.MappingNode]:
    """The file's name for messages and its ``config:`` mapping; ``StackFileError`` for a file
    Pulumi would refuse (not YAML, not a mapping, no ``config:`` mapping)."""
    path = root / STACKS_DIR / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        known = ", ".join(known_stacks(root)) or "(none)"
        raise StackFileError(
            f"Unknown stack '{stack}'. Known stacks: {known}. "
            f"Create {STACKS_DIR}/Pulumi.{stack}.yaml to add one."
        )
    where = str(path.relative_to(root))
    try:
        document = yaml.compose(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as error:
        # The CLI reads stack files as UTF-8 (yaml.v3 refuses other bytes); a file saved in
        # another encoding (Latin-1, UTF-16 from some Windows editors) must be re-saved.
        raise StackFileError(
            f"{where} is not UTF-8 text (byte 0x{error.object[error.start]:02x} at offset "
            f"{error.start}); Pulumi reads stack files as UTF-8. Save it as UTF-8."
        ) from None
    except yaml.YAMLError as error:
        raise StackFileError(f"{where} is not valid YAML: {error}") from None
    if document is None:
        raise StackFileError(
            f"{where} is empty. A stack file needs a 'config:' mapping with at least "
            f"{PROJECT}:target."
        )
    if not isinstance(document, yaml.MappingNode):
        raise StackFileError(
            f"{where} is {_kind(document)}, not a mapping. A stack file is a mapping with a "
            f"'config:' key, e.g. 'config:' then '  {PROJECT}:target: existing'."
        )
    top = {str(key.value): value for key, value in document.value}
    stray = sorted(key for key in top if key not in _STACK_FILE_KEYS)
    if "config" not in top:
        hint = f" ({', '.join(stray)} sit at the top level)" if stray else ""
        raise StackFileError(
            f"{where} has no 'config:' mapping{hint}. Put the keys under 'config:', e.g. "
            f"'config:' then '  {PROJECT}:target: existing'."
        )
    if stray:
        raise StackFileError(
            f"{where}: {', '.join(stray)} sit at the top level, where Pulumi ignores them. "
            "Move them under 'config:'."
        )
    config = top["config"]
    if isinstance(config, yaml.ScalarNode) and config.tag == _NULL_TAG:
        config = yaml.MappingNode("tag:yaml.org,2002:map", [])
    if not isinstance(config, yaml.MappingNode):
        raise StackFileError(
            f"{where}: 'config' is {_kind(config)}; it must be a mapping of keys, e.g. "
            f"'  {PROJECT}:target: existing'."
        )
    return where, config


def read_stack(stack: str, root: Path = REPO_ROOT) -> tuple[dict[str, str], frozenset[str]]:
    """The stack's own config keys (namespace stripped) and which are ``secure:`` values.

    Secure values cannot be decrypted without the stack's secrets provider, so they are replaced
    by ``OFFLINE_SECRET``. Keys of provider namespaces (``kubernetes:context``) are left out;
    keys that look meant for this project under another namespace (``pdk-deployr:target``) are
    kept with their namespace, so the loader names them. A file Pulumi would refuse (not YAML,
    not a mapping, no ``config:`` mapping, a key twice) raises ``StackFileError`` naming why.
    """
    raw: dict[str, str] = {}
    secret: set[str] = set()
    prefix = f"{PROJECT}:"
    for full_key, (text, is_secret) in stack_values(stack, root).items():
        if ":" in full_key and not full_key.startswith(prefix):
            if not misplaced_key(full_key):
                continue
            key = full_key
        else:
            key = full_key.removeprefix(prefix)
        raw[key] = text
        if is_secret:
            secret.add(key)
    return raw, frozenset(secret)


def stack_values(stack: str, root: Path = REPO_ROOT) -> dict[str, tuple[str, bool]]:
    """Every key of the stack file as written (``namespace:key``), with the text the CLI passes
    the program and whether it is a ``secure:`` value (then ``OFFLINE_SECRET``)."""
    where, config = _config_node(stack, root)
    lines: dict[str, int] = {}
    values: dict[str, tuple[str, bool]] = {}
    for key_node, value_node in config.value:
        full_key = str(key_node.value)
        line = key_node.start_mark.line + 1
        if full_key in lines:
            raise StackFileError(
                f"{where}: {full_key} is set twice (lines {lines[full_key]} and {line}); "
                "Pulumi refuses a stack file with a duplicate key. Keep one."
            )
        lines[full_key] = line
        values[full_key] = _value(where, full_key, value_node)
    return values
