"""Render what commands other than check print: model and index facts, search results,
progress, summaries, settings, fit reports (check results: output.py)."""

from __future__ import annotations

import json
import sys

from ..model import ModelInfo
from ..model.files import default_model_path
from ..reading.calibration import RiskCoverage
from ..runs.output import stdout_console
from ..schema import CheckRecord, Passage


def print_model_info(info: ModelInfo, *, json_out: bool, profile=None) -> None:
    data = {
        "path": str(info.path) if info.path else None, "name": info.name, "size_bytes": info.size,
        "sha256": info.sha256, "architecture": info.architecture, "context_length": info.context_length,
        "n_ctx": info.n_ctx, "chat_template": info.chat_template,
    }
    curve = profile.fitted.risk_coverage if profile is not None else None
    if profile is not None:  # which fitted profile checks with this model apply, and when it was fitted
        below = profile.settings.get("escalate_below")
        data.update(profile=str(profile.path) if profile.path else None, profile_fitted_at=profile.fitted_at,
                    escalation=(f"under confidence {below:g}, keep the {profile.settings.get('escalate_keep', 'pooled')} "
                                f"reading" if below else "never (calibrate found it did not pay)" if below == 0
                                else "not fitted"),
                    risk_coverage=curve.model_dump(mode="json") if curve else None)
    if info.server:  # a served model: where, and which API; its sha256 is derived (model/remote/base.py)
        data.update(server=info.server, flavor=info.flavor)
    if json_out:
        sys.stdout.write(json.dumps(data) + "\n")
        return
    from rich.text import Text

    console = stdout_console()
    for key, value in data.items():
        if key in ("chat_template", "risk_coverage"):
            continue
        console.print(Text.assemble((key, "bold"), f": {value}"), soft_wrap=True)
    console.print("[bold]chat_template[/]:", soft_wrap=True)
    console.print(info.chat_template or ("(the server's own)" if info.server else "(none: a plain transcript is used)"),
                  markup=False, soft_wrap=True)
    if profile is not None:
        if curve is not None:
            console.print(risk_coverage_table(curve, "the profile's held-out curve, "))
        else:
            console.print("risk-coverage curve: none in this profile (--target-accuracy needs one: factcheck "
                          "calibrate fits it; --min-confidence works without)", markup=False, soft_wrap=True)


def print_passages(passages: list[Passage], *, json_out: bool) -> None:
    if json_out:
        for passage in passages:
            sys.stdout.write(passage.model_dump_json() + "\n")
        return
    from rich.table import Table
    from rich.text import Text

    table = Table()
    for column in ("rank", "score", "id", "title", "text"):
        table.add_column(column, overflow="fold")
    for rank, p in enumerate(passages, start=1):
        text = p.text if len(p.text) <= 300 else p.text[:300] + "…"
        table.add_row(Text(str(rank)), Text(f"{p.score:.2f}"), Text(p.id), Text(p.title), Text(text))
    stdout_console().print(table)


class BatchProgress:
    """A progress bar with rate and ETA on stderr, only when stderr is a terminal."""

    def __init__(self, total: int | None, already_done: int, label: str = "checking", show: bool | None = None) -> None:
        from rich.console import Console

        self._console = Console(stderr=True)
        self._progress = None
        self.show = self._console.is_terminal if show is None else show  # False: --quiet, or not a terminal
        if self.show and self._console.is_terminal:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            self._progress = Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(),
                                      TextColumn("{task.fields[rate]}"), TimeRemainingColumn(),
                                      console=self._console, transient=True)
            self._task = self._progress.add_task("check", total=total, completed=already_done, rate="")
        self._start = None

    def __enter__(self) -> BatchProgress:
        import time

        self._start = time.perf_counter()
        self._count = 0
        if self._progress:
            self._progress.start()
        return self

    def set_total(self, total: int) -> None:
        if self._progress:
            self._progress.update(self._task, total=total)

    def reached(self, done: int, total: int) -> None:
        """For work counted in steps of many items: ``done`` of ``total`` finished."""
        if self._progress:
            self._progress.update(self._task, total=total, completed=done)

    def advance(self, record: CheckRecord | None = None) -> None:
        import time

        self._count += 1
        if self._progress:
            per_min = self._count / max(time.perf_counter() - self._start, 1e-9) * 60
            self._progress.update(self._task, advance=1, rate=f"{per_min:.1f}/min")

    def __exit__(self, *exc) -> None:
        if self._progress:
            self._progress.stop()


