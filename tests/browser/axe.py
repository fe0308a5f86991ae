"""axe-core in the browser tests (#23): ``violations(page)`` runs the WCAG 2.0/2.1 A and AA
rules on what the page shows now (an open sheet included) and returns what fails, as readable
lines; ``assert_accessible(page, allowed=...)`` fails on any of them. An exception names its
rule id with a written reason, in the test that allows it."""
from pathlib import Path

AXE_SOURCE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def violations(page, *, allowed=None):
    """Violations as "rule (impact): help — selector" lines; ``allowed`` {rule id: reason}."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=AXE_SOURCE)
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags},"
        " resultTypes: ['violations']})", TAGS)
    found = []
    for violation in result["violations"]:
        if violation["id"] in (allowed or {}):
            continue
        targets = ", ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
        found.append(f"{violation['id']} ({violation['impact']}): {violation['help']} — {targets}")
    return found


def assert_accessible(page, label="", *, allowed=None):
    found = violations(page, allowed=allowed)
    assert found == [], f"axe on {label or page.url}:\n" + "\n".join(found)
