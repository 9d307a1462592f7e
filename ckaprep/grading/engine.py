"""The grading engine: a plain function from an attempt and a cluster to a report.

It knows nothing of the terminal; progress goes to a callback.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from ckaprep.catalogue import CheckSpec, Exercise
from ckaprep.cluster import Cluster
from ckaprep.errors import CkaprepError, StateError
from ckaprep.grading.checks import KINDS
from ckaprep.grading.context import Fail, GradingContext
from ckaprep.grading.report import ERROR, FAIL, PASS, CheckResult, Report
from ckaprep.images import CURL_IMAGE
from ckaprep.state import Attempt
from ckaprep.waiting import Progress, no_progress

POLL_INTERVAL_S = 1.0
MAX_PARALLEL_CHECKS = 6


def run_check(ctx: GradingContext, check: CheckSpec) -> CheckResult:
    base = dict(id=check.id, title=check.title, weight=check.weight, constraint=check.constraint)
    try:
        outcome = KINDS[check.kind].run(ctx, check.fields)
    except Fail as failed:
        return CheckResult(
            **base, status=FAIL, expected=failed.expected, found=failed.found,
            message=failed.message, hint=check.hint,
        )  # fmt: skip
    except CkaprepError:
        raise  # cluster access and image problems end the whole run
    except Exception as exc:  # a check that broke is reported, not fatal
        return CheckResult(
            **base, status=ERROR, expected="", found="", message=f"{type(exc).__name__}: {exc}"
        )
    return CheckResult(
        **base, status=PASS, expected=outcome.expected, found=outcome.found, message=outcome.message
    )


def grade(
    exercise: Exercise,
    attempt: Attempt,
    cluster: Cluster,
    *,
    wait_s: float = 0.0,
    probe_image: str = CURL_IMAGE,
    progress: Progress = no_progress,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[Report, GradingContext]:
    """Grade every check; poll the ones that depend on the cluster settling for up to `wait_s`."""
    started = clock()
    for namespace in attempt.namespaces:
        if cluster.get("Namespace", None, namespace) is None:
            raise StateError(
                f"namespace {namespace} of the active exercise no longer exists; "
                "run `ckaprep reset`, then start again"
            )
    ctx = GradingContext(
        cluster, attempt, probe_image=probe_image, progress=progress, clock=clock, sleep=sleep
    )
    checks = exercise.checks_for(attempt.params)
    results: dict[str, CheckResult] = {}
    pending = checks
    with ThreadPoolExecutor(max_workers=MAX_PARALLEL_CHECKS) as pool:
        while True:
            for check, result in zip(pending, pool.map(lambda c: run_check(ctx, c), pending)):
                results[check.id] = result
            pending = [
                c for c in checks if results[c.id].status == FAIL and KINDS[c.kind].settles
            ]
            if not pending or clock() - started >= wait_s:
                break
            progress(f"waiting for {len(pending)} check(s) to settle")
            sleep(POLL_INTERVAL_S)
            ctx.refresh()
    report = Report(
        exercise=exercise.id,
        checks=[results[c.id] for c in checks],
        grading_s=clock() - started,
        notes=ctx.notes,
    )
    return report, ctx
