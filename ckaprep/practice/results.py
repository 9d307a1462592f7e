"""One graded task, from the one grading step that `check`, `exam submit`, `classroom grade`
and the class exam all use: the report, the score under the one scoring rule, and the record
that history keeps of it. JSON is made from it at the edges only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction

from ckaprep.attempts import Attempt
from ckaprep.catalogue.exercise import Exercise
from ckaprep.cluster import Cluster
from ckaprep.grading.context import GradingContext
from ckaprep.grading.engine import grade
from ckaprep.grading.options import GradingOptions
from ckaprep.grading.report import PASS, CheckResult, Report
from ckaprep.practice.history import Record

NOT_GRADED = "(not graded)"  # what history lists as failed for a task that could not be graded


def percent(fraction: Fraction) -> float:
    """A share as a percentage, rounded to one decimal as every score is shown."""
    return round(float(fraction * 100), 1)


@dataclass(frozen=True)
class TaskResult:
    exercise: Exercise
    attempt: Attempt
    report: Report | None  # None when the task could not be graded (its namespace is gone...)
    problem: str = ""  # why it could not be graded
    context: GradingContext | None = None  # what grading learned of the cluster (its DNS domain)

    @property
    def fraction(self) -> Fraction:
        """The share of the task's weight earned, by the one rule (`Report.earned`): constraints
        earn nothing and deduct when broken. A task that could not be graded earns 0."""
        if self.report is None or not self.report.total:
            return Fraction(0)
        return Fraction(self.report.earned, self.report.total)

    @property
    def score(self) -> float:
        return percent(self.fraction)

    @property
    def passed(self) -> bool:
        return bool(self.report and self.report.passed)

    @property
    def failed(self) -> list[CheckResult]:
        return [c for c in self.report.checks if c.status != PASS] if self.report else []

    def record(self, *, kind: str, time: datetime, elapsed_s: float, practice: bool) -> Record:
        """What history keeps of this task: the one builder of a task's history record."""
        return Record(
            kind=kind,
            time=time.isoformat(),
            score=self.score,
            exercise=self.exercise.id,
            attempt=self.attempt.id,
            exam=self.attempt.exam,
            seed=self.attempt.seed,
            failed=[c.id for c in self.failed] if self.report else [NOT_GRADED],
            hints=self.attempt.hints_shown,
            solution_shown=self.attempt.solution_shown,
            elapsed_s=round(elapsed_s, 1),
            passed=self.passed,
            practice=practice,
        )


def grade_task(exercise: Exercise, attempt: Attempt, cluster: Cluster, options: GradingOptions) -> TaskResult:
    """The one grading step: the engine on the attempt's cluster."""
    report, context = grade(exercise, attempt, cluster, options)
    return TaskResult(exercise, attempt, report, context=context)
