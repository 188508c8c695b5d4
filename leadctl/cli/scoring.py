"""`score`: recompute scores, explain them, adjust them, and store new rules."""

from pathlib import Path
from typing import Annotated, Any

import typer

from leadctl.cli.state import JsonOpt, state


def register(app: typer.Typer) -> None:
    app.command("score")(score)


def score(
    ctx: typer.Context,
    lead_ids: Annotated[
        list[int] | None,
        typer.Argument(metavar="ID", help="Leads to rescore (every lead when none)."),
    ] = None,
    explain: Annotated[
        bool, typer.Option("--explain", help="Show every rule that fired and its points.")
    ] = False,
    adjust: Annotated[
        int | None,
        typer.Option(
            "--adjust",
            metavar="±N",
            help="Set the manual adjustment to ±N points (kept across recomputes and rule "
            "changes; 0 removes it). Needs --reason.",
            show_default=False,
        ),
    ] = None,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why (recorded in the lead's timeline).")
    ] = None,
    rules_file: Annotated[
        Path | None,
        typer.Option(
            "--rules",
            metavar="FILE",
            help="Check and store a TOML rule set (admin), then rescore every lead "
            "(with --dry-run: only say what it would change).",
            show_default=False,
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Write nothing: say how many leads would change score, band and stage, "
            "and show the top movers and the rule lines that moved them.",
        ),
    ] = False,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit",
            metavar="N",
            help="--dry-run: how many top movers to show (default 10; 0 for none).",
            show_default=False,
        ),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Recompute lead scores from the rules; explain, adjust, or change the rules."""
    from leadctl import scoring, users
    from leadctl.errors import InvalidInput

    ids = list(dict.fromkeys(lead_ids or []))
    if limit is not None and not dry_run:
        raise InvalidInput("--limit goes with --dry-run")
    if dry_run:
        if ids or explain or adjust is not None or reason is not None:
            raise InvalidInput(
                "--dry-run previews a rescore of every lead: use it with --rules FILE or alone"
            )
        _dry_run(ctx, rules_file, limit, json_out=json_out)
        return
    if adjust is not None and not (reason and reason.strip()):
        raise InvalidInput("--adjust needs --reason: say why the score is adjusted")
    if reason is not None and adjust is None:
        raise InvalidInput("--reason goes with --adjust ±N")
    if (adjust is not None or explain) and not ids:
        raise InvalidInput(f"{'--adjust' if adjust is not None else '--explain'} needs lead ids")
    text = _read_rules(rules_file) if rules_file else None
    app = state(ctx)
    summary = None
    with app.session(immediate=True) as session:
        who = users.actor(session, app.actor)
        if text is not None:
            summary = scoring.change_rules(session, who, text, str(rules_file))
        scored = [
            scoring.score_lead(session, who, lead_id)
            if adjust is None
            else scoring.adjust(session, who, lead_id, adjust, reason=reason)
            for lead_id in ids
        ]
        found = [lead for lead, _ in scored]
        explanations = [explanation for _, explanation in scored]
        if not ids and summary is None:
            summary = scoring.rescore_all(session, who)
    _render(found, explanations, summary, rules_file, explain=explain, json_out=json_out)


def _dry_run(
    ctx: typer.Context, rules_file: Path | None, limit: int | None, *, json_out: bool
) -> None:
    from leadctl import scoring, users
    from leadctl.cli import render
    from leadctl.scoring.whatif import MOVERS

    text = _read_rules(rules_file) if rules_file else None
    app = state(ctx)
    with app.session(immediate=False) as session:
        who = users.actor(session, app.actor)
        source = str(rules_file) if rules_file else "the rules in force"
        found = scoring.preview_rules(
            session, who, text, source, limit=MOVERS if limit is None else limit
        )
        session.rollback()  # nothing to keep: the dry run writes nothing
    if json_out:
        data = found.to_dict()
        if rules_file:
            data["rules"] = str(rules_file)
        render.emit_json(data)
        return
    _whatif_table(found, rules_file)


def _whatif_table(found: Any, rules_file: Path | None) -> None:
    """Bands and stages before → after, then the top movers with the rule lines
    that moved them; a line on stderr says that nothing was written."""
    from leadctl.cli import render

    rules = f"by {rules_file}" if rules_file else "by the rules in force"
    noun = "lead" if found.rescored == 1 else "leads"
    render.message(f"dry run: nothing was written ({found.rescored} {noun} looked at)")
    counts = [
        ("score or band changes", "", f"{found.changed:,}"),
        *((band, f"{found.bands_before[band]:,}", f"{n:,}") for band, n in found.bands.items()),
        ("stage changes", "", f"{found.stage_changes:,}"),
        *(
            (stage, f"{found.stages_before[stage]:,}", f"{n:,}")
            for stage, n in found.stages.items()
        ),
    ]
    render.table(
        ["", "Now", "After"],
        counts,
        title=f"what a rescore {rules} would change",
        justify={"Now": "right", "After": "right"},
    )
    if not found.movers:
        return
    rows = []
    for mover in found.movers:
        lines = "\n".join(
            f"{line['rule']}: {_points(line['old'])} → {_points(line['new'])}"
            for line in mover.rules
        )
        rows.append(
            (
                mover.id,
                mover.name,
                mover.old,
                mover.new,
                render.styled(mover.band, render.BAND_STYLE),
                lines,
            )
        )
    render.table(
        ["ID", "Name", "Old", "New", "Band", "Rule lines that moved it (old → new)"],
        rows,
        title=f"top {len(rows)} movers",
        justify={"ID": "right", "Old": "right", "New": "right"},
    )


def _points(value: int | None) -> str:
    return "—" if value is None else f"{value:+d}"


def _read_rules(path: Path) -> str:
    from leadctl.errors import InvalidInput

    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput(f"scoring rules file {path} not found") from None
    except UnicodeDecodeError:
        raise InvalidInput(f"invalid scoring rules {path}: not UTF-8 text") from None
    except OSError as error:
        raise InvalidInput(f"cannot read scoring rules {path}: {error.strerror}") from None


def _render(
    found: list[Any],
    explanations: list[Any],
    summary: Any,
    rules_file: Path | None,
    *,
    explain: bool,
    json_out: bool,
) -> None:
    from leadctl import leads
    from leadctl.cli import render

    if explain:
        if json_out:
            data = [e.to_dict() for e in explanations]
            render.emit_json(data[0] if len(data) == 1 else data)
        else:
            for lead, explanation in zip(found, explanations, strict=True):
                _explain_table(lead, explanation)
        return
    if found:
        if json_out:
            data = [leads.to_dict(lead) for lead in found]
            render.emit_json(data[0] if len(data) == 1 else data)
        else:
            render.table(
                ["ID", "Name", "Score", "Band", "Adjustment"],
                [
                    (
                        lead.id,
                        render.escape(lead.name),
                        lead.score,
                        render.styled(lead.band, render.BAND_STYLE),
                        f"{lead.score_adjustment:+d}" if lead.score_adjustment else "",
                    )
                    for lead in found
                ],
                justify={"ID": "right", "Score": "right", "Adjustment": "right"},
            )
        return
    if json_out:
        counts: dict[str, Any] = {"rescored": summary.rescored, "changed": summary.changed}
        if rules_file:
            counts["rules"] = str(rules_file)
        render.emit_json(counts)
        return
    if rules_file:
        render.message(f"stored scoring rules from {rules_file}")
    noun = "lead" if summary.rescored == 1 else "leads"
    render.message(f"rescored {summary.rescored} {noun} ({summary.changed} changed)")


def _explain_table(lead: Any, explanation: Any) -> None:
    """Rule lines, then the adjustment and the score they add up to."""
    from leadctl.cli import render

    rows: list[tuple[str, str, str]] = [  # Markup cells are str too
        (line.component, render.escape(line.rule), f"{line.points:+d}")
        for line in explanation.lines
    ]
    if explanation.adjustment:
        rows.append(("adjustment", "manual (see timeline)", f"{explanation.adjustment:+d}"))
    parts = ", ".join(f"{k} {v}" for k, v in explanation.components.items())
    rows.append(
        (
            "score",
            render.Markup(f"[bold]{parts}[/]"),
            render.Markup(f"[bold]{explanation.score}[/]"),
        )
    )
    band = render.styled(explanation.band, render.BAND_STYLE)
    render.table(
        ["Component", "Rule", "Points"],
        rows,
        title=render.Markup(f"#{lead.id} {render.escape(lead.name)}: {explanation.score} {band}"),
        justify={"Points": "right"},
    )
