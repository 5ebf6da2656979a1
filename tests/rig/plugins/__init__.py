"""Stand-ins for the three Pulumi plugins the rig cannot build from Go modules.

The Go module proxy this project can reach refuses ``pulumi-language-python`` (the Python
language host, a separate Go module under ``sdk/python/cmd``) and the ``pulumi-random`` and
``pulumi-tls`` providers. The real Pulumi CLI still finds plugins on ``PATH`` ("ambient"
plugins, preferred over ``~/.pulumi/plugins``), so these small Python servers stand in for them:

- ``pulumi-language-python`` (``language_host.py``): runs the program with upstream's own exec
  script and passes what upstream's Go host passes; runs Python policy packs (``policy_proxy.py``).
- ``pulumi-resource-random`` (``random_provider.py``): ``RandomPassword`` and ``RandomId``.
- ``pulumi-resource-tls`` (``tls_provider.py``): ``PrivateKey`` and ``SelfSignedCert``.

Each executable is a bash wrapper that runs ``_launch.py`` with the repository's ``.venv``
(created by ``make``), so a fresh clone needs no extra step.
"""
