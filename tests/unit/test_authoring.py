"""Trainers' exercises: their own directories, `validate`, `prove`, and names that are never paths."""

import json
import shutil

import pytest

from ckaprep.catalogue.loading import exercises_dir, load_exercise
from ckaprep.errors import ExerciseFileError, field_for_people
from ckaprep.exit_status import ExitStatus
from tests.fake_kubectl import FakeKubectl

SOURCE = exercises_dir() / "clusterip-create.yaml"


def _trainer_exercise(directory, exercise_id="my-expose", text=None):
    directory.mkdir(exist_ok=True)
    text = text or SOURCE.read_text().replace("id: clusterip-create", f"id: {exercise_id}")
    path = directory / f"{exercise_id}.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("exercise_id", ["../../etc/passwd", "/etc/passwd", "a/b", "x" * 300, "Under_score", "..", ""])
def test_an_exercise_id_is_a_name_never_a_path(run, exercise_id):
    result = run("start", exercise_id)
    assert result.exit_code == ExitStatus.USAGE, result.output
    assert "is not an exercise id" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output


@pytest.mark.parametrize(
    "old, new, field, problem",
    [
        (
            "target_port: {int: [8100, 8999]",
            'target_port: {int: [8100, "x"]',
            "params.target_port.int",
            "whole numbers",
        ),
        ("target_port: {int: [8100, 8999]", 'target_port: {int: ["a", "b"]', "params.target_port.int", "whole numbers"),
        ("target_port: {int: [8100, 8999]", "target_port: {int: [9000, 8100]", "params.target_port.int", "low <= high"),
        ("topics: [clusterip, kubectl]", "topics: [clusterip, {a: b}]", "topics[1]", "not a mapping"),
        ("topics: [clusterip, kubectl]", "topics: [../../etc]", "topics[0]", "unknown topic"),
        ("  replicas: {value: 2}", "  replicas: {value: [2]}", "params.replicas.value", "text or a number"),
        ("    weight: 3\n", "    weight: 3\n    constraint: yes-please\n", "checks[1].constraint", "true or false"),
        ("    fails: [service-type]\n", "    fails: [service-typo]\n", "proofs[5].fails", "no check 'service-typo'"),
        (
            '      - kubectl: [set, selector, service, "${service}", "tier=debug"]',
            '      - kubectl: [set, selector, service, "${servcie}", "tier=debug"]',
            "proofs[3].steps[1]",
            "unknown parameter",
        ),
        ("  - name: yaml\n", "  - name: fresh-start\n", "proofs[1].name", "reserved"),
        (
            "  - name: yaml\n    steps:\n      - apply: |",
            "  - name: yaml\n    steps:\n      - shell: |",
            "proofs[1].steps[0]",
            "exactly one of kubectl, apply",
        ),
    ],
)
def test_strict_types_give_one_line_file_field_problem(run, tmp_path, old, new, field, problem):
    text = SOURCE.read_text()
    assert old in text, old
    path = tmp_path / "clusterip-create.yaml"
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(ExerciseFileError) as info:
        load_exercise(path)
    assert (info.value.field, problem in info.value.problem) == (field, True), info.value.message
    result = run("validate", str(path))
    assert result.exit_code == ExitStatus.USAGE
    # 1-based indexes, and the line of the file the problem is on
    start = text.index(old) and text[: text.index(old)].count("\n") + 1
    line = info.value.line
    assert start <= line <= start + new.count("\n"), (line, start)
    assert result.stderr.strip() == f"error: {path}, line {line}: {field_for_people(field)}: {info.value.problem}"
    assert "[" not in field_for_people(field)


def test_a_file_that_is_not_utf8_is_named(run, tmp_path):
    path = tmp_path / "clusterip-create.yaml"
    path.write_bytes(b"id: caf\xe9\n")
    result = run("validate", str(path))
    assert result.exit_code == ExitStatus.USAGE
    assert f"{path}: (encoding): not UTF-8" in result.stderr


def test_validate_accepts_every_built_in_exercise(run):
    files = sorted(str(p) for p in exercises_dir().glob("*.yaml"))
    result = run("validate", "--json", *files)
    assert result.exit_code == 0, result.output
    for item in json.loads(result.stdout):
        assert item["ok"] and item["right_proofs"] >= 2 and item["wrong_proofs"] >= 3, item


