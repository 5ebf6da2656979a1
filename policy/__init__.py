"""PDK Deployer's policy pack: the rules (``policy.rules``), their CrossGuard wrappers
(``policy.pack``) and the pack's entry point (``policy/__main__.py``)."""
