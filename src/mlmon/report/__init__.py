"""Trace reports: text, JSON, Markdown and self-contained HTML.

Internal to mlmon: no compatibility promise between releases. The public API is
``mlmon``, ``mlmon.sdk`` (and its processors, sinks), ``mlmon.errors``, ``mlmon.testing``.
"""

FORMATS = ("text", "json", "md", "html")  # here, so the CLI can list them cheaply
