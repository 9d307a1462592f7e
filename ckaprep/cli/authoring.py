"""Commands for exercise authors: `validate` (offline) and `prove` (on a live cluster)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ckaprep.cli.base import (
    JsonOption,
    ProbeImageOption,
    command_group,
    environment,
    err,
    found_capabilities,
    handles_errors,
    out,
    print_json,
    refuse_unsupported,
    supported_only,
)
from ckaprep.exit_status import ExitStatus

commands = command_group()


def _load_targets(env, targets: list[str]):
    """Exercise ids from the catalogue, or paths to exercise files."""
    from ckaprep.catalogue.loading import load_exercise

    catalogue = env.catalogue()
    if not targets:
        return list(catalogue.load()[0].values())
    exercises = []
    for target in targets:
        path = Path(target)
        if target.endswith((".yaml", ".yml")) or "/" in target:
            if not path.is_file():
                from ckaprep.errors import UsageError

                raise UsageError(f"no exercise file {target}")
            exercises.append(load_exercise(path))
        else:
            exercises.append(catalogue.find(target))
    return exercises


def _what_the_cluster_runs(env, exercises: list, *, named: bool):
    """The exercises this cluster can prove, and which of their proofs: an exercise whose
    `requires` the cluster does not meet is refused when named (exit status 6) and left out of
    the whole catalogue, with a note; a proof that pins a fault the cluster cannot support is
    left out, with a note. What the cluster offers is found out when not known (see `start`)."""
    from ckaprep.catalogue.capabilities import fault_requires, needs_any
    from ckaprep.catalogue.faults import fault_pool

    capabilities = found_capabilities(env, exercises)
    if named:
        for exercise in exercises:
            if needs_any(exercise):
                refuse_unsupported(exercise, capabilities)
    else:
        kept = supported_only({ex.id: ex for ex in exercises}, capabilities, unknown_note=False)
        exercises = [ex for ex in exercises if ex.id in kept]

    def runnable(exercise, proof) -> bool:
        if capabilities is None:
            return True
        pool = fault_pool(exercise.faults)
        lacking = [reason for f in proof.faults if f in pool for reason in capabilities.unmet(fault_requires(pool[f]))]
        if lacking:
            err.print(
                f"note: left out proof {exercise.id}:{proof.name}: its faults need what this cluster lacks "
                f"({lacking[0]})",
                markup=False,
                soft_wrap=True,
            )
        return not lacking

    return exercises, runnable


def _builtin_path(exercise_id: str) -> Path:
    from ckaprep.catalogue.locations import exercises_dir

    return (exercises_dir() / f"{exercise_id}.yaml").resolve()


@commands.command()
@handles_errors
def validate(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(metavar="FILE...", help="Exercise files to check.")],
    as_json: JsonOption = False,
):
    """Check exercise files offline: schema and types, placeholders, check kinds, proofs, that
    the task states what the checks check, and that requirements map every requirement sentence
    of the task to checks and every check to a sentence.

    Exit status: 0 every file is valid, 2 some file has a problem.
    """
    from ckaprep.catalogue.loading import builtin_shadow, builtin_twin, load_exercise, trainer_clash, trainer_twins
    from ckaprep.catalogue.validation import authoring_problems, control_character_warnings, line_of
    from ckaprep.errors import ExerciseFileError

    trainers_dirs = environment(ctx).exercise_dirs()[1:]  # --exercises and $CKAPREP_EXERCISES
    results = []
    for path in files:
        try:
            exercise = load_exercise(path)
        except ExerciseFileError as exc:
            results.append({"file": str(path), "ok": False, "problems": exc.problems})
            continue
        problems = [p.at(line_of(path, p.field)).message for p in authoring_problems(exercise)]
        twin = builtin_twin(path)  # a copy of a built-in exercise (the README's own example), or an edit
        warnings = [builtin_shadow(path)] if twin and not twin[1] else []
        others = trainer_twins(path, trainers_dirs)
        warnings += [trainer_clash(path, others)] if others and not twin else []
        warnings += control_character_warnings(exercise, path)
        right = sum(p.is_right for p in exercise.proofs)
        results.append(
            {
                "file": str(path),
                "ok": not problems,
                "problems": problems,
                "warnings": warnings,
                "id": exercise.id,
                "builtin": bool(twin and twin[1]) or path.resolve() == _builtin_path(exercise.id),
                "checks": len(exercise.checks),
                "right_proofs": right,
                "wrong_proofs": len(exercise.proofs) - right,
            }
        )
    if as_json:
        print_json(results)
    else:
        for item in results:
            if item["ok"]:
                out.print(
                    f"ok  {item['file']}: {item['checks']} checks, {item['right_proofs']} right and "
                    f"{item['wrong_proofs']} wrong answers" + (" (the built-in exercise)" if item["builtin"] else ""),
                    markup=False,
                    soft_wrap=True,
                )
            for warning in item.get("warnings", []):
                err.print(f"warning: {warning}", markup=False, soft_wrap=True)
            for problem in item["problems"]:
                err.print(f"error: {problem}", markup=False, soft_wrap=True)
    if not all(item["ok"] for item in results):
        raise typer.Exit(int(ExitStatus.USAGE))


@commands.command()
@handles_errors
def prove(
    ctx: typer.Context,
    targets: Annotated[
        Optional[list[str]],
        typer.Argument(metavar="[EXERCISE|FILE]...", help="Exercise ids or files; default: the whole catalogue."),
    ] = None,
    proof_names: Annotated[
        Optional[list[str]],
        typer.Option(
            "--proof",
            metavar="NAME",
            help="Run only this proof (repeatable); fresh-start is one. EXERCISE:NAME picks one exercise's.",
        ),
    ] = None,
    keep_going: Annotated[
        bool, typer.Option("--keep-going", help="Run every proof even after one got another verdict.")
    ] = False,
    jobs: Annotated[int, typer.Option(min=1, max=8, metavar="N", help="Run this many proofs at once.")] = 1,
    probe_image: ProbeImageOption = None,
    as_json: JsonOption = False,
):
    """Run the exercises' proofs on the current cluster: each right answer must score 100%,
    each wrong answer must fail the checks it declares, and a fresh start must score 0%.

    Every proof runs in namespaces of its own, which are deleted afterwards; the active
    exercise is not touched. Needs kubectl on PATH.

    Exit status: 0 every verdict as declared, 1 some verdict differs, 2 bad input or no
    kubectl, 3 cluster unreachable or access denied, 4 probe image cannot be pulled.
    """
    from ckaprep.catalogue.exercise import FRESH_START
    from ckaprep.cluster.labels import OWNER_LABEL, OWNER_VALUE
    from ckaprep.errors import CkaprepError, UsageError
    from ckaprep.practice.proving import Kubectl, Prover, find_kubectl, plan_tasks, select_proofs, selecting_names

    env = environment(ctx)
    loaded = _load_targets(env, targets or [])
    exercises, runnable = _what_the_cluster_runs(env, loaded, named=bool(targets))
    names = proof_names or []
    plan = [(ex, *select_proofs(ex, names)) for ex in exercises]
    plan = [(ex, [p for p in proofs if runnable(ex, p)], fresh) for ex, proofs, fresh in plan]
    plan = [(ex, proofs, fresh) for ex, proofs, fresh in plan if proofs or fresh]
    known = {name for ex in loaded for name in selecting_names(ex)}  # a name of one left out is no typo
    unknown = [n for n in names if n not in known]
    if not unknown and not plan and len(exercises) < len(loaded):
        from ckaprep.errors import MissingCapability

        raise MissingCapability(
            "every proof asked for belongs to an exercise this cluster cannot support (see the "
            "note above); `ckaprep doctor` says what to change"
        )
    if unknown or not plan:
        raise UsageError(f"no proof named {', '.join(map(repr, unknown or names))} in the exercises given")
    kubectl = env.kubectl or Kubectl(find_kubectl(env.environ), env.environ, env.kubeconfig, env.context)
    rows = [
        (ex.id, name)
        for ex, proofs, fresh in plan
        for name in ([FRESH_START] if fresh else []) + [p.name for p in proofs]
    ]
    total = len(rows)

    def report(verdict, done: int):
        mark = "ok  " if verdict.ok else "DIFF"
        score = "" if verdict.score is None else f" {verdict.score:.1f}%"
        err.print(
            f"[{done}/{total}] {mark} {verdict.exercise} {verdict.proof}{score} ({verdict.seconds:.0f}s)",
            markup=False,
        )

    prover = Prover(
        cluster=env.cluster(),
        kubectl=kubectl,
        options=env.grading_options(wait_s=0, probe_image=probe_image),
        on_start=lambda exercise_id, name: err.print(f"      … {exercise_id} {name}", markup=False, style="dim"),
    )
    started = env.clock.monotonic()
    tasks = [task for ex, proofs, fresh in plan for task in plan_tasks(ex, proofs, fresh)]
    try:
        done = prover.run_all(tasks, jobs=jobs, report=report, keep_going=keep_going)
    except (CkaprepError, KeyboardInterrupt):
        done = prover.verdicts
        if done and not as_json:
            from ckaprep.views.render import proof_table

            out.print(
                proof_table(
                    sorted(done, key=lambda v: rows.index((v.exercise, v.proof))),
                    env.clock.monotonic() - started,
                    total - len(done),
                )
            )
        if prover.created:  # else nothing was created: there is nothing to look for
            namespaces = [name.split(" ", 1)[1] for name in prover.created if name.startswith("Namespace ")]
            what = f"namespaces {', '.join(namespaces)}" if namespaces else "objects created by the proofs"
            err.print(
                f"prove stopped; {what} may remain: kubectl get namespaces -l {OWNER_LABEL}={OWNER_VALUE}",
                markup=False,
                soft_wrap=True,
            )
        raise
    verdicts = sorted(done, key=lambda v: rows.index((v.exercise, v.proof)))
    elapsed = env.clock.monotonic() - started
    stopped = len(verdicts) < total
    if as_json:
        print_json(
            {
                "ok": all(v.ok for v in verdicts) and not stopped,
                "elapsed_s": round(elapsed, 1),
                "proofs": [v.to_json() for v in verdicts],
                "not_run": total - len(verdicts),
            }
        )
    else:
        from ckaprep.views.render import proof_table

        out.print(proof_table(verdicts, elapsed, total - len(verdicts)))
    raise typer.Exit(int(ExitStatus.OK if all(v.ok for v in verdicts) and not stopped else ExitStatus.CHECKS_FAILED))
