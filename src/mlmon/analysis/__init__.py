"""Pure analysis: metrics, slices, drift, data quality and root causes.

Nothing here talks to Elasticsearch or files: every function takes counts
(aggregation answers) and returns numbers, so the same code serves the
Elasticsearch backend, the pandas backend and the tests.

Internal to mlmon: no compatibility promise between releases. The public API is
``mlmon``, ``mlmon.sdk`` (and its processors, sinks), ``mlmon.errors``, ``mlmon.testing``.
"""
