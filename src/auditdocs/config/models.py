"""Typed models of the YAML config: organisation, grading scale, deadlines, tool types.

Every model forbids unknown keys, so a misspelt key is reported rather than ignored.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

#: Ids become parts of field ids (``domain.<id>.grade``) and XML names: keep them simple.
Id = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
Text = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _unique(items: list, attr: str, what: str, where: str = "") -> None:
    seen: set[str] = set()
    for item in items:
        value = getattr(item, attr)
        if value in seen:
            raise ValueError(f"{where}duplicate {what} {value!r}: each must be unique")
        seen.add(value)


class Grade(Model):
    """One grade of the scale, e.g. Good: 'a service that exceeds minimum requirements'."""

    id: Id
    label: Text
    definition: Text
    rank: int = Field(description="Higher is better; used to compare domain and overall grades.")


class GradingScale(Model):
    grades: list[Grade] = Field(min_length=2)
    not_applicable: Grade

    @model_validator(mode="after")
    def _check(self) -> GradingScale:
        _unique([*self.grades, self.not_applicable], "id", "grade id")
        _unique([*self.grades, self.not_applicable], "label", "grade label")
        return self

    def label_of(self, grade_id: str) -> str:
        for grade in [*self.grades, self.not_applicable]:
            if grade.id == grade_id:
                return grade.label
        raise KeyError(grade_id)


class Organisation(Model):
    name: Text
    service: Text = "Children's Social Care"
    bank_holidays: Literal["england-and-wales", "scotland", "northern-ireland"] = "england-and-wales"


class Deadlines(Model):
    """Working-day rules from the framework (sections 2.2, 2.10, 2.11)."""

    audit_due: Literal["last_working_day", "working_days"] = "last_working_day"
    audit_due_working_days: int = Field(10, ge=1, le=60)
    audit_period_months: int = Field(6, ge=1, le=36)
    discussion_working_days: dict[str, int] = Field(
        default_factory=lambda: {"inadequate": 5, "requires_improvement": 10, "good": 10}
    )
    amendment_working_days: int = Field(3, ge=1, le=30)


class ImprovementPlan(Model):
    """The SMART improvement plan: a fixed number of numbered rows (LibreOffice drops
    repeating sections, so rows cannot grow); never fewer than the tool's domains, since
    every domain graded below Good needs an action of its own."""

    rows: int = Field(5, ge=1, le=20)
    guidance: Text = (
        "Each action must be SMART: say exactly what will be done, by whom (a named person "
        "or role), by when, what will show it has been achieved, and which domain it improves."
    )


class Criterion(Model):
    id: Id
    text: Text


class Domain(Model):
    id: Id
    title: Text
    guidance: Text
    what_good_looks_like: list[Criterion] = Field(min_length=1)
    moving_to_outstanding: list[Criterion] = Field(default_factory=list)
    allow_na: bool = False

    @model_validator(mode="after")
    def _check(self) -> Domain:
        _unique([*self.what_good_looks_like, *self.moving_to_outstanding], "id", "criterion id")
        return self

    @property
    def criteria(self) -> list[Criterion]:
        return [*self.what_good_looks_like, *self.moving_to_outstanding]


class ToolType(Model):
    """One audit tool (single case file audit, thematic audit, supervision audit...)."""

    id: Id
    title: Text
    intro: Text
    subject: Literal["case", "worker"] = "case"
    #: what the auditor does: audit records, discuss a case with its practitioner (4.1) or
    #: observe a practitioner's work (6.1); the forms' wording follows it and the subject
    activity: Literal["audit", "discussion", "observation"] = "audit"
    template: Text = "audit_tool.docx"
    domains: list[Domain] = Field(min_length=1)
    overall_judgement: bool = True
    immediate_concern: bool = True
    discussion_record: bool = True
    improvement_plan: bool = True

    @model_validator(mode="after")
    def _check(self) -> ToolType:
        _unique(self.domains, "id", "domain id", where="domains: ")
        return self


RuleSeverity = Literal["error", "warning", "off"]

#: Every validation rule (see ``auditdocs.returns.validate``) and its default severity.
RULES: dict[str, Literal["error", "warning"]] = {
    "completeness.grade": "error",
    "completeness.na_not_allowed": "error",
    "completeness.na_reason": "error",
    "completeness.evidence": "error",
    "completeness.overall": "error",
    "completeness.overall_summary": "error",
    "completeness.discussion": "error",
    "evidence.min_words": "error",
    "evidence.guidance": "error",
    "evidence.duplicate": "error",
    "evidence.copied": "warning",
    "evidence.good_practice": "warning",
    "evidence.suggestions": "warning",
    "consistency.overall": "error",
    "consistency.overall_low": "warning",
    "consistency.criteria": "warning",
    "consistency.outstanding": "warning",
    "plan.action": "error",
    "plan.specific": "error",
    "plan.owner": "error",
    "plan.due": "error",
    "plan.due_window": "error",
    "plan.due_working_day": "warning",
    "plan.outcome": "error",
    "plan.measurable": "warning",
    "plan.domain": "error",
    "plan.identical": "error",
    "plan.required": "error",
    "plan.empty": "warning",
    "plan.discussion_date": "error",
    "concern.immediate": "warning",
    "concern.details": "error",
    "concern.notified": "warning",
    "concern.possible": "warning",
}


class RuleSetting(Model):
    """How one validation rule is applied: its severity ("off": not checked) and,
    optionally, the only tool types it applies to."""

    severity: RuleSeverity
    tools: list[Id] | None = None

    @field_validator("severity", mode="before")
    @classmethod
    def _off(cls, value: object) -> object:
        # YAML 1.1 reads a bare `off` as the boolean false.
        return "off" if value is False else value


def _default_rules() -> dict[str, RuleSetting]:
    return {rule: RuleSetting(severity=severity) for rule, severity in RULES.items()}


Ratio = Annotated[float, Field(ge=0, le=1)]
WordList = tuple[Text, ...]


class ValidationSettings(Model):
    """Thresholds and word lists for checking returned audits, and each rule's severity."""

    # Evidence
    min_evidence_words: int = Field(25, ge=0, le=1000)
    min_na_reason_words: int = Field(3, ge=0, le=100)
    guidance_containment: Ratio = 0.8
    guidance_share: Ratio = 0.5
    duplicate_similarity: Ratio = 0.8
    good_practice_signals: WordList = (
        "good practice", "strength", "strengths", "strong", "well", "effective", "effectively",
        "positive", "positively", "excellent", "thorough", "impressive", "commended", "good",
    )  # fmt: skip
    suggestion_signals: WordList = (
        "should", "suggest", "suggested", "suggestion", "suggestions", "recommend", "recommended",
        "recommendation", "recommendations", "needs to", "need to", "could", "would benefit", "consider",
        "must", "next step", "next steps",
    )  # fmt: skip
    # Consistency of grades
    good_rank: int = Field(3, description="Grades ranked this or higher are Good or better.")
    max_overall_above_lowest: int = Field(1, ge=0)
    max_overall_below_best: int = Field(1, ge=0)
    min_good_criteria_ratio: Ratio = 0.5
    # Improvement plan
    min_action_words: int = Field(5, ge=0, le=100)
    vague_action_words: WordList = (
        "improve", "improved", "improvement", "ensure", "continue", "continued", "monitor",
        "monitored", "monitoring", "maintain", "address", "better", "ongoing",
    )  # fmt: skip
    vague_owners: WordList = (
        "tbc", "tbd", "tba", "all", "everyone", "everybody", "n/a", "na", "?", "-", "team", "the team",
        "staff", "all staff", "unknown", "none", "various",
    )  # fmt: skip
    plan_window_days: int = Field(90, ge=1, le=730)
    min_outcome_words: int = Field(3, ge=0, le=100)
    measurable_signals: WordList = (
        "by", "%", "every", "each", "weekly", "monthly", "evidence", "evidenced", "recorded",
        "reviewed", "on file", "completed", "within",
    )  # fmt: skip
    rules: dict[str, RuleSetting] = Field(default_factory=_default_rules)

    @field_validator("rules", mode="before")
    @classmethod
    def _merge_rules(cls, value: object) -> object:
        """Rules not named keep their defaults; a rule may be given as just its severity."""
        if not isinstance(value, dict):
            return value
        unknown = [repr(rule) for rule in value if rule not in RULES]
        if unknown:
            raise ValueError(f"unknown rule id {', '.join(unknown)} (known: {', '.join(RULES)})")
        merged: dict[str, object] = {rule: {"severity": severity} for rule, severity in RULES.items()}
        for rule, given in value.items():
            merged[rule] = {"severity": RULES[rule], **given} if isinstance(given, dict) else {"severity": given}
        return merged


