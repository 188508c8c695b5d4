"""Whole-process timing for the benchmarks: ratios measured pair by pair.

The machine is shared and noisy, so a target is never an absolute time: each
benchmark runs command A and its reference B in turn (A B A B …) and reports
the median of the per-pair ratios A/B, plus the medians of each.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "benchmarks" / "data"
VENV_BIN = Path(os.environ.get("LEADCTL_BENCH_BIN", ROOT / ".venv" / "bin"))
LEADCTL = str(VENV_BIN / "leadctl")
PYTHON = str(VENV_BIN / "python")


def compile_bytecode() -> None:
    """Compile leadctl's modules once, as `pip install .` does at install time.

    The development install is editable (the modules are the source files), and
    where PYTHONDONTWRITEBYTECODE is set Python would compile every module again
    on every run: a cost an installed leadctl never pays, and which grows with
    the code rather than the work measured."""
    import compileall

    compileall.compile_dir(ROOT / "leadctl", quiet=1)


compile_bytecode()


@dataclass
class Comparison:
    name: str
    a_median: float
    b_median: float
    ratio_median: float
    target: float

    def line(self) -> str:
        verdict = "ok" if self.ratio_median <= self.target else "OVER"
        return (
            f"{self.name}: A {self.a_median * 1000:.0f} ms, B {self.b_median * 1000:.0f} ms, "
            f"ratio {self.ratio_median:.2f} (target ≤ {self.target}) {verdict}"
        )


def run_once(command: Sequence[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
        check=False,
    )
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):  # 1: an import that rejected rows; worse is no figure
        raise SystemExit(f"{' '.join(command)}: exit {done.returncode}: {done.stderr[-300:]!r}")
    return elapsed


def compare(
    name: str,
    a: Sequence[str] | Sequence[Sequence[str]],
    b: Sequence[str],
    *,
    target: float,
    runs: int = 9,
    env: dict[str, str] | None = None,
    before: Callable[[], None] | None = None,
) -> Comparison:
    """Median of per-pair ratios A/B after one warm-up of each.

    ``a`` may be a list of commands, cycled run by run (for commands that must
    change something each time); ``before`` runs untimed before every run of
    A and of B (for commands that consume their data, e.g. a fresh copy).
    """
    variants = [a] if isinstance(a[0], str) else list(a)  # type: ignore[list-item]

    def timed(command: Sequence[str]) -> float:
        if before:
            before()
        return run_once(command, env)

    timed(variants[0])
    timed(b)
    a_times, b_times, ratios = [], [], []
    for i in range(runs):
        ta = timed(variants[(i + 1) % len(variants)])
        tb = timed(b)
        a_times.append(ta)
        b_times.append(tb)
        ratios.append(ta / tb)
    result = Comparison(
        name,
        statistics.median(a_times),
        statistics.median(b_times),
        statistics.median(ratios),
        target,
    )
    print(result.line(), flush=True)
    return result