class CalibrationProgress(BatchProgress):
    """Calibration's progress: the bar on a terminal; elsewhere (a log, CI, nohup) a line on
    stderr every ``every`` claims, since a fit on a slow model runs for hours."""

    def __init__(self, calibration_set, every: int = 10, quiet: bool = False) -> None:
        total = sum(plan.claims for plan in calibration_set.plans)
        super().__init__(total, 0, label="calibrating", show=not quiet and None)
        self.quiet = quiet
        self._total, self._every = total, every

    def building(self, part) -> None:
        from rich.console import Console
        from rich.text import Text

        Console(stderr=True, highlight=False).print(
            Text(f"indexing the corpus of {part.name} (once; kept in the cache folder)"), soft_wrap=True)

    def advance(self, part=None) -> None:  # noqa: D102 (a claim of ``part`` was measured)
        import time

        super().advance()
        if self._progress is None and not self.quiet and (self._count % self._every == 0 or self._count == self._total):
            seconds = (time.perf_counter() - self._start) / self._count
            where = f" ({part.name})" if part is not None else ""
            print(f"calibrating: {self._count}/{self._total} claims{where}, {seconds:.1f} s a claim",
                  file=sys.stderr, flush=True)


def print_summary(summary) -> None:
    """The end-of-run summary, on stderr."""
    from rich.console import Console

    console = Console(stderr=True, highlight=False)
    verdicts = ", ".join(f"{k} {v}" for k, v in sorted(summary.verdicts.items())) or "none"
    routes = ", ".join(f"{k} {v}" for k, v in sorted(summary.routes.items())) or "none"
    console.print(
        f"{'interrupted: ' if summary.interrupted else ''}{summary.checked} checked "
        f"({summary.cached} from cache), {summary.errors} errors, {summary.skipped} already done; "
        + (f"{summary.unchecked} sentences gave no claim to check; " if summary.unchecked else "")
        + f"verdicts: {verdicts}; routes: {routes}; {summary.seconds:.1f} s, "
        f"{summary.prompt_tokens} prompt + {summary.generated_tokens} generated tokens",
        soft_wrap=True)


def _ci(value, interval) -> str:
    if value is None:
        return "—"
    return f"{value:.3f}" + (f" [{interval[0]:.2f}–{interval[1]:.2f}]" if interval else "")


def print_eval(result: dict) -> None:
    """One row per strategy: quality (with bootstrap 95% intervals), calibration and cost."""
    from rich.table import Table
    from rich.text import Text

    adapted = {name: r["adapted"] for name, r in result["strategies"].items() if r.get("adapted")}
    caption = "[low–high]: bootstrap 95% interval over the claims"
    if adapted:
        caption += "; adapted by batch calibration (--adapt none: as read): " + ", ".join(
            f"{name} {n} verdicts" for name, n in adapted.items())
    table = Table(title=Text(str(result.get("claims_file", ""))), caption=Text(caption))
    sure = any(r.get("answered", 1.0) < 1.0 for r in result["strategies"].values())  # a bar was given
    columns = ["strategy", "acc", "macro-F1", "AUROC", "ECE", "Brier", "read evidence", "tokens/claim", "s/claim"]
    for column in columns + (["answered", "acc answered"] if sure else []):
        table.add_column(column, justify="right")
    for name, r in result["strategies"].items():
        row = [Text(name), _ci(r["accuracy"], r.get("accuracy_ci")), _ci(r["macro_f1"], r.get("macro_f1_ci")),
               _ci(r["auroc"], r.get("auroc_ci")), _ci(r["ece"], r.get("ece_ci")), _ci(r["brier"], None),
               f"{r['retrieval_rate']:.2f}", f"{r['tokens_per_claim']:.0f}", f"{r['seconds_per_claim']:.1f}"]
        if sure:
            row += [f"{r['answered']:.2f}", _ci(r["answered_accuracy"], r.get("answered_accuracy_ci"))]
        table.add_row(*row)
    console = stdout_console()
    console.print(table)
    for name, r in result["strategies"].items():
        console.print(risk_coverage_table(RiskCoverage.model_validate(r["risk_coverage"]), f"{name}: "))


