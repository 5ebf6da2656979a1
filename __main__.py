"""Entry point for the Pulumi CLI (`pulumi up`, `pulumi preview`)."""

from infra.program import run

run()
