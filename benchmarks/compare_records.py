"""Compare the records of two `factcheck eval --report DIR` runs claim by claim: the same
verdict, route and basis, and label probabilities within a tolerance. For a change that must
not change behaviour (a refactor): run eval before and after on the same claims, then

    python3 benchmarks/compare_records.py BEFORE_DIR AFTER_DIR [--tolerance 1e-6]

Exits 1 and names the first differences when any claim differs.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def records(folder: Path) -> dict[tuple[str, str], dict]:
    out = {}
    for path in sorted(folder.glob("records_*.jsonl")):
        strategy = path.stem.removeprefix("records_")
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            out[(strategy, row["id"])] = row
    return out


def differences(before: dict, after: dict, tolerance: float) -> list[str]:
    found = []
    for key in sorted(before.keys() | after.keys()):
        a, b = before.get(key), after.get(key)
        if a is None or b is None:
            found.append(f"{key}: only in {'after' if a is None else 'before'}")
            continue
        for field in ("verdict", "route", "basis"):
            if a.get(field) != b.get(field):
                found.append(f"{key}: {field} {a.get(field)} -> {b.get(field)}")
        for label in (a.get("label_probs") or {}).keys() | (b.get("label_probs") or {}).keys():
            pa, pb = (a.get("label_probs") or {}).get(label), (b.get("label_probs") or {}).get(label)
            if pa is None or pb is None or abs(pa - pb) > tolerance:
                found.append(f"{key}: P({label}) {pa} -> {pb}")
        if set(a) != set(b):
            found.append(f"{key}: record keys differ: {sorted(set(a) ^ set(b))}")
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--tolerance", type=float, default=1e-6)
    args = parser.parse_args()
    before, after = records(args.before), records(args.after)
    found = differences(before, after, args.tolerance)
    routes = sorted({(row.get("route"), row.get("basis")) for row in after.values()}, key=str)
    print(f"{len(after)} records compared ({len({k[1] for k in after})} claims x "
          f"{len({k[0] for k in after})} strategies); routes and bases: {routes}")
    for line in found[:20]:
        print(line)
    print(f"{len(found)} differences" if found else "identical within the tolerance")
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
