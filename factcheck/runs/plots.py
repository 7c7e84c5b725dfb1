"""The two PNG charts of an evaluation report (matplotlib, imported only here)."""

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
    ax.set_xlabel("confidence")
    ax.set_ylabel("accuracy")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title("Reliability (15 equal-width bins)")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


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
