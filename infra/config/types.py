"""The project namespace, and what every config model and raw value is built on."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

PROJECT = "pdk-deployer"
"""The Pulumi project name, and so the namespace of every config key (``pdk-deployer:target``)."""

OFFLINE_SECRET = "[secret: not decrypted offline]"
"""Stands in for a ``secure:`` config value when a stack file is read without Pulumi's
decryption (``pdk plan``); checks that need the plaintext skip such values."""


class ConfigObject(str):
    """A value the stack file gives as a list or mapping, as Pulumi passes it: its JSON text.
    Every declared key is a scalar, so the loader refuses it, as the Pulumi CLI does."""


class Model(BaseModel):
    """Base of every config group: unknown fields are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)
