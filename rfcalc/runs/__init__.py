"""Code that executes a network: gradient probes (``probes``, ``probe_model``), the ERF (``effective_rf``)
and figures (``plots``). Importing this package loads no framework.
"""
