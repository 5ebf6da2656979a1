"""Entry point the bash wrappers run: ``python -I _launch.py <module> <plugin arguments...>``.

The wrappers run Python isolated (``-I``) so an ambient ``PYTHONPATH`` cannot change the
plugin itself (the program and policy packs it starts still get the environment unchanged).
Isolation also drops this folder from ``sys.path``; putting its parent back lets the modules
import each other relatively, as ``plugins.<module>``, the same code the tests import as
``tests.rig.plugins.<module>``.
"""

import importlib
import sys
from pathlib import Path

MODULES = ("language_host", "random_provider", "tls_provider")


def main() -> None:
    """Imports the plugin module named by the first argument and runs its ``main``."""
    if len(sys.argv) < 2 or sys.argv[1] not in MODULES:
        sys.exit(f"usage: _launch.py {{{','.join(MODULES)}}} [plugin arguments...]")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    module = importlib.import_module(f"plugins.{sys.argv[1]}")
    module.main(sys.argv[2:])


if __name__ == "__main__":
    main()
