"""The public surface: what ``mlmon`` and ``mlmon.sdk`` export, the version, runnable docs."""

from __future__ import annotations

import doctest
import re
from importlib.metadata import version
from pathlib import Path
from types import ModuleType

import pytest

import mlmon
import mlmon.sdk
import mlmon.testing


def public_members(module: ModuleType, *, also: tuple[str, ...] = ()) -> list[str]:
    """Names a module defines or imports for its users (submodules are not members)."""
    names = [
        name
        for name, value in vars(module).items()
        if (not name.startswith("_") and not isinstance(value, ModuleType)) or name in also
    ]
    return sorted([*names, *(n for n in also if n not in names)], key=str.casefold)


@pytest.mark.parametrize(
    ("module", "also"), [(mlmon, ("__version__",)), (mlmon.sdk, ())], ids=["mlmon", "mlmon.sdk"]
)
def test_all_is_exactly_what_the_package_exports(module, also):
    """The names are imported on first use (PEP 562): each one named once, then the
    module holds exactly them."""
    for name in module.__all__:
        assert getattr(module, name) is not None
    assert sorted(module.__all__, key=str.casefold) == public_members(module, also=also)


def test_the_exported_names_are_the_documented_ones():
    """A name added or removed is a decision: this list changes with it."""
    assert mlmon.__all__ == [
        "ClusterError",
        "ClusterFeatureMissing",
        "ClusterUnavailable",
        "InvalidEventError",
        "MlmonError",
        "PredictionLogger",
        "ProfileError",
        "UsageError",
        "__version__",
    ]
    assert mlmon.sdk.__all__ == [
        "ElasticsearchSink",
        "EventKind",
        "FluentdSink",
        "ModelStamper",
        "PredictionId",
        "PredictionLogger",
        "Redact",
        "SinkError",
        "StdoutSink",
        "TimeStamper",
        "Validate",
        "sink_from_url",
    ]


def test_version_comes_from_the_package_metadata_written_once():
    assert mlmon.__version__ == version("mlmon")
    pyproject = Path(__file__).parents[2] / "pyproject.toml"
    assert re.search(rf'^version = "{re.escape(mlmon.__version__)}"$', pyproject.read_text(), re.M)
    source = Path(mlmon.__file__).read_text()
    assert mlmon.__version__ not in source  # not written a second time
    with pytest.raises(AttributeError):
        mlmon.no_such_name  # noqa: B018


def test_the_testing_modules_example_runs():
    result = doctest.testmod(mlmon.testing, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 5 and result.failed == 0


PUBLIC_MODULES = (
    "mlmon",
    "mlmon.errors",
    "mlmon.sdk",
    "mlmon.sdk.processors",
    "mlmon.sdk.sinks",
    "mlmon.testing",
)


def test_every_other_module_is_private_or_in_a_package_marked_internal():
    """A module a user could mistake for API either starts with ``_`` or lives in a
    package whose docstring says it is internal."""
    import pkgutil

    for found in pkgutil.walk_packages(mlmon.__path__, prefix="mlmon."):
        name = found.name
        if name in PUBLIC_MODULES or name == "mlmon.__main__":
            continue
        parts = name.split(".")
        if any(part.startswith("_") for part in parts[1:]):
            continue
        package = __import__(".".join(parts[:2]), fromlist=["_"])
        assert "Internal to mlmon" in (package.__doc__ or ""), name


def test_the_readme_imports_only_the_public_modules():
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    imported = set()
    for block in re.findall(r"```python\n(.*?)```", readme, flags=re.S):
        imported.update(re.findall(r"^\s*(?:from|import) (mlmon[\w.]*)", block, flags=re.M))
    assert imported and imported <= set(PUBLIC_MODULES), imported