def test_validate_wants_proofs_and_a_task_that_names_what_is_checked(run, tmp_path):
    text = SOURCE.read_text().split("\nproofs:\n")[0].replace("listens on port **${port}** and forwards", "forwards")
    path = _trainer_exercise(tmp_path, "clusterip-create", text)
    result = run("validate", str(path))
    assert result.exit_code == ExitStatus.USAGE
    assert "proofs: needs at least 2 right answers" in result.stderr
    assert "proofs: needs at least 3 wrong answers" in result.stderr


def test_validate_names_the_sentence_and_the_check_that_no_requirement_maps(run, tmp_path):
    mapping = '  - says: "sends traffic only to the Pods of Deployment ${app}"\n    checks: [selector, endpoints]\n'
    text = SOURCE.read_text()
    assert mapping in text
    text = text.replace(mapping, "").replace("id: clusterip-create", "id: my-expose")
    path = _trainer_exercise(tmp_path, "my-expose", text)
    result = run("validate", str(path))
    assert result.exit_code == ExitStatus.USAGE
    errors = result.stderr.strip().splitlines()
    task_line = text[: text.index("\ntask: |")].count("\n") + 2
    selector_line = text[: text.index("  - id: selector")].count("\n") + 1
    assert errors[0] == (
        f"error: {path}, line {selector_line}: checks #2: check 'selector' is named by no requirement: quote "
        "the sentence of the task that asks for it (requirements: says), or say it in the task; a check the "
        "task does not ask for grades what the learner was never told"
    )
    assert errors[-1].startswith(
        f"error: {path}, line {task_line}: task: the sentence 'sends traffic only to the Pods of Deployment "
        "${app} (another Pod in the namespace shares some of their labels and must not receive traffic);' states "
        "a requirement (it is a list item) "
        "that no requirement quotes"
    ), errors[-1]
    assert len(errors) == 3  # selector, endpoints, the sentence


def test_trainer_directory_lists_starts_checks_and_proves(run, env, fake, tmp_path):
    trainer = tmp_path / "trainer"
    _trainer_exercise(trainer)
    listed = run("--exercises", str(trainer), "list", "--json")
    assert listed.exit_code == 0 and "my-expose" in {e["id"] for e in json.loads(listed.stdout)}
    env.environ["CKAPREP_EXERCISES"] = str(trainer)
    assert run("start", "my-expose", "--seed", "3").exit_code == 0
    assert run("check", "--json", "--wait", "0").exit_code == ExitStatus.CHECKS_FAILED
    assert run("reset").exit_code == 0
    env.kubectl = FakeKubectl(fake)
    proved = run(
        "prove", "my-expose", "--json", "--proof", "fresh-start", "--proof", "expose", "--proof", "type-nodeport"
    )
    assert proved.exit_code == 0, proved.output
    rows = json.loads(proved.stdout)["proofs"]
    assert [(r["proof"], r["ok"]) for r in rows] == [("fresh-start", True), ("expose", True), ("type-nodeport", True)]


def test_prove_a_file_and_a_difference_exits_1(run, env, fake, tmp_path):
    text = SOURCE.read_text().replace("    fails: [service-type]\n", "    fails: [selector]\n")
    path = _trainer_exercise(tmp_path, "clusterip-create", text)
    env.kubectl = FakeKubectl(fake)
    result = run("prove", str(path), "--proof", "type-nodeport")
    assert result.exit_code == ExitStatus.CHECKS_FAILED
    assert "DIFF" in result.stdout and "selector passed, but this answer must fail it" in result.stdout


def test_prove_without_kubectl_is_a_usage_error(run, env, tmp_path):
    env.environ["PATH"] = str(tmp_path)
    result = run("prove", "clusterip-create", "--proof", "expose")
    assert result.exit_code == ExitStatus.USAGE and "no kubectl on PATH" in result.stderr


def test_prove_unknown_proof_name(run):
    result = run("prove", "clusterip-create", "--proof", "nope")
    assert result.exit_code == ExitStatus.USAGE and "no proof named 'nope'" in result.stderr


