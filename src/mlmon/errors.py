"""mlmon's exceptions: one root, each class named for what the caller can do.

::

    MlmonError (exit 1)                 anything mlmon reports to a user
    ├── UsageError (exit 2)             bad arguments, files or configuration
    │   ├── InvalidEventError           an event that cannot be indexed (also a ValueError)
    │   └── ProfileError                a baseline file or stored profile that cannot be used
    └── ClusterError (exit 3)           Elasticsearch cannot do what was asked
        ├── ClusterUnavailable          unreachable, refusing, or unauthorised
        └── ClusterFeatureMissing       the node lacks an API or aggregation mlmon relies on

The CLI prints ``str(error)`` as one line and exits with ``error.exit_code``;
any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations


class MlmonError(Exception):
    """Root of every error mlmon reports to a user."""

    exit_code = 1


class UsageError(MlmonError):
    """The input (arguments, file, configuration) is wrong; fixing it is the user's move."""

    exit_code = 2


class InvalidEventError(UsageError, ValueError):
    """An event that cannot be indexed; the message names the field."""


class ProfileError(UsageError):
    """A baseline file or stored profile that cannot be built or used."""


class ClusterError(MlmonError):
    """Elasticsearch could not do what was asked."""

    exit_code = 3


class ClusterUnavailable(ClusterError):
    """The cluster is unreachable, refuses the connection, or rejects the credentials."""


class ClusterFeatureMissing(ClusterError):
    """The node lacks an API or aggregation mlmon relies on."""
