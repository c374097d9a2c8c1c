"""Config: YAML files in ``config/`` loaded once into typed models.

The names below are imported when first used (pydantic takes 0.2 s to import): a quick
command reads its config's summary (``config.summary``) without them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from auditdocs.config.loader import Config, config_schema, load_config
    from auditdocs.config.models import Domain, Grade, GradingScale, Settings, ToolType

__all__ = [
    "Config",
    "Domain",
    "Grade",
    "GradingScale",
    "Settings",
    "ToolType",
    "config_schema",
    "load_config",
]
_MODULE = {"Config": "loader", "config_schema": "loader", "load_config": "loader"}


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_MODULE.get(name, 'models')}"), name)
