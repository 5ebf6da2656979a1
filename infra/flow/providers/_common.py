"""What the MLDM and MLDE dynamic providers share: diffs, option merging, error wording.

Pulumi pickles each provider instance (with dill) into the resource's state and unpickles it in
a separate provider process, so providers hold no clients, sessions or locks: only an optional
client factory, which is ``None`` outside tests (a module-level default is looked up on use).
Clients are opened per call, from the connection inputs stored with each resource.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi.dynamic

TYPE_MODULE = "pdk"
"""Dynamic resources' type tokens are ``pulumi-python:dynamic/pdk:<Name>``; Pulumi fixes the
``pulumi-python:dynamic`` part."""
ADOPTED = "adopted"
"""Output: whether the object existed before this resource created it. Adopted objects are left
in place on delete."""


def diff(
    olds: Mapping[str, Any],
    news: Mapping[str, Any],
    replace_keys: Sequence[str],
    update_keys: Sequence[str],
) -> pulumi.dynamic.DiffResult:
    """A change to a ``replace_keys`` input (an object's identity: its name, its parent) replaces
    the object; a change to an ``update_keys`` input updates it in place."""
    replaces = [key for key in replace_keys if olds.get(key) != news.get(key)]
    updates = [key for key in update_keys if olds.get(key) != news.get(key)]
    return pulumi.dynamic.DiffResult(
        changes=bool(replaces or updates),
        replaces=replaces,
        stables=[],
        # The new object has a different name, so it can exist beside the old one until the
        # engine deletes the old one (create-before-delete, Pulumi's default).
        delete_before_replace=False,
    )


def inputs(props: Mapping[str, Any]) -> dict[str, Any]:
    """``props`` without Pulumi's private keys (``__provider``), to return as outputs."""
    return {key: value for key, value in props.items() if not key.startswith("__")}


def with_secret_outputs(
    opts: pulumi.ResourceOptions | None, secrets: Sequence[str]
) -> pulumi.ResourceOptions:
    """``opts`` with ``secrets`` marked secret in the stored state: a dynamic provider's outputs
    are stored in plain text unless the resource lists them."""
    return pulumi.ResourceOptions.merge(
        opts, pulumi.ResourceOptions(additional_secret_outputs=list(secrets))
    )


def unreachable(system: str, address: str, error: Exception) -> RuntimeError:
    """The error for a connection failure, saying what to check."""
    return RuntimeError(
        f"could not reach {system} at {address} ({error}); the machine running `pulumi` "
        "must reach it: check that the platform is up and the address is reachable from here "
        "(or port-forward the service and connect through localhost), then run it again"
    )
