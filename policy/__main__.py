"""Entry point of the CrossGuard pack: `pulumi preview --policy-pack policy` runs this file.

Constructing ``PolicyPack`` starts the analyzer server (it does not return), so nothing imports
this module; the rules and policies live in ``policy.rules`` and ``policy.pack``.
"""

import sys
from pathlib import Path

# Pulumi runs the pack from this folder; the rules are imported as the `policy` package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import PolicyPack

from policy.pack import PACK_NAME, policies

PolicyPack(name=PACK_NAME, policies=policies())
