"""The graded outcome of one `check` run.

Scoring rule: a check earns its weight when it passes. A check marked
`constraint` (something the task says to keep, which setup already gives)
earns nothing when it holds and deducts its weight when it is broken, so a
fresh start scores 0% and a broken constraint always costs points.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

PASS, FAIL, ERROR = "pass", "fail", "error"


@dataclass
class CheckResult:
    id: str
    title: str
    status: str
    weight: int
    expected: str
    found: str
    message: str = ""
    hint: str = ""
    constraint: bool = False


@dataclass
class Report:
    exercise: str
    checks: list[CheckResult]
    grading_s: float
    notes: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        """The weight there is to earn: constraints earn nothing."""
        return sum(c.weight for c in self.checks if not c.constraint)

    @property
    def earned(self) -> int:
        gained = sum(c.weight for c in self.checks if c.status == PASS and not c.constraint)
        lost = sum(c.weight for c in self.checks if c.status != PASS and c.constraint)
        return max(0, gained - lost)

    @property
    def score(self) -> float:
        """Percentage of the weight earned, rounded to one decimal."""
        return round(100.0 * self.earned / self.total, 1) if self.total else 0.0

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.status == PASS for c in self.checks)

    def to_json(self, elapsed_s: float) -> dict:
        """`elapsed_s` is the learner's time since `start`; `grading_s` how long grading took."""
        return {
            "exercise": self.exercise,
            "score": self.score,
            "passed": self.passed,
            "elapsed_s": round(elapsed_s, 1),
            "grading_s": round(self.grading_s, 2),
            "checks": [asdict(c) for c in self.checks],
            "notes": self.notes,
        }
