"""Optional dependencies: each API that needs one says which extra installs it."""

from __future__ import annotations

import importlib
from types import ModuleType

#: module -> the `pip install 'priceguard[...]'` extra that brings it.
EXTRAS = {
    "pandas": "pandas",
    "polars": "polars",
    "pyarrow": "arrow",
    "pyspark": "spark",
    "hypothesis": "testing",
}


def require(module: str, what: str) -> ModuleType:
    """Imports `module` for `what`, or raises an `ImportError` naming the extra."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        extra = EXTRAS[module]
        raise ImportError(
            f"{what} needs {module}, which is not installed: pip install 'priceguard[{extra}]' "
            f"(or pip install {module})",
            name=module,
        ) from e
