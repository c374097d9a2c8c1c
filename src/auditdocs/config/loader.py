"""Load ``config/*.yaml`` into typed models; errors name the file and the key path.

``organisation.yaml`` holds the organisation, grading scale, deadlines and plan rules;
every other ``*.yaml`` file in the folder is one audit tool type.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from auditdocs.config.models import Settings, ToolType
from auditdocs.errors import ConfigError
from auditdocs.files import display

SETTINGS_FILE = "organisation.yaml"
#: The parts of organisation.yaml that shape a form (validation rules, e-mail and
#: import settings do not, so changing them does not change the config version).
FORM_SETTINGS = {"organisation", "grading", "deadlines", "improvement_plan"}


@dataclass(frozen=True)
class Config:
    """The whole config, validated."""

    folder: Path
    settings: Settings
    tools: dict[str, ToolType]

    def tool(self, tool_id: str) -> ToolType:
        try:
            return self.tools[tool_id]
        except KeyError:
            known = ", ".join(sorted(self.tools))
            raise ConfigError(f"{self.folder}: no audit tool type {tool_id!r} (configured: {known})") from None

    def version(self, tool_id: str) -> str:
        """A short hash of everything that shapes a tool's form: the settings that go into
        it (not the validation rules, which judge returns) and the tool type."""
        payload = {
            "settings": self.settings.model_dump(mode="json", include=FORM_SETTINGS),
            "tool": self.tool(tool_id).model_dump(mode="json"),
        }
        blob = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(blob).hexdigest()[:12]


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys instead of silently keeping the last one."""


# libyaml's parser reads the config about 8x faster than PyYAML's own (0.1 s of every
# command's start, for the shipped config); it is used when PyYAML was built with it, and
# a file it refuses is read again by the pure-Python loader for PyYAML's error message.
class _FastUniqueKeyLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """_UniqueKeyLoader on libyaml's parser, when PyYAML has it."""


_MERGE_TAG = "tag:yaml.org,2002:merge"


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _value_node in node.value:
        if key_node.tag == _MERGE_TAG:  # `<<: *anchor`: merged keys may be overridden locally
            continue
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, Hashable):
            raise yaml.constructor.ConstructorError(
                None, None, "a key must be a plain value, not a list or mapping", key_node.start_mark
            )
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep=True)


for _loader in (_UniqueKeyLoader, _FastUniqueKeyLoader):
    _loader.add_constructor(
        yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
        _construct_mapping,  # type: ignore[arg-type]
    )


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{display(path)}: not UTF-8 text; save it as UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"{display(path)}: cannot read ({exc.strerror})") from None
    try:
        return yaml.load(text, Loader=_FastUniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError:
        pass
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{display(path)}{where}: invalid YAML: {problem}") from None


def key_path(loc: tuple[int | str, ...]) -> str:
    """('domains', 2, 'criteria', 0, 'text') -> 'domains[2].criteria[0].text'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _validate(model: type[BaseModel], data: Any, path: Path) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"{display(path)}: expected a mapping of keys at the top level")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        # A misspelt key shows as "unknown key" and as "required key missing": name the typo.
        first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        where = key_path(tuple(p for p in first["loc"] if p != "__root__"))
        message = first["msg"]
        message = message[0].lower() + message[1:]
        message = message.removeprefix("value error, ")
        more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
        prefix = f"{display(path)}: {where}: " if where else f"{display(path)}: "
        raise ConfigError(prefix + message + more) from None


def load_config(folder: Path) -> Config:
    """Read and validate every YAML file in ``folder``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError(f"{display(folder)}: config folder not found; run `auditdocs init DIR`")
    settings_path = folder / SETTINGS_FILE
    if not settings_path.is_file():
        raise ConfigError(f"{display(settings_path)}: missing; every config needs one")
    settings: Settings = _validate(Settings, _read_yaml(settings_path), settings_path)
    tools: dict[str, ToolType] = {}
    for path in sorted(folder.glob("*.yaml")):
        if path.name == SETTINGS_FILE:
            continue
        tool: ToolType = _validate(ToolType, _read_yaml(path), path)
        if tool.id != path.stem:
            raise ConfigError(f"{display(path)}: id: {tool.id!r} must match the file name {path.stem!r}")
        tools[tool.id] = tool
    if not tools:
        raise ConfigError(f"{display(folder)}: no audit tool types (*.yaml besides {SETTINGS_FILE})")
    for rule_id, rule in settings.validation.rules.items():
        unknown = sorted(set(rule.tools or ()) - set(tools))
        if unknown:
            raise ConfigError(
                f"{display(settings_path)}: validation.rules.{rule_id}.tools: no tool type "
                f"{', '.join(map(repr, unknown))} (configured: {', '.join(sorted(tools))})"
            )
    allocated = settings.allocation.tool
    if allocated not in tools or tools[allocated].subject != "case":
        case_tools = ", ".join(sorted(t for t, tool in tools.items() if tool.subject == "case"))
        raise ConfigError(
            f"{display(settings_path)}: allocation.tool: {allocated!r} is not a case audit tool type "
            f"(configured: {case_tools})"
        )
    for tool_id, schedule in settings.schedules.items():
        if tool_id not in tools:
            raise ConfigError(
                f"{display(settings_path)}: schedules.{tool_id}: no tool type {tool_id!r} "
                f"(configured: {', '.join(sorted(tools))})"
            )
        wanted = "worker" if schedule.subjects == "workers" else "case"
        if tools[tool_id].subject != wanted:
            raise ConfigError(
                f"{display(settings_path)}: schedules.{tool_id}.subjects: {schedule.subjects!r} does not fit "
                f"the tool type, whose subject is a {tools[tool_id].subject}"
            )
    return Config(folder=folder, settings=settings, tools=tools)


def config_schema() -> dict[str, Any]:
    """JSON Schemas for editors: one for organisation.yaml, one for tool-type files."""
    return {
        "organisation.yaml": Settings.model_json_schema(),
        "tool.yaml": ToolType.model_json_schema(),
    }