def risk_coverage_table(curve: RiskCoverage, title: str = ""):
    """The risk-coverage curve as a table: at each confidence threshold, the share answered and
    their accuracy with its 95% interval. eval, calibrate and model info print it alike."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=Text(f"{title}answering only when sure ({curve.measured_on} claims)"),
                  caption=Text("--min-confidence T keeps a verdict when its confidence reaches T; "
                               "--target-accuracy A picks the lowest T whose accuracy reaches A"))
    for column in ("confidence >=", "answered", "accuracy [95% interval]", "claims"):
        table.add_column(column, justify="right")
    for p in curve.points:
        table.add_row(f"{p.threshold:.2f}", f"{p.coverage:.0%}", f"{p.accuracy:.3f} [{p.low:.3f}, {p.high:.3f}]",
                      str(p.claims))
    return table


def transfer_table(rows: list[dict]):
    """calibrate --transfer: each part judged by a section fitted on the others."""
    from rich.table import Table

    table = Table(title="transfer: each part left out, fitted on the others (95% intervals)", title_justify="left")
    for column in ("left out", "adaptation", "claims", "macro-F1", "accuracy", "AUROC of confidence",
                   "predicted / gold share", "shares within 0.5-1.5x"):
        table.add_column(column, justify="left" if column in ("left out", "adaptation") else "right")
    for r in rows:
        area = "-" if r["auroc"] is None else f"{r['auroc']:.3f} [{r['auroc_ci'][0]:.2f}, {r['auroc_ci'][1]:.2f}]"
        shares = " ".join(f"{label[:1]} {r['predicted_share'][label]:.2f}/{gold:.2f}"
                          for label, gold in r["gold_share"].items())
        table.add_row(r["left_out"], r["adaptation"], str(r["claims"]),
                      f"{r['macro_f1']:.3f} [{r['macro_f1_ci'][0]:.2f}, {r['macro_f1_ci'][1]:.2f}]",
                      f"{r['accuracy']:.3f}", area, shares, "yes" if r["shares_within"] else "no")
    return table


def escalation_table(report: dict):
    """calibrate's side-by-side comparison of reading once and escalating unsure readings."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"escalation, held out on {report['escalation_claims']} claims (95% intervals)",
                  caption=Text(f"kept: {report['escalation_chosen']}"), title_justify="left", caption_justify="left")
    for column in ("strategy", "macro-F1", "change vs reading once", "escalated", "tokens/claim"):
        table.add_column(column, justify="left" if column == "strategy" else "right")
    for p in report["escalation"]:
        table.add_row(p["strategy"], f"{p['macro_f1']:.3f} [{p['low']:.3f}, {p['high']:.3f}]",
                      f"{p['gain']:+.3f} [{p['gain_low']:+.3f}, {p['gain_high']:+.3f}]", f"{p['escalated']:.0%}",
                      f"{p['tokens_per_claim']:.0f}")
    return table


