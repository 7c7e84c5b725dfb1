"""factcheck eval and calibrate: measuring and fitting on labeled claims."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import InputError
from ..fitting.calibrate import calibrate as fit_profile
from ..fitting.calibration_set import (
    builtin_set_path,
    prepare,
    read_set,
    single_part,
)
from ..pipeline import configure
from ..runs.evaluate import read_labeled, run_eval, write_report
from .app import (
    app,
    load_model,
    resolve_settings,
    say,
    showing_progress,
    terminal,
)
from .options import (
    ADAPT_OPTIONS,
    MODEL_OPTIONS,
    SOURCE_OPTIONS,
    SURE_OPTIONS,
    NoCacheOpt,
    setting_options,
)
from .render import BatchProgress, CalibrationProgress, print_eval, print_fit_report


@app.command("eval")
@setting_options(*SOURCE_OPTIONS, "consistency", "alpha", "beta", "max_hops", "escalate_below", "profile", *SURE_OPTIONS,
                 *ADAPT_OPTIONS, *MODEL_OPTIONS)
def eval_command(
    claims_file: Annotated[Path, typer.Argument(metavar="CLAIMS", help="Labeled claims, JSON Lines ({id, claim, label, evidence}).")],
    strategy: Annotated[str, typer.Option("--strategy", metavar="LIST", help="Comma-separated: auto, direct, retrieve, deep.")] = "auto,direct,retrieve,deep",
    limit: Annotated[Optional[int], typer.Option("--limit", metavar="N", min=1, help="Only the first N claims.", show_default=False)] = None,
    report: Annotated[Optional[Path], typer.Option("--report", metavar="DIR", help="Folder for report.json, records and PNG plots.", show_default=False)] = None,
    no_cache: NoCacheOpt = False, *, flags: dict,
) -> None:
    """Score strategies side by side on labeled claims: F1, AUROC, ECE, Brier, cost (with bootstrap 95% intervals)."""

    with BatchProgress(0, 0, show=showing_progress()) as bar:
        result, records = run_eval(claims_file, strategy, limit, load_model, on_total=bar.set_total,
                                   on_claim=bar.advance, no_cache=no_cache, **flags)
    if report is not None:
        skipped = write_report(report, result, records)
        if skipped:
            say("plots skipped:", "yellow", f"{skipped}; report.json and the records were written to {report}")
    print_eval(result)


@app.command()
@setting_options(*SOURCE_OPTIONS, *MODEL_OPTIONS)
def calibrate(
    claims_file: Annotated[Optional[Path], typer.Argument(metavar="[CLAIMS]", help="Labeled claims, JSON Lines ({id, claim, label}), checked against --index or --web.", show_default=False)] = None,
    calibration_set: Annotated[Optional[Path], typer.Option("--set", metavar="FILE", help="A calibration set instead: labeled parts, each with its own corpus or index, per label set (TOML; README, Calibration).", show_default=False)] = None,
    builtin: Annotated[bool, typer.Option("--builtin", help="Fit on the calibration set that ships with factcheck: 830 labeled claims of SciFact, Check-COVID and FM2 with the documents their searches need, for both label sets.")] = False,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", metavar="PATH", help="Profile to write (default: ~/.config/factcheck/profiles/<model sha256>.toml, used automatically for that model).", show_default=False)] = None,
    reader: Annotated[str, typer.Option("--reader", metavar="READER", help="How evidence is read: auto (joint+scaled or joint+logits, whichever cross-validates better on these claims), joint+scaled (the label words through a fitted linear map), joint+logits (the label words, with a bias where it holds out), joint+probe (a learned head on the hidden state: fit it on data like yours) or chunks+logits.")] = "auto",
    budget: Annotated[float, typer.Option("--budget", metavar="SHARE", help="Router budget: most model tokens per claim, as a share of always reading evidence.")] = 0.5,
    max_loss: Annotated[float, typer.Option("--max-loss", metavar="F1", help="Most macro-F1 the router may give up against always reading to keep the budget; beyond it auto reads every claim.")] = 0.02,
    limit: Annotated[Optional[int], typer.Option("--limit", metavar="N", min=20, help="Only the first N claims of CLAIMS.", show_default=False)] = None,
    escalation: Annotated[bool, typer.Option("--escalation/--no-escalation", help="Also measure escalating unsure readings (a wider search, read again) on up to 200 claims per label set, and keep it in the profile where it pays. It reads those claims about 2.6 times over.")] = True,
    transfer: Annotated[bool, typer.Option("--transfer", help="Also measure transfer: leave each part of a label set out in turn, fit on the others, and judge on it, as fitted and with label-free adaptation (batch and contextual calibration). Needs two parts or more; costs no model call beyond the fit's.")] = False,
    *, flags: dict,
) -> None:
    """Fit how evidence is read, the label decision, confidence and routing on labeled claims; write a profile.

    Claims whose labels are all SUPPORTED/REFUTED fit the binary table of the profile, others
    the three-label one; a table not refitted is kept. Needs scikit-learn (the eval extra)."""

    if sum((claims_file is not None, calibration_set is not None, builtin)) != 1:
        raise InputError("give one of CLAIMS (with --index or --web), --set FILE or --builtin")
    if builtin:
        calibration_set = builtin_set_path()
    if calibration_set is not None:
        if flags.get("index"):
            raise InputError("--index goes with CLAIMS: each part of a --set names its own corpus or index")
        chosen = read_set(calibration_set)
    else:
        chosen = single_part(claims_file, read_labeled(claims_file, limit), flags.get("index") or [])
    with CalibrationProgress(chosen, quiet=terminal().quiet) as progress:
        prepare(chosen, on_build=progress.building)
        target, reports = fit_profile(
            chosen, lambda plan: configure(resolve_settings(flags, labels=plan.label_set.value, route="retrieve",
                                              **plan.settings))[0],
            load_model, reader=reader, budget=budget, max_loss=max_loss, out=out, escalation=escalation, transfer=transfer,
            command=_calibrate_command(claims_file, None if builtin else calibration_set, reader, budget,
                                       max_loss, builtin=builtin, escalation=escalation),
            on_claim=progress.advance)
    for label_set, report in reports.items():
        print_fit_report(report, label_set)
    say("wrote", "", str(target))


def _calibrate_command(claims_file, calibration_set, reader: str, budget: float, max_loss: float,
                       builtin: bool = False, escalation: bool = True) -> str:
    """How a profile was fitted, for its [meta] table: what was fitted on and any fit option changed."""
    import shlex

    fitted_on = ["--builtin"] if builtin else ["--set", str(calibration_set)] if calibration_set else [str(claims_file)]
    words = ["factcheck", "calibrate", *fitted_on]
    for option, value, default in (("--reader", reader, "auto"), ("--budget", budget, 0.5), ("--max-loss", max_loss, 0.02)):
        if value != default:
            words += [option, str(value)]
    if not escalation:
        words.append("--no-escalation")
    return shlex.join(words)
