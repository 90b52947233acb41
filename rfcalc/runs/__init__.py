"""Code that executes a network: gradient probes (``probes``, ``probe_model``, ``onnx_probe``), the effective
receptive field (``effective_rf``) and figures (``plots``). Importing this package loads no framework.
"""
