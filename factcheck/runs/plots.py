"""The PNG charts of an evaluation report (matplotlib, imported only here)."""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise InputError("plots need matplotlib: pip install 'factcheck-pcc[eval]'") from None
    return plt


def reliability_diagram(report: dict, path: Path) -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label="perfect calibration")
    for name, result in report["strategies"].items():
        bins = result["reliability"]
        ax.plot([b["confidence"] for b in bins], [b["accuracy"] for b in bins], marker="o",
                label=f"{name} (ECE {result['ece']:.3f})")
    _finish(plt, fig, ax, path, xlabel="confidence", ylabel="accuracy", title="Reliability (15 equal-width bins)",
            legend="upper left")


def cost_quality(report: dict, path: Path) -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 4))
    strategies = report["strategies"]
    for i, (name, result) in enumerate(strategies.items()):
        ax.scatter(result["tokens_per_claim"], result["macro_f1"], s=50)
        # alternate label sides so strategies at similar points stay readable
        ax.annotate(name, (result["tokens_per_claim"], result["macro_f1"]), textcoords="offset points",
                    xytext=(6, 6 if i % 2 == 0 else -12), fontsize=9)
    if all(r["tokens_per_claim"] > 0 for r in strategies.values()):
        ax.set_xscale("log")  # costs span orders of magnitude: a direct verdict vs deep search
    ax.set_xlabel("model tokens per claim")
    ax.set_ylabel("macro-F1")
    ax.set_title("Cost and quality per strategy")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def risk_coverage_plot(report: dict, path: Path) -> None:
    """Accuracy of the verdicts answered against the share answered, one curve a strategy,
    each point a confidence threshold, with its 95% interval."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for name, result in report["strategies"].items():
        points = result["risk_coverage"]["points"]
        ax.errorbar([p["coverage"] for p in points], [p["accuracy"] for p in points],
                    yerr=[[max(p["accuracy"] - p["low"], 0) for p in points],
                          [max(p["high"] - p["accuracy"], 0) for p in points]],
                    marker="o", capsize=2, label=name)
    ax.grid(alpha=0.3)
    _finish(plt, fig, ax, path, xlabel="share of claims answered (confidence at or above the threshold)",
            ylabel="accuracy of those answered", title="Risk and coverage: answering only when sure",
            legend="lower left")


def _finish(plt, fig, ax, path: Path, *, xlabel: str, ylabel: str, title: str, legend: str) -> None:
    """Label a chart whose axes are both shares (0 to 1) and save it."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_title(title)
    ax.legend(loc=legend, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