def test_an_id_in_two_directories_names_both_files(run, tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    first, second = _trainer_exercise(one), _trainer_exercise(two)
    for args in (["list"], ["start", "my-expose"]):
        result = run("--exercises", str(one), "--exercises", str(two), *args)
        assert result.exit_code == ExitStatus.USAGE
        assert str(first) in result.stderr and str(second) in result.stderr


def test_a_copy_of_a_built_in_exercise_validates_as_the_built_in_one(run, tmp_path):
    """The README's `ckaprep validate exercises/clusterip-create.yaml`, after an install that
    keeps the exercises elsewhere: the checkout's file is a copy of the built-in one."""
    copy = tmp_path / "clusterip-create.yaml"
    shutil.copy(SOURCE, copy)
    result = run("validate", str(copy))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"ok  {copy}: 6 checks, 2 right and 5 wrong answers (the built-in exercise)"
    assert result.stderr == ""


def test_an_edit_of_a_built_in_exercise_validates_and_is_told_it_shadows_it(run, tmp_path):
    edit = tmp_path / "clusterip-create.yaml"
    edit.write_text(SOURCE.read_text().replace("title: ", "title: My own take on ", 1))
    result = run("validate", str(edit))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"ok  {edit}: 6 checks") and "(the built-in exercise)" not in result.stdout
    assert result.stderr.startswith(f"warning: {edit}: id 'clusterip-create' shadows a built-in exercise: ")
    assert "list and start would skip this file" in result.stderr and len(result.stderr.splitlines()) == 1
    listed = json.loads(run("validate", "--json", str(edit)).stdout)[0]
    assert listed["ok"] and not listed["builtin"] and "shadows a built-in exercise" in listed["warnings"][0]
    broken = tmp_path / "headless-deployment.yaml"  # an edit is checked like any file
    text = SOURCE.read_text().replace("clusterip-create", "headless-deployment")
    broken.write_text(text.replace("    weight: 3\n", "    weight: x\n", 1))
    refused = run("validate", str(broken))
    assert refused.exit_code == ExitStatus.USAGE and "checks #2.weight" in refused.stderr


def test_a_file_with_the_id_of_another_trainers_exercise_is_told_so(run, tmp_path):
    mine, theirs = tmp_path / "mine", tmp_path / "theirs"
    mine.mkdir(), theirs.mkdir()
    text = SOURCE.read_text().replace("clusterip-create", "expose-drill")
    (mine / "expose-drill.yaml").write_text(text)
    (theirs / "expose-drill.yml").write_text(text.replace("title: ", "title: Their ", 1))
    alone = run("validate", str(mine / "expose-drill.yaml"))  # no directory of trainers' configured
    assert alone.exit_code == 0 and alone.stderr == ""
    result = run("--exercises", str(theirs), "validate", str(mine / "expose-drill.yaml"))
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith(
        f"warning: {mine / 'expose-drill.yaml'}: id 'expose-drill' is also the id of "
        f"{theirs / 'expose-drill.yml'}, in your exercise directories"
    )
    assert "refuse an id defined twice" in result.stderr and len(result.stderr.splitlines()) == 1
    inside = run(
        "--exercises", str(theirs), "--exercises", str(mine), "validate", "--json", str(mine / "expose-drill.yaml")
    )
    assert "also the id of" in json.loads(inside.stdout)[0]["warnings"][0]  # its own directory configured too


def test_an_id_clashing_with_a_built_in_exercise(run, tmp_path):
    """list, progress, next and start skip it as any broken trainer file."""
    copy = tmp_path / "clusterip-create.yaml"
    shutil.copy(SOURCE, copy)
    for args in (["list"], ["progress"], ["next"]):
        result = run("--exercises", str(tmp_path), *args)
        assert result.exit_code == 0, (args, result.output)
        assert "built-in exercise; rename the file" in result.stderr
    assert run("validate", str(SOURCE)).exit_code == 0  # the built-in file itself is no clash


def test_a_broken_trainer_file_is_reported_once_and_skipped(run, env, tmp_path):
    _trainer_exercise(tmp_path)
    (tmp_path / "broken.yaml").write_text("id: broken\n")
    env.environ["CKAPREP_EXERCISES"] = str(tmp_path)
    result = run("list", "--json")
    assert result.exit_code == 0
    assert "my-expose" in {e["id"] for e in json.loads(result.stdout)}
    assert result.stderr.count("broken.yaml") == 1 and "title: is required" in result.stderr


def test_prove_stops_on_an_unreachable_cluster_with_exit_3(run, env, fake):
    from ckaprep.errors import ClusterUnreachable

    env.kubectl = FakeKubectl(fake)
    original = fake.create

    def create(manifest):
        if manifest["kind"] == "Pod" and manifest["metadata"]["name"].startswith("ckaprep-probe"):
            raise ClusterUnreachable("cannot reach the cluster at fake://cluster: MaxRetryError")
        return original(manifest)

    fake.create = create
    result = run("prove", "clusterip-create", "--proof", "fresh-start", "--proof", "expose")
    assert result.exit_code == ExitStatus.CLUSTER, result.output
    assert "cannot reach the cluster" in result.stderr and "may remain" in result.stderr


