"""TTL parsing, CI stack names and the reaper's selection: pure functions, fixed clocks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from infra.ops import expiry

NOW = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4h", timedelta(hours=4)),
        ("90m", timedelta(minutes=90)),
        ("1d12h", timedelta(days=1, hours=12)),
        (" 2H ", timedelta(hours=2)),
        ("7d", timedelta(days=7)),
    ],
)
def test_ttl_parses(text: str, expected: timedelta) -> None:
    assert expiry.parse_ttl(text) == expected


@pytest.mark.parametrize("text", ["", "4", "4x", "h4", "4h 30m", "-1h", "four hours", "4h30"])
def test_ttl_that_does_not_parse_says_how_to_write_one(text: str) -> None:
    with pytest.raises(expiry.ExpiryError, match="does not parse: write a number with a unit"):
        expiry.parse_ttl(text)


@pytest.mark.parametrize("text", ["5m", "14m", "7d1m", "30d"])
def test_ttl_out_of_bounds_is_refused(text: str) -> None:
    with pytest.raises(expiry.ExpiryError, match="allowed: 15m to 7d"):
        expiry.parse_ttl(text)


def test_tags_carry_creation_and_expiry_in_utc() -> None:
    local = NOW.astimezone(__import__("datetime").timezone(timedelta(hours=-5)))
    tags = expiry.CiTags.new("alice", "aws", "ci-aws-1", local, timedelta(hours=4)).as_tags()
    assert tags == {
        "pdk:owner": "alice",
        "pdk:created": "2026-11-25T14:00:00Z",
        "pdk:expires": "2026-11-25T18:00:00Z",
        "pdk:template": "aws",
        "pdk:deployment-id": "ci-aws-1",
        "pdk:ephemeral": "true",
    }
    assert expiry.expiry(tags) == NOW + timedelta(hours=4)


def test_default_name_fits_the_cloud_name_limit() -> None:
    assert expiry.default_name("aws", token="a1b2c3") == "ci-aws-a1b2c3"
    long = expiry.default_name("a-Very_Long.Template-name", token="a1b2c3")
    assert long == "ci-a-very-a1b2c3" and len(long) <= expiry.MAX_NAME_LENGTH
    assert expiry.check_name(long) == long
    assert expiry.check_name(expiry.default_name("aws")).startswith("ci-aws-")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("ci-" + "x" * 15, "has 18 characters; at most 17"),
        ("CI-Upper", "lowercase letters, digits and '-'"),
        ("1-starts-digit", "starting with a letter"),
        ("ends-", "ending with a letter or digit"),
        ("has_underscore", "lowercase letters"),
    ],
)
def test_bad_names_are_refused(name: str, message: str) -> None:
    with pytest.raises(expiry.ExpiryError, match=message):
        expiry.check_name(name)


def _tags(expires: datetime | None, ephemeral: bool = True) -> dict[str, str]:
    tags = {"pdk:ephemeral": "true"} if ephemeral else {}
    if expires is not None:
        tags["pdk:expires"] = expiry.format_time(expires)
    return tags


def test_reaper_selects_expired_ephemeral_stacks_oldest_first_and_caps() -> None:
    stacks = [
        ("fresh", _tags(NOW + timedelta(minutes=1))),
        ("just-expired", _tags(NOW)),
        ("old", _tags(NOW - timedelta(days=2))),
        ("older", _tags(NOW - timedelta(days=3))),
        ("prod", _tags(NOW - timedelta(days=9), ephemeral=False)),
        ("no-expiry", _tags(None)),
        ("garbled", {"pdk:ephemeral": "true", "pdk:expires": "tomorrow"}),
    ]
    selection = expiry.select_expired(stacks, NOW, max_stacks=2)
    assert [c.stack for c in selection.selected] == ["older", "old"]
    assert selection.selected[0].overdue == timedelta(days=3)
    assert [c.stack for c in selection.deferred] == ["just-expired"]
    assert selection.skipped == {
        "fresh": "expires 2026-11-25T14:01:00Z",
        "prod": "not a CI stack (no pdk:ephemeral tag)",
        "no-expiry": "no readable pdk:expires tag",
        "garbled": "no readable pdk:expires tag",
    }


def test_reaper_selects_nothing_before_expiry() -> None:
    selection = expiry.select_expired([("a", _tags(NOW + timedelta(seconds=1)))], NOW, 5)
    assert selection.selected == [] and selection.deferred == []
