"""Code that executes a network: gradient probes (``probes``, ``probe_model``), the effective
receptive field (``effective_rf``) and figures (``plots``). Imported only when asked for.
"""