def print_fit_report(report: dict, label_set) -> None:
    """What calibrate fitted for one label set, on stderr: enough to judge it and to inspect the router."""
    from rich.console import Console
    from rich.text import Text

    console = Console(stderr=True, highlight=False)
    lines = [f"{label_set.value} labels: fitted on {report['claims']} claims with evidence "
             f"({report.get('without_evidence', 0)} had none)",
             f"reader {report['reader']}: macro-F1 {report['evidence_macro_f1']:.3f} out of fold"]
    if "reader_cv_macro_f1" in report:
        lines.append(f"reader chosen by cross-validated macro-F1: {report['reader_cv_macro_f1']}")
    if "probe_strength" in report:
        lines.append(f"probe: L2 strength C={report['probe_strength']} on {report['probe_claims']} claims "
                     f"(cross-validated macro-F1 by C: {report['probe_cv_macro_f1']})")
    if "answer_map_strength" in report:
        lines.append(f"answer map: L2 strength C={report['answer_map_strength']} "
                     f"(cross-validated macro-F1 by C: {report['answer_map_cv_macro_f1']})")
    lines.append(f"label bias (log): {report['label_bias']} (cross-validated macro-F1 fitted vs none: "
                 f"{report['label_bias_cv_macro_f1']})")
    lines.append(f"confidence maps: held-out ECE {report['calibration_cv']}")
    lines.append(f"router: reads evidence for {report['router_read_rate']:.0%} of claims, "
                 f"{report['router_tokens']:.0f} tokens per claim (always reading: {report['always_read_tokens']:.0f}; "
                 f"budget {report['budget_fraction']:.0%}), macro-F1 {report['router_macro_f1']:.3f}")
    if report.get("router_reads_always"):
        lines.append(f"router: within the budget the best macro-F1 was {report['router_best_within_budget']:.3f}, more "
                     f"than --max-loss {report['max_loss']} below always reading, so auto reads every claim")
    if "evidence_macro_f1_ci" in report:  # bootstrap 95% intervals over the fit claims
        def ci(key):
            low, high = report[key]
            return f"[{low:.3f}, {high:.3f}]"

        lines.append(f"held-out figures, 95% intervals over the {report['claims']} claims: macro-F1 without evidence "
                     f"{report['direct_macro_f1']:.3f} {ci('direct_macro_f1_ci')}, reading evidence "
                     f"{report['evidence_macro_f1']:.3f} {ci('evidence_macro_f1_ci')}, as routed "
                     f"{report['routed_macro_f1']:.3f} {ci('routed_macro_f1_ci')}")
        pays = (not report.get("router_reads_always") and report["routing_token_share"] < 1.0
                and report["routing_gain_ci"][0] >= -report["max_loss"])
        verdict = ("pays" if pays else "does not pay" if report.get("router_reads_always")
                   else "is not shown to pay")  # it saves tokens, but the change's interval passes --max-loss
        lines.append(f"routing {verdict} for this model: "
                     f"{report['routing_token_share']:.0%} of always reading's tokens, macro-F1 change "
                     f"{report['routing_gain']:+.3f} {ci('routing_gain_ci')} (budget {report['budget_fraction']:.0%})")
    for line in lines:
        console.print(Text(line), soft_wrap=True)
    if "escalation" in report:
        console.print(escalation_table(report))
    elif "escalation_skipped" in report:
        console.print(Text(f"escalation not fitted: {report['escalation_skipped']}"), soft_wrap=True)
    if report.get("transfer"):
        console.print(transfer_table(report["transfer"]))
    if "risk_coverage" in report:
        console.print(risk_coverage_table(RiskCoverage.model_validate(report["risk_coverage"]), "held out, "))
    elif "risk_coverage_skipped" in report:
        console.print(Text(f"no risk-coverage curve ({report['risk_coverage_skipped']}): --target-accuracy will "
                           f"refuse this profile; --min-confidence works without"), soft_wrap=True)


