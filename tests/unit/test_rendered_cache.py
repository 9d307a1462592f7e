"""Rendered study notes: the same bytes as rendering anew, for this page, note and terminal."""

from typer.testing import CliRunner

from ckaprep.cli import app
from ckaprep.environment import Environment
from ckaprep.rendered_cache import KEEP_ENTRIES, RenderedCache


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
    from ckaprep import cli

    explain(tmp_path, "dns")
    explain(tmp_path, "ports")
    monkeypatch.setattr(cli.out, "_width", 50)
    narrow = explain(tmp_path, "dns")
    assert len(rendered_files(tmp_path)) == 3
    assert max(len(line) for line in narrow.splitlines()) <= 50


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
