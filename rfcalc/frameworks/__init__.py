"""Readers and writers of models: each adapter imports its framework lazily, inside its functions.

``keras`` (``from_keras``, ``analyze_source``), ``keras_layers`` (one Keras layer call in),
``keras_out`` (``to_keras``). Importing this package loads no framework.
"""