class SmtpSettings(Model):
    """Where to send mail.  Credentials never live in the YAML: name the environment
    variables that hold them."""

    host: str | None = None  # no host: messages are written as .eml drafts instead
    port: int = Field(587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username_env: str = "AUDITDOCS_SMTP_USERNAME"
    password_env: str = "AUDITDOCS_SMTP_PASSWORD"  # noqa: S105 - the variable's name, not a password
    ca_file: str | None = None  # a private CA for an internal relay; default: the system's
    timeout_seconds: float = Field(30, gt=0, le=600)


class MailSettings(Model):
    from_address: Text = "qa.team@council.example"
    from_name: Text = "Quality Assurance team"
    reply_to: str | None = None
    smtp: SmtpSettings = SmtpSettings()


#: A column header as the export spells it (matched ignoring case and spacing).
Header = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True, max_length=200)]


class CaseColumns(Model):
    """Which column of the case list export holds each value.  ``null``: not exported."""

    case_reference: Header = "case_reference"
    child_id: Header | None = "child_id"
    age: Header | None = "age"
    date_of_birth: Header | None = "date_of_birth"
    case_type: Header = "case_type"
    team: Header = "team"
    worker: Header = "worker"
    team_manager: Header = "team_manager"
    start_date: Header = "start_date"

    @model_validator(mode="after")
    def _check(self) -> CaseColumns:
        headers = [h for h in self.model_dump().values() if h is not None]
        _unique_text(headers, "column header")
        return self


