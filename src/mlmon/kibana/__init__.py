"""Kibana dashboards, rules and data views as code: generation, validation, import.

Internal to mlmon: no compatibility promise between releases. The public API is
``mlmon``, ``mlmon.sdk`` (and its processors, sinks), ``mlmon.errors``, ``mlmon.testing``.
"""
