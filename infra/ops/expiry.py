"""Names, tags and expiry of throwaway stacks, as pure functions (no backend, no clock).

A CI stack carries its lifecycle in Pulumi stack tags, which self-managed backends store too
since CLI v3.211 (pulumi/pulumi#19882): who made it, when, when it expires, which template it
came from and its deployment id. The reaper reads nothing else.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

TAG_PREFIX = "pdk"
OWNER_TAG = f"{TAG_PREFIX}:owner"
CREATED_TAG = f"{TAG_PREFIX}:created"
EXPIRES_TAG = f"{TAG_PREFIX}:expires"
TEMPLATE_TAG = f"{TAG_PREFIX}:template"
DEPLOYMENT_TAG = f"{TAG_PREFIX}:deployment-id"
EPHEMERAL_TAG = f"{TAG_PREFIX}:ephemeral"

DEFAULT_TTL = "4h"
MIN_TTL = timedelta(minutes=15)
"""Shorter than a cluster takes to come up (EKS alone is ~10 minutes)."""
MAX_TTL = timedelta(days=7)
"""A throwaway stack living longer than a week is a forgotten one."""

MAX_NAME_LENGTH = 17
"""The stack name is the deployment id, which goes into cloud-side names as
``pdk-<id>-<role>``. The tightest limit among them is a GCP service-account id (at most 30
characters, ``pdk-<id>-sqlproxy``: the GCP target's own rule allows 17); AWS's tightest (a
63-character bucket name with the ``-mlde-checkpoints`` role) leaves 42."""

_TTL_PART = re.compile(r"(\d+)([mhd])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}
_NAME = re.compile(r"[a-z]([a-z0-9-]*[a-z0-9])?")
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class ExpiryError(ValueError):
    """A TTL, name or tag value that cannot be used."""


def parse_ttl(text: str) -> timedelta:
    """``"90m"``, ``"4h"``, ``"1d12h"`` -> a duration between ``MIN_TTL`` and ``MAX_TTL``."""
    cleaned = text.strip().lower()
    parts = _TTL_PART.findall(cleaned)
    if not parts or "".join(f"{n}{u}" for n, u in parts) != cleaned:
        raise ExpiryError(
            f"TTL '{text}' does not parse: write a number with a unit, m (minutes), h (hours) "
            "or d (days), e.g. 90m, 4h, 1d12h"
        )
    ttl = sum((timedelta(**{_UNITS[unit]: int(number)}) for number, unit in parts), timedelta())
    if not MIN_TTL <= ttl <= MAX_TTL:
        raise ExpiryError(
            f"TTL '{text}' is {ttl}; allowed: {_short(MIN_TTL)} to {_short(MAX_TTL)} "
            "(a cluster needs more than 15 minutes to come up; longer than a week is not "
            "throwaway)"
        )
    return ttl


def _short(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes % (24 * 60) == 0:
        return f"{minutes // (24 * 60)}d"
    return f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}m"


def format_time(moment: datetime) -> str:
    """UTC, second precision, ISO 8601 with ``Z``: sorts as text and parses everywhere."""
    return moment.astimezone(UTC).strftime(_TIME_FORMAT)


def parse_time(text: str) -> datetime:
    try:
        return datetime.strptime(text, _TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise ExpiryError(f"'{text}' is not a UTC time like 2026-11-25T14:00:00Z") from None


def check_name(name: str) -> str:
    """A CI stack name is also its deployment id: a lowercase DNS label of at most
    ``MAX_NAME_LENGTH`` characters."""
    if len(name) > MAX_NAME_LENGTH:
        raise ExpiryError(
            f"stack name '{name}' has {len(name)} characters; at most {MAX_NAME_LENGTH} fit "
            "into cloud resource names (pdk-<name>-<role>; GCP service account ids allow 30)"
        )
    if not _NAME.fullmatch(name):
        raise ExpiryError(
            f"stack name '{name}' must be lowercase letters, digits and '-', starting with a "
            "letter and ending with a letter or digit (it becomes part of DNS and bucket names)"
        )
    return name


def default_name(template: str, token: str | None = None) -> str:
    """``ci-<template>-<6 hex>``, the template cut so the whole fits ``MAX_NAME_LENGTH``."""
    suffix = token or secrets.token_hex(3)
    room = MAX_NAME_LENGTH - len("ci--") - len(suffix)
    stem = re.sub(r"[^a-z0-9-]", "-", template.lower())[:room].strip("-") or "stack"
    return f"ci-{stem}-{suffix}"


@dataclass(frozen=True)
class CiTags:
    """The lifecycle tags of one throwaway stack."""

    owner: str
    """Who asked for it: the CI actor or the local user."""
    created: datetime
    expires: datetime
    template: str
    """The stack whose config it copied."""
    deployment_id: str
    """The id every resource of the stack is tagged with (the leak query's key)."""

    @classmethod
    def new(
        cls, owner: str, template: str, deployment_id: str, now: datetime, ttl: timedelta
    ) -> CiTags:
        created = now.astimezone(UTC).replace(microsecond=0)
        return cls(owner, created, created + ttl, template, deployment_id)

    def as_tags(self) -> dict[str, str]:
        return {
            OWNER_TAG: self.owner,
            CREATED_TAG: format_time(self.created),
            EXPIRES_TAG: format_time(self.expires),
            TEMPLATE_TAG: self.template,
            DEPLOYMENT_TAG: self.deployment_id,
            EPHEMERAL_TAG: "true",
        }


def is_ephemeral(tags: Mapping[str, str]) -> bool:
    """Only stacks ``pdk ci up`` made carry this tag; nothing else is reaped or taken down
    without ``--force``."""
    return tags.get(EPHEMERAL_TAG) == "true"


def expiry(tags: Mapping[str, str]) -> datetime | None:
    """When the stack expires; None if it has no (readable) expiry tag."""
    value = tags.get(EXPIRES_TAG)
    if value is None:
        return None
    try:
        return parse_time(value)
    except ExpiryError:
        return None


@dataclass(frozen=True)
class ReapCandidate:
    stack: str
    expires: datetime
    overdue: timedelta


@dataclass(frozen=True)
class ReapSelection:
    """What one reaper run does: ``selected`` now, ``deferred`` to later runs (the cap), and
    ``skipped`` with the reason (not ephemeral, no expiry, not yet expired)."""

    selected: list[ReapCandidate]
    deferred: list[ReapCandidate]
    skipped: dict[str, str]


def select_expired(
    stacks: Iterable[tuple[str, Mapping[str, str]]], now: datetime, max_stacks: int
) -> ReapSelection:
    """Expired ephemeral stacks, the longest overdue first, at most ``max_stacks`` of them."""
    expired: list[ReapCandidate] = []
    skipped: dict[str, str] = {}
    for name, tags in stacks:
        if not is_ephemeral(tags):
            skipped[name] = "not a CI stack (no pdk:ephemeral tag)"
            continue
        expires = expiry(tags)
        if expires is None:
            skipped[name] = f"no readable {EXPIRES_TAG} tag"
        elif expires > now:
            skipped[name] = f"expires {format_time(expires)}"
        else:
            expired.append(ReapCandidate(name, expires, now - expires))
    expired.sort(key=lambda c: (c.expires, c.stack))
    return ReapSelection(expired[:max_stacks], expired[max_stacks:], skipped)