class AuditorColumns(Model):
    """Which column of the auditor list holds each value."""

    name: Header = "name"
    email: Header = "email"
    role: Header = "role"
    team: Header = "team"
    capacity: Header = "monthly_capacity"

    @model_validator(mode="after")
    def _check(self) -> AuditorColumns:
        _unique_text(list(self.model_dump().values()), "column header")
        return self


def _unique_text(values: list[str], what: str) -> None:
    seen: set[str] = set()
    for value in values:
        key = " ".join(value.lower().split())
        if key in seen:
            raise ValueError(f"duplicate {what} {value!r}: each must be unique")
        seen.add(key)


def _aliases(value: dict[str, list[str]], what: str) -> None:
    """Canonical names and their aliases must not overlap (ignoring case)."""
    _unique_text([*value, *(a for aliases in value.values() for a in aliases)], what)


class CaseImport(Model):
    """The case list exported from the case management system (.xlsx or .csv)."""

    file: Text = "sample/cases.xlsx"
    columns: CaseColumns = CaseColumns()
    #: case type → the other ways the export may spell it
    case_types: dict[Text, list[Text]] = Field(
        default_factory=lambda: {
            "CIN": ["Child in need"],
            "CP": ["Child protection", "CP plan"],
            "CIC": ["Child in care", "Looked after", "LAC", "CLA"],
            "Care leaver": ["Leaving care", "Care leavers"],
        },
        min_length=1,
    )

    @model_validator(mode="after")
    def _check(self) -> CaseImport:
        _aliases(self.case_types, "case type")
        return self


class AuditorImport(Model):
    """The list of auditors with their role, team and monthly capacity."""

    file: Text = "sample/auditors.xlsx"
    columns: AuditorColumns = AuditorColumns()
    #: role → the other ways the list may spell it
    roles: dict[Text, list[Text]] = Field(
        default_factory=lambda: {
            "Team manager": ["TM"],
            "Service manager": ["SM"],
            "IRO": ["Independent reviewing officer", "ICRO"],
            "CP chair": ["Child protection chair", "Child protection conference chair"],
            "Senior manager": ["Head of service", "Assistant director", "Director"],
        },
        min_length=1,
    )

    @model_validator(mode="after")
    def _check(self) -> AuditorImport:
        _aliases(self.roles, "role")
        return self


class StaffColumns(Model):
    """Which column of the staff list holds each value.  ``team: null``: workers are
    matched to the case list by name alone."""

    name: Header = "name"
    team: Header | None = "team"
    status: Header = "status"

    @model_validator(mode="after")
    def _check(self) -> StaffColumns:
        _unique_text([h for h in self.model_dump().values() if h is not None], "column header")
        return self


class StaffImport(Model):
    """The staff list: workers whose status sets how often they are observed (framework
    6.2 newly qualified, 6.4 in need of support).  Optional: without one, every worker is
    observed as an experienced worker (6.3)."""

    file: Text | None = None  # null: no staff list unless one is given on the command line
    columns: StaffColumns = StaffColumns()
    #: status → the other ways the list may spell it; a blank status is an experienced worker
    statuses: dict[Text, list[Text]] = Field(
        default_factory=lambda: {
            "ASYE": ["NQSW", "Newly qualified", "Newly qualified social worker"],
            "Support": ["Needs support", "In need of support"],
        },
        min_length=1,
    )

    @model_validator(mode="after")
    def _check(self) -> StaffImport:
        _aliases(self.statuses, "status")
        return self


