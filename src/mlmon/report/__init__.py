"""Trace reports: text, JSON, Markdown and self-contained HTML."""

FORMATS = ("text", "json", "md", "html")  # here, so the CLI can list them cheaply
