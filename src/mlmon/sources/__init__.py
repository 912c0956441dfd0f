"""Where traffic is read from: Elasticsearch aggregations, or a file of events.

Internal to mlmon: no compatibility promise between releases. The public API is
``mlmon``, ``mlmon.sdk`` (and its processors, sinks), ``mlmon.errors``, ``mlmon.testing``.
"""