class Imports(Model):
    """How case, auditor and staff lists are read: each council's export names columns its own way."""

    cases: CaseImport = CaseImport()
    auditors: AuditorImport = AuditorImport()
    staff: StaffImport = StaffImport()


class AllocationRules(Model):
    """How the month's cases are picked and shared among auditors (framework 2.1, 2.12)."""

    tool: Id = "case_file_audit"
    method: Literal["quota", "sample", "every_nth"] = "quota"
    quota_per_team: int = Field(3, ge=0, le=1000)
    team_quotas: dict[Text, Annotated[int, Field(ge=0, le=1000)]] = Field(default_factory=dict)
    sample_size: int = Field(12, ge=1, le=10000)
    every_nth: int = Field(10, ge=1, le=10000)
    exclude_months: int = Field(12, ge=0, le=120)
    reaudit_grades: list[Id] = Field(default_factory=lambda: ["inadequate"])
    reaudit_role: Text = "Senior manager"


Month = Annotated[int, Field(ge=1, le=12)]


class Schedule(Model):
    """When a tool type other than the case file audit runs (framework sections 3 to 6),
    what it is about and who does it."""

    months: list[Month] = Field(min_length=1)
    #: cases: a sample of cases; workers: one per worker; worker_cases: one case of each worker
    subjects: Literal["cases", "workers", "worker_cases"]
    case_types: list[Text] = Field(default_factory=list)  # cases: only these (empty: any)
    sample_size: int = Field(6, ge=1, le=10000)  # cases: how many
    #: outside: nobody of the team, its manager or the worker (as case audits);
    #: own_manager: the worker's own team manager
    auditor: Literal["outside", "own_manager"] = "outside"
    auditor_roles: list[Text] = Field(default_factory=list)  # only these roles (empty: any)
    team_managers: bool = False  # workers: the team managers too
    team_manager_auditor_roles: list[Text] = Field(
        default_factory=lambda: ["Service manager", "Senior manager"], min_length=1
    )
    #: workers: a worker whose status in the staff list (imports.staff) is named here is
    #: audited in these months instead of ``months`` (6.2 newly qualified, 6.4 needing support)
    status_months: dict[Text, Annotated[list[Month], Field(min_length=1)]] = Field(default_factory=dict)
    #: cases, worker_cases: a case audited with this tool in this many months before is not
    #: picked again (0: no such rule)
    exclude_months: int = Field(0, ge=0, le=120)

    @field_validator("months")
    @classmethod
    def _months(cls, value: list[int]) -> list[int]:
        if len(set(value)) != len(value):
            raise ValueError("a month is named twice")
        return sorted(value)

    @field_validator("status_months")
    @classmethod
    def _status_months(cls, value: dict[str, list[int]]) -> dict[str, list[int]]:
        for status, months in value.items():
            if len(set(months)) != len(months):
                raise ValueError(f"{status}: a month is named twice")
        return {status: sorted(months) for status, months in value.items()}

    @model_validator(mode="after")
    def _check(self) -> Schedule:
        if self.status_months and self.subjects != "workers":
            raise ValueError(
                f"status_months: only for subjects: workers (these subjects are {self.subjects}: a staff "
                "list status is a worker's)"
            )
        if self.exclude_months and self.subjects == "workers":
            raise ValueError(
                "exclude_months: only for subjects: cases or worker_cases (every worker is audited each month "
                "the schedule runs; set how often with months and status_months)"
            )
        return self

    def runs_in(self, month: int) -> bool:
        """Whether the schedule runs in ``month`` (1-12), for everyone or for a status."""
        return month in self.months or any(month in months for months in self.status_months.values())


class Moderator(Model):
    """A second, experienced reader who re-grades a sample of audits (a QA or moderation officer)."""

    name: Text
    email: Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+$", max_length=320)]


