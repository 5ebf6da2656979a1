"""``infra.plan.cli_yaml``: stack-file scalars as the Pulumi CLI passes them to the program.

The expected texts are what the real CLI v3.276.0 passed a program in the rig on 2026-12-07
(tests/test_rig_stackfiles.py re-checks them, and more, against the live CLI on every CI run);
these fast tests pin the rules without the rig.
"""

from __future__ import annotations

import pytest
import yaml

from infra.plan import cli_yaml


@pytest.mark.parametrize(
    ("written", "passed"),
    [
        ("1.30", "1.3"),
        ("1.0", "1"),
        ("2e1", "20"),
        ("+2", "2"),
        ("02", "2"),
        ("010", "8"),
        ("0x10", "16"),
        ("1_0", "10"),
        ("yes", "yes"),
        ("on", "on"),
        ("True", "true"),
        ("'1.30'", "1.30"),
        ('"010"', "010"),
        ("1.2.3", "1.2.3"),
        ("1e21", "1e+21"),
        ("1e-7", "1e-7"),
        ("0.000001", "0.000001"),
        ("2026-12-07", "2026-12-07 00:00:00 +0000 UTC"),
    ],
)
def test_scalar_reaches_the_program_as_the_cli_passes_it(written: str, passed: str) -> None:
    node = yaml.compose(f"k: {written}").value[0][1]
    assert cli_yaml.scalar_text(cli_yaml.decode(node)) == passed


def test_lists_and_mappings_are_go_json_with_sorted_keys() -> None:
    node = yaml.compose("k: {b: [1.30, yes], a: 0x10}").value[0][1]
    assert cli_yaml.go_json(cli_yaml.decode(node)) == '{"a":16,"b":[1.3,"yes"]}'


@pytest.mark.parametrize("written", [".nan", ".inf", "2026-12-07T10:00:00Z"])
def test_values_without_a_text_form_are_refused(written: str) -> None:
    node = yaml.compose(f"k: {written}").value[0][1]
    with pytest.raises(cli_yaml.Unrepresentable):
        cli_yaml.scalar_text(cli_yaml.decode(node))
