"""The command line: a thin shell over the library.

Every user-caused failure is an AuditDocsError, printed as one line; exit code 1
for bad data, 2 for bad usage.  Never a traceback.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from auditdocs.errors import AuditDocsError, UsageError
from auditdocs.files import display

if TYPE_CHECKING:
    from auditdocs.mail.messages import Sent
    from auditdocs.workspace import Workspace

F = TypeVar("F", bound=Callable[..., Any])


def workspace_option(func: F) -> F:
    return click.option(
        "--workspace",
        "-w",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Workspace folder (default: the current folder).",
    )(func)


def month_option(func: F) -> F:
    return click.option(
        "--month",
        default=None,
        callback=_check_month,
        help="The audit month, YYYY-MM (default: the latest allocated).",
    )(func)


def _check_month(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    from auditdocs.dates import check_month

    try:
        return check_month(value) if value is not None else None
    except UsageError as exc:
        raise click.BadParameter(str(exc)) from None


def _month(ws: Workspace, month: str | None) -> str:
    """The month given, or the latest allocated (said on stderr, so output stays clean)."""
    if month is not None:
        return month
    from auditdocs.allocation.months import latest_month

    month = latest_month(ws)
    click.echo(f"Month {month} (the latest allocated; choose another with --month)", err=True)
    return month


class AuditDocsGroup(click.Group):
    """The one place an AuditDocsError becomes what the user sees: ``Error: <message>`` on
    one line and the error's exit code (1 bad data, 2 bad usage), never a traceback.
    Subgroups made with ``group()`` are of this class, and every command runs inside the
    top group's ``invoke``, so a new command cannot forget it."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AuditDocsError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(exc.exit_code)


AuditDocsGroup.group_class = AuditDocsGroup


@click.group(cls=AuditDocsGroup)
@click.version_option(package_name="auditdocs")
def main() -> None:
    """auditdocs: monthly case file audits in Word, from YAML config to reports."""


@main.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def init(folder: Path) -> None:
    """Create a workspace FOLDER: config/, templates/, a sample month, output/."""
    from auditdocs.sample.month import init_workspace

    ws = init_workspace(folder)
    click.echo(f"Created workspace {ws.root}")
    for name in ("config", "templates", "sample", "output"):
        click.echo(f"  {name}/")
    from auditdocs.dates import shift_month, uk_today

    month = shift_month(uk_today().strftime("%Y-%m"), 1)
    click.echo(
        f"Next: cd {ws.root} && auditdocs allocate --month {month} (it writes a workbook to check), "
        "then auditdocs generate; or see the whole cycle on the sample month: auditdocs demo"
    )


@main.group()
def config() -> None:
    """Check the YAML config or export its JSON Schema."""


@config.command("check")
@workspace_option
def config_check(workspace: Path | None) -> None:
    """Validate config/*.yaml; say what is wrong and where."""
    from auditdocs.workspace import Workspace

    ws = Workspace.open(workspace)
    summary = ws.config_summary  # validated in full unless unchanged since it last was
    click.echo(f"{ws.config_dir}: OK: {summary.organisation}, {len(summary.tools)} tool types")
    for tool in summary.tools:
        click.echo(f"  {tool.id}: {tool.domains} domains, version {tool.version}")


@config.command("schema")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write organisation.schema.json and tool.schema.json into this folder.",
)
def config_schema_cmd(out: Path | None) -> None:
    """Export the JSON Schema of the config, for editor autocompletion."""
    from auditdocs.config import config_schema

    schemas = config_schema()
    if out is None:
        click.echo(json.dumps(schemas, indent=2))
        return
    out.mkdir(parents=True, exist_ok=True)
    for name, schema in schemas.items():
        path = out / name.replace(".yaml", ".schema.json")
        path.write_text(json.dumps(schema, indent=2) + "\n")
        click.echo(f"Wrote {path}")


@main.command()
@workspace_option
@click.option("--month", default=None, callback=_check_month,
              help="Generate the month made by `auditdocs allocate`, YYYY-MM (default: the latest allocated).")
