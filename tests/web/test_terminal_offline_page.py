"""What the counter's page gives its offline script, and the service worker that keeps it (#25)."""
import json
import re

import pytest

from loyalty.services.engine import staff_pins
from loyalty.services.merchant import programs
from tests import factories


@pytest.fixture
def stamp_program(merchant):
    return factories.stamp_program(merchant.merchant, stamps_target=8)


def _config(page):
    found = re.search(r'<script type="application/json" id="offline-config"[^>]*>(.*?)</script>',
                      page.text, re.DOTALL)
    return json.loads(found.group(1)) if found else None


def test_the_terminal_page_carries_the_tablets_offline_settings(terminal, client, merchant,
                                                                stamp_program):
    store = merchant.stores[0]
    tom = staff_pins.create_staff_pin(merchant.merchant, store, "Tom", "4812")
    programs.update_program(stamp_program, offline_max_actions=7, offline_max_points=90,
                            max_stamps_per_day=3)
    terminal.sign_in(merchant.staff)
    config = _config(client.get("/terminal/"))
    assert config["store_id"] == store.id and config["user_id"] == merchant.staff.id
    assert (config["max_actions"], config["max_points"]) == (7, 90)
    assert config["max_stamps_at_once"] == 3  # more than a day's cap is refused anyway
    assert config["stamps"] and not config["points"]
    assert config["staff"] == [{"id": tom.id, "staff_name": "Tom", "manager": False}]
    assert config["ping_url"] == "/terminal/offline/ping"
    assert config["sync_url"] == "/terminal/offline/sync"
    assert config["words"]["waiting"] == ["%(num)d action waiting on this tablet.",
                                          "%(num)d actions waiting on this tablet."]
    assert 'id="offline-panel-template"' in client.get("/terminal/").text


def test_offline_mode_switched_off_leaves_no_offline_data(terminal, client, merchant,
                                                          stamp_program):
    programs.update_program(stamp_program, offline_enabled=False)
    terminal.sign_in(merchant.staff)
    page = client.get("/terminal/")
    assert page.status_code == 200
    assert _config(page) is None and "offline-panel-template" not in page.text


def test_the_words_come_in_the_tablets_language(terminal, client, merchant, stamp_program):
    terminal.sign_in(merchant.staff)
    page = client.get("/terminal/", headers={"Accept-Language": "fr"})
    config = _config(page)
    assert config["words"]["waiting"][1] == "%(num)d actions en attente sur cette tablette."


def test_the_service_worker_is_served_to_anyone_and_changes_with_a_release(client, app):
    first = client.get("/terminal/sw.js")
    assert first.status_code == 200
    assert first.mimetype == "text/javascript"
    for name in ("offline-queue.js", "offline-sync.js", "offline.js", "terminal.js"):
        assert f"/static/js/{name}" in first.text
    version = re.search(r'var VERSION = "([0-9a-f]+)"', first.text).group(1)
    assert client.get("/terminal/sw.js").text == first.text  # stable between deploys
    app.config["RELEASE"] = "2026.12.2"
    second = client.get("/terminal/sw.js")
    assert f'"{version}"' not in second.text
