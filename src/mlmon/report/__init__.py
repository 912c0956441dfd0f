"""Trace reports: text, JSON, Markdown and self-contained HTML."""
