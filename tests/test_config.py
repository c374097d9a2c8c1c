"""The YAML config: the shipped config loads; a bad config is refused with one line
that names the file, the key path and what is wrong."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from auditdocs.config import Config, config_schema, load_config
from auditdocs.errors import ConfigError
from auditdocs.workspace import Workspace, bundled_root

TOOL_TYPES = {"case_file_audit", "thematic_audit", "supervision_audit", "staff_observation", "case_discussion"}


def read_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def write_yaml(path: Path, data: Any) -> None:
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def edit_lines(path: Path, after: str, new_line: str, replace: bool = False) -> int:
    """Insert ``new_line`` after the line ``after`` (or replace it); returns its 1-based line number."""
    lines = path.read_text(encoding="utf-8").splitlines()
    index = lines.index(after)
    if replace:
        lines[index] = new_line
    else:
        index += 1
        lines.insert(index, new_line)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return index + 1


def load_error(folder: Path) -> str:
    """The message of the ConfigError that loading ``folder`` must raise; always one line."""
    with pytest.raises(ConfigError) as info:
        load_config(folder)
    message = str(info.value)
    assert "\n" not in message, message
    return message


# --- the shipped config ---------------------------------------------------------------


def test_the_shipped_config_names_the_organisation(workspace: Workspace) -> None:
    assert workspace.config.settings.organisation.name == "Northbrook Borough Council"


def test_the_shipped_grading_scale_has_four_grades_and_not_applicable(workspace: Workspace) -> None:
    grading = workspace.config.settings.grading
    assert [g.id for g in grading.grades] == ["outstanding", "good", "requires_improvement", "inadequate"]
    assert [g.rank for g in grading.grades] == [4, 3, 2, 1]
    assert grading.not_applicable.id == "na"
    assert grading.label_of("requires_improvement") == "Requires Improvement"


def test_the_shipped_config_has_all_five_tool_types(workspace: Workspace) -> None:
    assert set(workspace.config.tools) == TOOL_TYPES


def test_the_single_case_file_audit_has_seven_domains(workspace: Workspace) -> None:
    domains = workspace.config.tool("case_file_audit").domains
    assert [d.id for d in domains] == [
        "visits",
        "assessment",
        "plans",
        "reviews",
        "voice_of_child",
        "management_oversight",
        "recording",
    ]
    assert all(d.what_good_looks_like for d in domains)


def test_the_shipped_config_in_the_repo_is_the_one_a_workspace_gets(workspace: Workspace) -> None:
    shipped = load_config(bundled_root() / "config")
    assert shipped.settings == workspace.config.settings
    assert shipped.tools == workspace.config.tools


def test_asking_for_an_unknown_tool_type_names_the_configured_ones(workspace: Workspace) -> None:
    with pytest.raises(ConfigError, match=r"no audit tool type 'case_file_audti' \(configured: case_discussion, "):
        workspace.config.tool("case_file_audti")


# --- invalid config: file, key path, reason -------------------------------------------


def test_a_missing_key_is_named_by_file_and_key_path(config_dir: Path) -> None:
    tool = config_dir / "case_file_audit.yaml"
    data = read_yaml(tool)
    del data["domains"][2]["what_good_looks_like"][0]["text"]
    write_yaml(tool, data)
    # The key path is the YAML's own: the list is `what_good_looks_like`, not `criteria`.
    assert load_error(config_dir) == (
        "config/case_file_audit.yaml: domains[2].what_good_looks_like[0].text: field required"
    )


def test_outside_the_workspace_the_error_names_the_full_path(config_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tool = config_dir / "case_file_audit.yaml"
    data = read_yaml(tool)
    del data["domains"][2]["what_good_looks_like"][0]["text"]
    write_yaml(tool, data)
    elsewhere = config_dir.parent / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    message = load_error(config_dir)
    assert message.startswith(f"{tool}: domains[2].what_good_looks_like[0].text: ")


def test_an_unknown_key_is_refused_rather_than_ignored(config_dir: Path) -> None:
    tool = config_dir / "case_file_audit.yaml"
    data = read_yaml(tool)
    data["domains"][0]["guidence"] = "A misspelt key must not be silently dropped."
    write_yaml(tool, data)
    assert load_error(config_dir) == "config/case_file_audit.yaml: domains[0].guidence: extra inputs are not permitted"


def test_an_unknown_key_in_organisation_yaml_is_refused(config_dir: Path) -> None:
    settings = config_dir / "organisation.yaml"
    data = read_yaml(settings)
    data["deadlines"]["audit_due_days"] = 10
    write_yaml(settings, data)
    assert load_error(config_dir) == (
        "config/organisation.yaml: deadlines.audit_due_days: extra inputs are not permitted"
    )


def test_an_id_must_be_lower_case_letters_digits_and_underscores(config_dir: Path) -> None:
    tool = config_dir / "case_file_audit.yaml"
    data = read_yaml(tool)
    data["domains"][1]["id"] = "Assessment-1"
    write_yaml(tool, data)
    assert load_error(config_dir) == (
        "config/case_file_audit.yaml: domains[1].id: string should match pattern '^[a-z][a-z0-9_]*$'"
    )


def test_a_value_outside_the_allowed_choices_is_named(config_dir: Path) -> None:
    tool = config_dir / "case_file_audit.yaml"
    data = read_yaml(tool)
    data["subject"] = "family"
    write_yaml(tool, data)
    assert load_error(config_dir) == "config/case_file_audit.yaml: subject: input should be 'case' or 'worker'"


def test_a_blank_title_is_refused(config_dir: Path) -> None:
    tool = config_dir / "case_file_audit.yaml"
    data = read_yaml(tool)
    data["domains"][0]["title"] = "   "
    write_yaml(tool, data)
    assert load_error(config_dir).startswith("config/case_file_audit.yaml: domains[0].title: ")


@pytest.mark.parametrize(
    ("file", "path", "value", "message"),
    [
        ("case_file_audit.yaml", ("domains", 1, "id"), "visits", "domains: duplicate domain id 'visits'"),
        (
            "case_file_audit.yaml",
            ("domains", 0, "what_good_looks_like", 1, "id"),
            "purpose",
            "domains[0]: duplicate criterion id 'purpose'",
        ),
        (  # unique across the "what good looks like" and "moving to outstanding" lists
            "case_file_audit.yaml",
            ("domains", 0, "moving_to_outstanding", 0, "id"),
            "purpose",
            "domains[0]: duplicate criterion id 'purpose'",
        ),
        (
            "organisation.yaml",
            ("grading", "grades", 1, "id"),
            "outstanding",
            "grading: duplicate grade id 'outstanding'",
        ),
    ],
    ids=["domains", "criteria", "criteria-across-lists", "grades"],
)
def test_ids_must_be_unique(config_dir: Path, file: str, path: tuple[Any, ...], value: str, message: str) -> None:
    target = config_dir / file
    data = read_yaml(target)
    node = data
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    write_yaml(target, data)
    assert load_error(config_dir) == f"config/{file}: {message}: each must be unique"


def test_a_duplicate_yaml_key_is_refused_with_its_line(config_dir: Path) -> None:
    # Plain YAML keeps the last of two equal keys; a config must not lose a value silently.
    tool = config_dir / "case_file_audit.yaml"
    line = edit_lines(tool, after="title: Single Case File Audit", new_line="title: Another title")
    message = load_error(config_dir)
    assert "duplicate key 'title'" in message
    assert message == f"config/case_file_audit.yaml:{line}:1: invalid YAML: duplicate key 'title'"


def test_invalid_yaml_is_reported_with_line_and_column(config_dir: Path) -> None:
    tool = config_dir / "case_file_audit.yaml"
    line = edit_lines(
        tool, after="title: Single Case File Audit", new_line="title: Single: Case File Audit", replace=True
    )
    column = len("title: Single:")
    assert load_error(config_dir) == (
        f"config/case_file_audit.yaml:{line}:{column}: invalid YAML: mapping values are not allowed here"
    )


def test_a_tool_id_must_match_its_file_name(config_dir: Path) -> None:
    (config_dir / "case_file_audit.yaml").rename(config_dir / "single_case.yaml")
    assert load_error(config_dir) == (
        "config/single_case.yaml: id: 'case_file_audit' must match the file name 'single_case'"
    )


def test_organisation_yaml_is_required(config_dir: Path) -> None:
    (config_dir / "organisation.yaml").unlink()
    assert load_error(config_dir) == "config/organisation.yaml: missing; every config needs one"


def test_a_config_needs_at_least_one_tool_type(config_dir: Path) -> None:
    for path in config_dir.glob("*.yaml"):
        if path.name != "organisation.yaml":
            path.unlink()
    assert load_error(config_dir).startswith("config: no audit tool types")


def test_a_missing_config_folder_says_how_to_create_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_error(tmp_path / "config") == "config: config folder not found; run `auditdocs init DIR`"


def test_discussion_deadlines_must_name_real_grades(config_dir: Path) -> None:
    settings = config_dir / "organisation.yaml"
    data = read_yaml(settings)
    data["deadlines"]["discussion_working_days"]["excellent"] = 5
    write_yaml(settings, data)
    assert load_error(config_dir) == (
        "config/organisation.yaml: deadlines.discussion_working_days: 'excellent' is not a grade id "
        "(one of good, inadequate, outstanding, requires_improvement)"
    )


def test_a_file_that_is_not_utf8_is_refused(config_dir: Path) -> None:
    tool = config_dir / "case_file_audit.yaml"
    # Saved as Windows-1252 by an old editor: 'é' is one byte, 0xE9.
    tool.write_bytes(tool.read_text(encoding="utf-8").replace("Single Case", "Single Casé").encode("cp1252"))
    assert load_error(config_dir) == "config/case_file_audit.yaml: not UTF-8 text; save it as UTF-8"


@pytest.mark.parametrize(
    "text", ["- id: case_file_audit\n- title: A list\n", "just some words\n", ""], ids=["list", "scalar", "empty"]
)
def test_the_top_level_must_be_a_mapping(config_dir: Path, text: str) -> None:
    (config_dir / "case_file_audit.yaml").write_text(text, encoding="utf-8")
    assert load_error(config_dir) == "config/case_file_audit.yaml: expected a mapping of keys at the top level"


def test_several_problems_are_counted_after_the_first(config_dir: Path) -> None:
    tool = config_dir / "case_file_audit.yaml"
    data = read_yaml(tool)
    del data["domains"][2]["what_good_looks_like"][0]["text"]
    del data["domains"][3]["guidance"]
    write_yaml(tool, data)
    assert load_error(config_dir) == (
        "config/case_file_audit.yaml: domains[2].what_good_looks_like[0].text: field required (and 1 more problem(s))"
    )


# --- versions -------------------------------------------------------------------------


def versions(config: Config) -> dict[str, str]:
    return {tool_id: config.version(tool_id) for tool_id in config.tools}


def test_the_version_is_stable_for_the_same_config(config_dir: Path) -> None:
    first, second = load_config(config_dir), load_config(config_dir)
    assert versions(first) == versions(second)
    assert all(len(v) == 12 and int(v, 16) >= 0 for v in versions(first).values())
    assert len(set(versions(first).values())) == len(TOOL_TYPES)


def test_the_version_ignores_comments_and_layout(config_dir: Path) -> None:
    before = versions(load_config(config_dir))
    tool = config_dir / "case_file_audit.yaml"
    tool.write_text("# Reviewed by the QA team.\n\n" + tool.read_text(encoding="utf-8"), encoding="utf-8")
    assert versions(load_config(config_dir)) == before


def test_changing_guidance_changes_only_that_tools_version(config_dir: Path) -> None:
    before = versions(load_config(config_dir))
    tool = config_dir / "case_file_audit.yaml"
    data = read_yaml(tool)
    data["domains"][0]["guidance"] += " Check the dates of the last three visits."
    write_yaml(tool, data)
    after = versions(load_config(config_dir))
    assert after["case_file_audit"] != before["case_file_audit"]
    assert {k: v for k, v in after.items() if k != "case_file_audit"} == {
        k: v for k, v in before.items() if k != "case_file_audit"
    }


def test_changing_a_grade_definition_changes_every_version(config_dir: Path) -> None:
    before = versions(load_config(config_dir))
    settings = config_dir / "organisation.yaml"
    data = read_yaml(settings)
    data["grading"]["grades"][0]["definition"] = "A service that far exceeds expectations."
    write_yaml(settings, data)
    after = versions(load_config(config_dir))
    assert all(after[tool_id] != before[tool_id] for tool_id in before)


# --- JSON Schema ----------------------------------------------------------------------


def test_the_schema_describes_both_kinds_of_file() -> None:
    schemas = config_schema()
    assert set(schemas) == {"organisation.yaml", "tool.yaml"}
    organisation, tool = schemas["organisation.yaml"], schemas["tool.yaml"]
    assert {"organisation", "grading", "deadlines", "improvement_plan"} <= set(organisation["properties"])
    assert {"id", "title", "intro", "domains"} <= set(tool["required"])
    assert "domains" in tool["properties"]
    # Unknown keys are refused by the loader, so the schema refuses them too.
    assert tool["additionalProperties"] is False
    assert organisation["additionalProperties"] is False


def test_the_shipped_config_satisfies_the_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")  # optional: not a dependency of auditdocs
    schemas = config_schema()
    for path in sorted((bundled_root() / "config").glob("*.yaml")):
        schema = schemas["organisation.yaml" if path.name == "organisation.yaml" else "tool.yaml"]
        jsonschema.validate(read_yaml(path), schema)


def test_a_list_used_as_a_key_is_refused_not_a_traceback(config_dir: Path) -> None:
    (config_dir / "thematic_audit.yaml").write_text("? [a, b]\n: c\n", encoding="utf-8")
    assert load_error(config_dir) == (
        "config/thematic_audit.yaml:1:3: invalid YAML: a key must be a plain value, not a list or mapping"
    )


def test_yaml_merge_keys_work(config_dir: Path) -> None:
    path = config_dir / "thematic_audit.yaml"
    data = read_yaml(path)
    data["domains"][1].pop("allow_na", None)
    write_yaml(path, data)
    # a merge key inside a domain entry sets allow_na
    lines = path.read_text(encoding="utf-8").replace(
        "- id: " + data["domains"][1]["id"], "- <<: {allow_na: true}\n  id: " + data["domains"][1]["id"], 1
    )
    path.write_text(lines, encoding="utf-8")
    assert load_config(config_dir).tool("thematic_audit").domains[1].allow_na is True
