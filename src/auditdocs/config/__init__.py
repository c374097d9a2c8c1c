"""Config: YAML files in ``config/`` loaded once into typed models."""

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
