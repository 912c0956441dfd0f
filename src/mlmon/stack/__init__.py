"""A local Elasticsearch without Docker, for development, tests, demo and CI.

Internal to mlmon: no compatibility promise between releases. The public API is
``mlmon``, ``mlmon.sdk`` (and its processors, sinks), ``mlmon.errors``, ``mlmon.testing``.
"""

from mlmon.stack.distribution import ES_VERSION, StackError
from mlmon.stack.layout import default_stack_dir
from mlmon.stack.node import NodeStatus, down, status, up

__all__ = ["ES_VERSION", "NodeStatus", "StackError", "default_stack_dir", "down", "status", "up"]
