"""Getting ready: `doctor` checks the cluster, `completion` prints a shell's completion script."""

from __future__ import annotations

from typing import Annotated

import typer

from ckaprep.cli.base import (
    JsonOption,
    ProbeImageOption,
    Spinner,
    capability_cache,
    catalogue,
    command_group,
    completion_script,
    environment,
    handles_errors,
    out,
    print_json,
    print_trimmed,
)

commands = command_group()


@commands.command()
@handles_errors
def doctor(ctx: typer.Context, as_json: JsonOption = False, probe_image: ProbeImageOption = None):
    """Check that your cluster can run ckaprep, and say how to fix what is missing.

    Asks the API for the permissions ckaprep needs, then tries the images, DNS,
    the ClusterIP, environment variables and Endpoints mirroring in a temporary
    namespace of its own, which it removes again. Then finds out what exercises may
    require: schedulable nodes, a Service across nodes, whether NetworkPolicy is
    enforced, dual-stack; kept for an hour, so that list, next and start know it.

    Exit status: 0 all passed (warnings allowed), 1 a cluster feature failed,
    3 unreachable or missing permissions, 4 an image cannot be pulled, 5 timed out.
    """
    from ckaprep.doctor import diagnose, no_cluster
    from ckaprep.errors import NoKubeconfig

    env = environment(ctx)
    try:
        cluster = env.cluster()
    except NoKubeconfig as exc:  # the first day: no cluster yet
        cluster, diagnosis = None, no_cluster(exc.message)
    if cluster is not None:
        with Spinner() as progress:
            options = env.grading_options(wait_s=0, probe_image=probe_image, progress=progress)
            diagnosis = diagnose(
                cluster, probe_image=options.probe_image, waiter=options.waiter, needed=_required_by(env)
            )
        if diagnosis.capabilities is not None:  # kept for an hour: list, next and start read it
            cache = capability_cache(env)
            cache.put(
                cache.cluster_of(env.environ, env.kubeconfig, env.context),
                diagnosis.capabilities,
                env.clock.now(),
                replace=True,
            )
    if as_json:
        print_json(diagnosis.to_json())
    else:
        from ckaprep.views.render import doctor_view

        print_trimmed(doctor_view(diagnosis))
    raise typer.Exit(int(diagnosis.exit_status))


def _required_by(env) -> set[str]:
    """What the catalogue's exercises (and their faults) require of a cluster, as doctor's rows name it."""
    from ckaprep.catalogue.capabilities import NODES
    from ckaprep.practice.capability_cache import needed

    return {r.capability for r in needed(catalogue(env).values()) if r.capability != NODES or r.count > 1}


@commands.command()
@handles_errors
def completion(
    shell: Annotated[str, typer.Argument(metavar="SHELL", help="bash, zsh or fish.")],
):
    """Print a shell completion script, like `kubectl completion`.

    Enable it for the current bash session with: source <(ckaprep completion bash)
    """
    out.file.write(completion_script(shell) + "\n")