@click.option("--allocation", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="An allocation workbook (default: the month's; before any month is allocated, the sample's).")
@click.option("--auditors", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Auditor list to check a hand-edited allocation against (default: the list allocate "
                   "used, kept in the workbook's Auditors sheet).")
def generate(workspace: Path | None, month: str | None, allocation: Path | None, auditors: Path | None) -> None:
    """Write an audit tool and an improvement plan for each allocated case (after a month
    is issued: for each audit added or changed in its workbook since)."""
    from auditdocs.forms.generate import Generated, issue_plan, to_write
    from auditdocs.forms.generate import generate as run
    from auditdocs.workspace import Workspace

    ws = Workspace.open(workspace)
    allocations, plan = issue_plan(ws, month, allocation, auditors)
    with click.progressbar(length=len(to_write(ws, plan)), label="Generating", file=sys.stderr) as bar:
        result = Generated(allocations, run(ws, allocations, progress=lambda _a: bar.update(1), plan=plan), plan)
    click.echo(
        f"Wrote {len(result.paths)} documents for {len(result.paths) // 2} audits to "
        + ", ".join(display(ws.output_dir / m) + "/" for m in result.months)
    )
    for line in plan.lines():
        click.echo(line)


@main.command()
@click.argument("audit_ids", nargs=-1, required=True)
@click.option("--reason", required=True, help="Why (kept with the audit), e.g. \"case closed\".")
@workspace_option
def withdraw(audit_ids: tuple[str, ...], reason: str, workspace: Path | None) -> None:
    """Withdraw issued audits not yet returned: kept in the store with the reason, no
    longer accepted, reported or chased. Then remove their rows from the workbook, or
    leave them: generate skips them."""
    from auditdocs.allocation.changes import withdraw as run
    from auditdocs.workspace import Workspace

    for alloc in run(Workspace.open(workspace).store(), audit_ids, reason):
        click.echo(f"Withdrew {alloc.audit_id} (case {alloc.case_reference}, {alloc.auditor}): {reason.strip()}")


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (see DESIGN.md).")
@workspace_option
def parse(files: tuple[Path, ...], as_json: bool, workspace: Path | None) -> None:
    """Read returned audit forms and print their fields."""
    from auditdocs.forms.parse import read_forms, to_json
    from auditdocs.workspace import Workspace

    results = read_forms(Workspace.open(workspace), files)
    if as_json:
        click.echo(to_json(results))
    else:
        for r in results:
            filled = sum(v is not None and v is not False for v in r.fields.values())
            converted = f" (converted from .{r.converted_from})" if r.converted_from else ""
            click.echo(
                f"{r.file}{converted}: {r.status} audit {r.audit_id or '-'}: {filled}/{len(r.fields)} fields filled"
            )
            for issue in r.issues:
                click.echo(f"  {issue.severity}: {issue.field or '(file)'}: {issue.message}")
    if any(r.status != "ok" for r in results):
        sys.exit(1)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Worker processes (use the machine's cores for big batches).")
@workspace_option
def ingest(paths: tuple[Path, ...], jobs: int, workspace: Path | None) -> None:
    """Ingest returned forms: files, folders, .zip archives, e-mails (.eml, .msg)."""
    import functools

    from auditdocs.mail.messages import post_one
    from auditdocs.returns.ingest import ingest as run
    from auditdocs.workspace import Workspace

    ws = Workspace.open(workspace)
    post = functools.partial(post_one, ws.config.settings.email)  # an immediate concern's notice goes at once
    with click.progressbar(length=0, label="Ingesting", file=sys.stderr, show_pos=True) as bar:
        result = run(ws, list(paths), progress=lambda _o: bar.update(1), jobs=jobs, post=post)
    for line in result.report():
        click.echo(line)
    if any(o.status == "rejected" for o in result.outcomes):
        sys.exit(1)


def _echo_deliveries(items: list[Sent]) -> int:
    """Print what was sent, drafted, skipped or (dry run) would go; returns how many failed."""
    from auditdocs.mail.messages import Delivery

    failed = 0
    for item in items:
        if isinstance(item, Delivery):
            how = "sent" if item.sent else ("FAILED, kept as draft" if item.error else "draft")
            click.echo(f"  {how}: {item.to}: {item.subject}  [{display(item.path)}]")
            if item.error:
                failed += 1
                click.echo(f"    {item.error}")
        else:
            click.echo(f"  {item}")
    return failed


@main.command()
@month_option
@click.option("--dry-run", is_flag=True, help="List what would be sent; write and send nothing.")
@click.option("--force", is_flag=True, help="Send again messages already sent or drafted.")
@workspace_option
def send(month: str | None, dry_run: bool, force: bool, workspace: Path | None) -> None:
    """Send each auditor their forms, and each team manager the improvement plans of
    accepted audits for the practitioner discussion. Drafts (.eml) unless SMTP is set up."""
    from auditdocs.mail.send import send as run
    from auditdocs.workspace import Workspace

    ws = Workspace.open(workspace)
    month = _month(ws, month)
    items = run(ws, month, dry_run=dry_run, force=force)
    failed = _echo_deliveries(items)
    if not items:
        click.echo(f"Nothing to send for {month}.")
    if failed:
        sys.exit(1)


@main.command()
@month_option
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Chase as of this date (default: today), YYYY-MM-DD.")
@click.option("--dry-run", is_flag=True, help="List the chasers; write and send nothing.")
@workspace_option
def chase(month: str | None, today: Any, dry_run: bool, workspace: Path | None) -> None:
    """Chase overdue audits, overdue amendments and practitioner discussions not recorded."""
    from auditdocs.mail.chase import send_chasers
    from auditdocs.workspace import Workspace

    ws = Workspace.open(workspace)
    month = _month(ws, month)
    items = send_chasers(ws, month, today.date() if today else None, dry_run=dry_run)
    if not items:
        click.echo(f"Nothing overdue for {month}.")
    if _echo_deliveries(items):
        sys.exit(1)


@main.command()
@month_option
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Draw as of this date, for the forms' due date (default: today), YYYY-MM-DD.")
@workspace_option
def moderate(month: str | None, today: Any, workspace: Path | None) -> None:
    """Draw the month's moderation sample (once; later runs keep it) and write a
    moderation form for each audit drawn, under output/<month>/moderation/."""
    from auditdocs.moderation.sample import describe, moderate_month
    from auditdocs.workspace import Workspace

    ws = Workspace.open(workspace)
    sample = moderate_month(ws, _month(ws, month), today=today.date() if today else None)
    for line in describe(sample):
        click.echo(line)


@main.command()
@month_option
@workspace_option
def status(month: str | None, workspace: Path | None) -> None:
    """Show each audit of a month: state, due date, returns, lateness, urgency."""
    from auditdocs.returns.status import month_status
    from auditdocs.workspace import Workspace

    ws = Workspace.open(workspace)
    for line in month_status(ws, _month(ws, month)).lines():
        click.echo(line)


@main.command()
@click.option("--month", default=None, callback=_check_month,
              help="The audit month to allocate, YYYY-MM (default: the month after the latest allocated, or next "
                   "month; with --add, the latest allocated).")
@click.option("--seed", type=int, default=None, help="Seed for a random sample (recorded in the workbook).")
@click.option("--cases", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Case list export, .xlsx or .csv (default: the file named in config).")
@click.option("--auditors", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Auditor list, .xlsx or .csv (default: the file named in config).")
@click.option("--replace", is_flag=True, help="Overwrite an allocation workbook already made (not yet issued).")
@click.option("--add", is_flag=True,
              help="Keep the month's workbook (issued or not) and add the re-audits due since it was made.")
@workspace_option
def allocate(month: str | None, seed: int | None, cases: Path | None, auditors: Path | None, replace: bool,
             add: bool, workspace: Path | None) -> None:
    """Allocate the month's cases to auditors by the rules in config; writes a workbook to check."""
    from auditdocs.allocation.allocate import allocate as run
    from auditdocs.allocation.months import next_month
    from auditdocs.workspace import Workspace

    if add and (replace or seed is not None):
        raise UsageError("--add keeps the month's workbook: it cannot be used with --replace or --seed")
    ws = Workspace.open(workspace)
    if add:
        month = _month(ws, month)
    elif month is None:
        month = next_month(ws)
        click.echo(f"Month {month} (the month after the latest allocated; choose another with --month)", err=True)
    result = run(ws, month, seed=seed, cases=cases, auditors=auditors, replace_existing=replace, add=add)
    click.echo(result.summary())
    if result.allocations:
        click.echo(f"Next: auditdocs generate --month {month}")


@main.group()
def report() -> None:
    """Monthly Audit Highlights and quarterly reports (Word, Excel, HTML)."""


@report.command("monthly")
@month_option
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Judge overdue audits and discussions as of this date (default: today).")
@workspace_option
def report_monthly(month: str | None, as_of: Any, workspace: Path | None) -> None:
    """The month's Audit Highlights: Word report, Excel workbook, HTML dashboard."""
    from auditdocs.reports import monthly_report
    from auditdocs.workspace import Workspace

    ws = Workspace.open(workspace)
    paths = monthly_report(ws, _month(ws, month), as_of=as_of.date() if as_of else None)
    for path in paths:
        click.echo(f"Wrote {display(path)}")


@report.command("quarterly")
@click.option("--quarter", default=None,
              help="The quarter, YYYYQn (e.g. 2026Q4; default: the quarter of the latest allocated month).")
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Judge overdue audits and discussions as of this date (default: today).")
@workspace_option
def report_quarterly(quarter: str | None, as_of: Any, workspace: Path | None) -> None:
    """The quarter's trends report and learning bulletin (Word), workbook and dashboard."""
    from auditdocs.reports import quarterly_report
    from auditdocs.workspace import Workspace

    ws = Workspace.open(workspace)
    if quarter is None:
        from auditdocs.allocation.months import latest_month
        from auditdocs.dates import quarter_of

        quarter = quarter_of(latest_month(ws))
        click.echo(f"Quarter {quarter} (that of the latest month allocated; choose another with --quarter)", err=True)
    paths = quarterly_report(ws, quarter, as_of=as_of.date() if as_of else None)
    for path in paths:
        click.echo(f"Wrote {display(path)}")


@main.command()
@workspace_option
def demo(workspace: Path | None) -> None:
    """Run the sample month: generate every form, fill some as auditors would, parse them."""
    from auditdocs.sample.demo import run_demo
    from auditdocs.workspace import Workspace

    ws = Workspace.open(workspace)
    run_demo(ws, echo=click.echo)


if __name__ == "__main__":  # pragma: no cover
    main()
