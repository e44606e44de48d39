"""The README is the first thing a new user reads: it must keep the two commands at the top and
document every setting the code declares."""
from congkhai.config import REPO_ROOT, SETTINGS

README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")


def test_two_setup_commands_at_the_top():
    block = README.split("```")[1]
    commands = [line.split("#")[0].strip() for line in block.splitlines() if line.strip() and line.strip() != "sh"]
    assert commands == ["make demo", "make test"]


def test_every_setting_is_documented():
    missing = [s.name for s in SETTINGS if f"`{s.name}`" not in README]
    assert missing == []


def test_ci_runs_the_readme_test_command():
    assert "make test" in (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")
