"""Rendered study notes: the same bytes as rendering anew, for this page, note and terminal."""

from typer.testing import CliRunner

from ckaprep.cli.application import app
from ckaprep.environment import Environment
from ckaprep.views.rendered_cache import KEEP_ENTRIES, RenderedCache


def explain(tmp_path, *args, **environ):
    env = Environment(environ={"CKAPREP_HOME": str(tmp_path), "HOME": str(tmp_path), **environ})
    result = CliRunner().invoke(app, ["explain", *args], obj=env)
    assert result.exit_code == 0, result.output
    return result.output


def rendered_files(tmp_path):
    return sorted((tmp_path / "cache" / "rendered").iterdir())


def test_the_second_explain_prints_exactly_what_the_first_rendered(tmp_path):
    first = explain(tmp_path, "dns")
    [entry] = rendered_files(tmp_path)
    assert explain(tmp_path, "dns") == first
    assert entry.read_text() == first
    assert "DNS for Services" in first


def test_another_page_or_terminal_width_is_rendered_anew(tmp_path, monkeypatch):
    wide = explain(tmp_path, "dns")
    explain(tmp_path, "ports")
    monkeypatch.setenv("COLUMNS", "50")
    narrow = explain(tmp_path, "dns")
    assert len(rendered_files(tmp_path)) == 3
    assert narrow != wide
    paragraphs = [line for line in narrow.splitlines() if not line.startswith(" ")]  # code and URLs may overflow
    assert max(map(len, paragraphs)) <= 50


def test_a_damaged_entry_is_rendered_again(tmp_path):
    first = explain(tmp_path, "dns")
    [entry] = rendered_files(tmp_path)
    entry.write_bytes(b"\xff\xfe not utf-8")
    assert explain(tmp_path, "dns") == first


def test_old_entries_are_pruned(tmp_path):
    cache = RenderedCache(tmp_path)
    for number in range(KEEP_ENTRIES + 5):
        cache.put(cache.key(number), str(number))
    assert len(list(tmp_path.iterdir())) == KEEP_ENTRIES
    assert cache.get(cache.key(KEEP_ENTRIES + 4)) == str(KEEP_ENTRIES + 4)


def ckaprep_list(tmp_path, *options):
    env = Environment(environ={"CKAPREP_HOME": str(tmp_path / "home"), "HOME": str(tmp_path)})
    result = CliRunner().invoke(app, [*options, "list"], obj=env)
    assert result.exit_code == 0, result.output
    return result


def test_list_follows_every_change_to_the_exercise_files(tmp_path):
    import shutil

    from ckaprep.catalogue.locations import exercises_dir

    trainer = tmp_path / "trainer"
    trainer.mkdir()
    first = ckaprep_list(tmp_path, "--exercises", str(trainer)).output
    assert ckaprep_list(tmp_path, "--exercises", str(trainer)).output == first
    text = (exercises_dir() / "clusterip-create.yaml").read_text()
    (trainer / "my-drill.yaml").write_text(text.replace("id: clusterip-create", "id: my-drill"))
    added = ckaprep_list(tmp_path, "--exercises", str(trainer)).output
    assert "my-drill" in added and "my-drill" not in first
    (trainer / "my-drill.yaml").write_text(
        text.replace("id: clusterip-create", "id: my-drill").replace("difficulty: easy", "difficulty: hard")
    )
    assert ckaprep_list(tmp_path, "--exercises", str(trainer)).output != added
    shutil.rmtree(trainer)
    trainer.mkdir()
    assert ckaprep_list(tmp_path, "--exercises", str(trainer)).output == first


def test_a_skipped_file_is_warned_about_every_time(tmp_path):
    trainer = tmp_path / "trainer"
    trainer.mkdir()
    (trainer / "broken.yaml").write_text("id: [unclosed\n")
    for _ in range(2):
        result = ckaprep_list(tmp_path, "--exercises", str(trainer))
        assert "warning: skipped" in result.stderr