class ModerationSettings(Model):
    """Moderation (framework 7.2): each month a sample of the accepted case file audits is
    re-graded by a moderator, and how often the two agree is measured.  No moderators: off."""

    moderators: list[Moderator] = Field(default_factory=list)
    #: How many audits a month: ``sample_count`` if given, else this share of the month's
    #: accepted case file audits (rounded up); never fewer than ``always_grades`` and the
    #: quarter's not yet moderated auditors (see ``moderation.sample``) make it.
    sample_share: float = Field(0.1, gt=0, le=1)
    sample_count: int | None = Field(None, ge=1, le=10000)
    #: Audits graded one of these overall are always moderated.
    always_grades: list[Id] = Field(default_factory=lambda: ["inadequate", "outstanding"])
    #: The random draw's seed (with the month): the same store and config give the same sample.
    seed: int = 0
    #: blind: the moderator does not see the auditor's grades and evidence; open: they do.
    mode: Literal["blind", "open"] = "blind"
    #: Whose grade stands where the two differ (the re-audit chain follows it).
    grade_of_record: Literal["moderator", "auditor"] = "moderator"
    #: The moderation form is due this many working days after the sample is drawn.
    due_working_days: int = Field(10, ge=1, le=100)

    @field_validator("moderators")
    @classmethod
    def _moderators(cls, value: list[Moderator]) -> list[Moderator]:
        _unique(value, "name", "moderator")
        return value


class LimitSettings(Model):
    """How big the files ingest reads may be, checked before they are read.  Safe
    defaults; raise them only for files you trust (limits stop zip bombs and the like)."""

    max_file_mb: int = Field(50, ge=1, le=2048)  # one file: a form, a zip, an e-mail
    # Files in one zip or e-mail; in proportion, what reading one input may parse: MIME parts
    # and header lines of e-mails, directory entries of Outlook messages.
    max_files_per_input: int = Field(2000, ge=1, le=100_000)
    max_unpacked_mb: int = Field(500, ge=1, le=16_384)  # what one zip or e-mail unpacks to
    max_form_unzipped_mb: int = Field(256, ge=1, le=4096)  # what one Word form unzips to
    conversion_timeout_seconds: float = Field(120, gt=0, le=3600)  # one .doc/.odt via LibreOffice


class Settings(Model):
    """config/organisation.yaml: everything that is not a tool type."""

    organisation: Organisation
    grading: GradingScale
    deadlines: Deadlines = Deadlines()
    improvement_plan: ImprovementPlan = ImprovementPlan()
    validation: ValidationSettings = ValidationSettings()
    email: MailSettings = MailSettings()
    imports: Imports = Imports()
    allocation: AllocationRules = AllocationRules()
    limits: LimitSettings = LimitSettings()
    #: tool id → its schedule; none: only the case file audit is allocated
    schedules: dict[Id, Schedule] = Field(default_factory=dict)
    moderation: ModerationSettings = ModerationSettings()

    @model_validator(mode="after")
    def _check(self) -> Settings:
        ids = {g.id for g in self.grading.grades}
        for grade_id in self.deadlines.discussion_working_days:
            if grade_id not in ids:
                raise ValueError(
                    f"deadlines.discussion_working_days: {grade_id!r} is not a grade id "
                    f"(one of {', '.join(sorted(ids))})"
                )
        for grade_id in self.allocation.reaudit_grades:
            if grade_id not in ids:
                raise ValueError(
                    f"allocation.reaudit_grades: {grade_id!r} is not a grade id (one of {', '.join(sorted(ids))})"
                )
        for grade_id in self.moderation.always_grades:
            if grade_id not in ids:
                raise ValueError(
                    f"moderation.always_grades: {grade_id!r} is not a grade id (one of {', '.join(sorted(ids))})"
                )
        roles = self.imports.auditors.roles
        if self.allocation.reaudit_role not in roles:
            raise ValueError(
                f"allocation.reaudit_role: {self.allocation.reaudit_role!r} is not a role in "
                f"imports.auditors.roles (one of {', '.join(roles)})"
            )
        types = self.imports.cases.case_types
        for tool_id, schedule in self.schedules.items():
            if tool_id == self.allocation.tool:
                raise ValueError(f"schedules.{tool_id}: the case file audit (allocation.tool) runs every month")
            for case_type in schedule.case_types:
                if case_type not in types:
                    raise ValueError(
                        f"schedules.{tool_id}.case_types: {case_type!r} is not a case type in "
                        f"imports.cases.case_types (one of {', '.join(types)})"
                    )
            for key in ("auditor_roles", "team_manager_auditor_roles"):
                for role in getattr(schedule, key):
                    if role not in roles:
                        raise ValueError(
                            f"schedules.{tool_id}.{key}: {role!r} is not a role in imports.auditors.roles "
                            f"(one of {', '.join(roles)})"
                        )
            statuses = self.imports.staff.statuses
            for status in schedule.status_months:
                if status not in statuses:
                    raise ValueError(
                        f"schedules.{tool_id}.status_months: {status!r} is not a status in imports.staff.statuses "
                        f"(one of {', '.join(statuses)})"
                    )
        return self
