"""The stack configuration, read once and validated before anything is registered: ``types``,
``stack`` (``StackConfig``: the keys every stack has; the rules every stack runs), ``keys`` (the
flat key table), ``load`` (``load_config``), ``problems`` (the error report), ``rules`` (the rules
engine). Groups live next to what they configure (``infra/platform/config.py``,
``infra/flow/config.py``, ``infra/targets/<target>/config.py``) and import this package, so it
re-exports nothing: import from its modules."""