def test_prove_two_exercises_with_qualified_proof_names(run, env, fake):
    env.kubectl = FakeKubectl(fake)
    result = run(
        "prove",
        "clusterip-create",
        "clusterip-direct",
        "--json",
        "--proof",
        "clusterip-create:expose",
        "--proof",
        "clusterip-direct:fresh-start",
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["proofs"]
    assert [(r["exercise"], r["proof"]) for r in rows] == [
        ("clusterip-create", "expose"),
        ("clusterip-direct", "fresh-start"),
    ]
    unknown = run("prove", "clusterip-create", "--proof", "clusterip-direct:expose")
    assert unknown.exit_code == ExitStatus.USAGE and "no proof named 'clusterip-direct:expose'" in unknown.stderr


def test_validate_reports_every_problem_of_a_file_with_suggestions(run, tmp_path):
    text = (
        SOURCE.read_text().replace("id: clusterip-create", "id: many-faults").replace("minutes: ", "minutes: six #", 1)
    )
    text = text.replace("topics: [clusterip, kubectl]", "topics: [clusterip, dsn]")
    text = text.replace("kind: service_type", "kind: service_typ", 1).replace("    weight: 3\n", "    weight: 0\n", 1)
    text = text.replace("\nhints:", "\nhint: [x]\nhints:", 1)
    path = tmp_path / "many-faults.yaml"
    path.write_text(text)
    result = run("validate", str(path))
    assert result.exit_code == ExitStatus.USAGE
    lines = result.stderr.splitlines()
    assert all(line.startswith(f"error: {path}, line ") for line in lines), lines
    problems = sorted(line.split(": ", 2)[2] for line in lines)
    expected = [
        "checks #1.kind: unknown kind 'service_typ'; did you mean service_type",
        "checks #2.weight: must be a positive whole number",
        "hint: unknown field; did you mean hints? (allowed: ",
        "minutes: must be an integer, not text",
        "topics #2: unknown topic 'dsn'; did you mean dns? (topics: ",
    ]
    assert len(problems) == len(expected) and all(p.startswith(e) for p, e in zip(problems, expected)), problems
    assert json.loads(run("validate", "--json", str(path)).stdout)[0]["problems"] == [
        line[len("error: ") :] for line in lines
    ]
    listed = run("--exercises", str(tmp_path), "list", "--json")
    assert listed.exit_code == 0 and len(listed.stderr.splitlines()) == 1
    assert "(and 4 more problems; `ckaprep validate` on the file lists them)" in listed.stderr


def test_yml_files_list_start_and_complete_like_yaml_ones(run, tmp_path, monkeypatch):
    path = tmp_path / "my-yml.yml"
    path.write_text(SOURCE.read_text().replace("id: clusterip-create", "id: my-yml"))
    listed = run("--exercises", str(tmp_path), "list", "--json")
    assert listed.exit_code == 0 and "my-yml" in {e["id"] for e in json.loads(listed.stdout)}, listed.output
    started = run("--exercises", str(tmp_path), "start", "my-yml", "--seed", "1", "--json")
    assert started.exit_code == 0, started.output
    from ckaprep.cli.completion import exercise_ids

    monkeypatch.setenv("CKAPREP_EXERCISES", str(tmp_path))
    assert exercise_ids("my-") == ["my-yml"]
    (tmp_path / "my-yml.yaml").write_text(path.read_text())
    twice = run("--exercises", str(tmp_path), "list")
    assert twice.exit_code == ExitStatus.USAGE and "defined twice" in twice.stderr and "my-yml.yml" in twice.stderr


@pytest.mark.parametrize("width", [60, 80, 120])
def test_a_63_character_id_leaves_list_readable(run, env, tmp_path, width):
    long_id = "a" * 30 + "-" + "b" * 32
    (tmp_path / f"{long_id}.yaml").write_text(SOURCE.read_text().replace("id: clusterip-create", f"id: {long_id}"))
    env.out.width = width
    listed = run("--exercises", str(tmp_path), "list").stdout
    lines = listed.splitlines()
    assert long_id in lines or any(line.startswith(f"│ {long_id} │ ") for line in lines), listed  # whole
    for title in ("Switch a Service from blue to green", "Expose a Deployment with a ClusterIP Service"):
        assert any(title in line for line in lines), listed  # not squeezed into a narrow column
