"""``make run`` loads the demo with ``flask loyalty demo``: it must finish and print the logins."""
from tests.conftest import run_cli


def test_demo_command_loads_the_data_and_prints_logins_and_pins(app):
    result = run_cli(app, "loyalty", "demo")
    assert result.exit_code == 0, result.output
    assert "admin@demo.lu" in result.output
    assert "Anna     PIN 9876" in result.output
    again = run_cli(app, "loyalty", "demo")  # idempotent
    assert again.exit_code == 0, again.output