def print_index_info(manifest: dict) -> None:
    """What an index holds, in words (``--json`` gives the manifest as it is)."""
    vectors = manifest.get("vectors")
    rows = {
        "documents": manifest.get("documents"), "passages": manifest.get("passages"),
        "words per passage": manifest.get("passage_words"),
        "search": f"BM25, and by meaning ({vectors} vectors)" if vectors
        else "BM25 (no vectors: build with --vectors to search by meaning too)",
        "stemmer": manifest.get("stemmer"), "stop words": manifest.get("stopwords"),
        "built from": ", ".join(map(str, manifest.get("sources") or [])) or "unknown",
        "records skipped": manifest.get("skipped_count", 0),
        "build time": f"{manifest.get('build_seconds', 0):.1f} s",
        "format": f"{manifest.get('format')} version {manifest.get('version')}",
    }
    for key, value in rows.items():
        print(f"{key}: {value}")


def print_settings(settings, sources: dict[str, str], *, json_out: bool, files: dict | None = None,
                   fitted=None, fitted_source: str = "") -> None:
    """Each setting with its value and origin; fitted tables (probe weights, maps) summarised."""
    from rich.text import Text

    def shown(name: str, value):
        if name == "api_key" and value:
            return "(set)"  # never print a secret
        if name == "probe" and value is not None:
            return f"linear head, {len(value.labels)} labels x {value.dim} features"
        if name == "answer_map" and value is not None:
            words = ("TRUE", "FALSE", "UNKNOWN")
            return "; ".join(f"{lab.value} = " + " ".join(f"{w:+.2f} {word}" for w, word in zip(row, words))
                             + f" {b:+.2f}" for lab, row, b in zip(value.labels, value.weights, value.intercept)) \
                + " (log-probabilities of the answers, then softmax)"
        if name == "label_bias" and value is not None:
            return ", ".join(f"{lab.value} {v:+.2f}" for lab, v in value.items())
        if name == "router" and value is not None:
            weights = ", ".join(f"{f} {w:+.3g}" for f, w in zip(value.features, value.weights))
            if value.reads_always:
                return f"reads every claim with evidence (fitted: routing lost more than its max-loss); logistic: {weights}"
            return f"logistic: {weights}, intercept {value.intercept:+.3g}, reads when P >= {value.threshold:.3g}"
        if name == "calibration" and value is not None:
            maps = {basis: getattr(value, basis) for basis in ("evidence", "model") if getattr(value, basis)}
            return "; ".join(f"{basis}: {m.method}" for basis, m in maps.items())
        if name == "model" and value is None and not settings.api_base:
            return f"{default_model_path()} (the default model)"
        if hasattr(value, "value"):
            return value.value
        return value

    def plain(value) -> str:
        """A value as a person writes it in a config file, not as Python prints it."""
        if value is None:
            return "none"
        if isinstance(value, bool):
            return str(value).lower()
        if isinstance(value, (list, tuple)):
            return ", ".join(plain(v) for v in value) or "none"
        return str(value)

    rows = {name: {"value": shown(name, getattr(settings, name)), "source": sources[name]}
            for name in type(settings).model_fields}
    if fitted is not None:  # what the profile fitted: not settings, but shown beside them
        rows.update({name: {"value": shown(name, getattr(fitted, name)),
                            "source": fitted_source if getattr(fitted, name) is not None else "none fitted"}
                     for name in type(fitted).model_fields})
    if json_out:
        sys.stdout.write(json.dumps(rows, default=str) + "\n")
        return
    console = stdout_console()
    for label, path in files.items():
        state = ("not found" if path is None else path if isinstance(path, str)
                 else str(path) if path.exists() else f"{path} (not found)")
        console.print(Text.assemble((label, "bold"), f": {state}"), soft_wrap=True)
    for name, row in rows.items():
        console.print(Text.assemble((name, "bold"), f" = {plain(row['value'])}  ", (f"({row['source']})", "dim")),
                      soft_wrap=True)
