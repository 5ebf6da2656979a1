"""The platform layer: everything installed on top of a target's cluster.

It reads the ``TargetContract`` and the validated config, never the target's name, so every
target gets the same platform: GPU enablement, cert-manager, Istio, Knative Serving, KServe,
the Envoy Gateway edge with its certificates, MLDM with MLDE, and the PDK wiring between them.
``build`` in ``layer.py`` wires the components in dependency order.
"""
