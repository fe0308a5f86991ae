"""The shape of the code (issue #22), read with ``ast`` only: no import cycle anywhere in
``loyalty/``, the engine imports no other area, the shared services import no area, the
services import no blueprint, and no module grows past about 400 lines.

An edge A -> B means a statement in A (at any depth: function-level imports count) imports B.
``from loyalty.services import x`` and relative imports are resolved to the module they name;
importing ``a.b.c`` also runs ``a/__init__`` and ``a/b/__init__``, edges not drawn here.
"""
import ast
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PACKAGE = "loyalty"
SERVICES = "loyalty.services"
AREAS = ("engine", "merchant", "customers", "platform", "delivery", "wallets", "integrations")
#: The app factory (``loyalty/__init__.py``) wires every blueprint and service; the only
#: module that may import it back is the job context (it builds the app for a plain
#: ``rq worker``, lazily). Any other import of ``loyalty`` itself counts as an edge.
MAY_IMPORT_THE_APP_FACTORY = {"loyalty.jobs.context"}
MAX_LINES = 400


def _modules():
    found = {}
    for directory, dirs, files in os.walk(os.path.join(ROOT, PACKAGE)):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(directory, name)
                parts = os.path.relpath(path, ROOT)[:-3].split(os.sep)
                if parts[-1] == "__init__":
                    parts = parts[:-1]
                found[".".join(parts)] = path
    return found


def _closest(name, modules):
    parts = name.split(".")
    while parts:
        if ".".join(parts) in modules:
            return ".".join(parts)
        parts.pop()
    return None


def _imports(module, path, modules):
    with open(path, encoding="utf-8") as handle:
        tree = ast.parse(handle.read(), filename=path)
    package = path.endswith("__init__.py")
    targets = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [(_closest(alias.name, modules), node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = module.split(".")[: None if package else -1]
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join(parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            names = []
            for alias in node.names:
                full = f"{base}.{alias.name}"
                names.append((full if full in modules else _closest(base, modules), node.lineno))
        else:
            continue
        for target, line in names:
            if target and target != module:
                targets.setdefault(target, line)
    return targets


@pytest.fixture(scope="module")
def graph():
    modules = _modules()
    edges = {module: _imports(module, path, modules) for module, path in modules.items()}
    for module in MAY_IMPORT_THE_APP_FACTORY:
        edges.get(module, {}).pop(PACKAGE, None)
    return edges, modules


def _cycles(edges):
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]
    for start in sorted(edges):
        if start in index:
            continue
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on_stack.add(start)
        work = [(start, iter(sorted(edges[start])))]
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def _area(module):
    parts = module.split(".")
    if module.startswith(SERVICES + ".") and len(parts) > 2 and parts[2] in AREAS:
        return parts[2]
    return None


def _described(edges, modules, module, targets):
    return [f"{module} -> {target} ({os.path.relpath(modules[module], ROOT)}:{edges[module][target]})"
            for target in sorted(targets)]


def test_there_is_no_import_cycle(graph):
    edges, modules = graph
    cycles = _cycles(edges)
    assert not cycles, "import cycles:\n" + "\n".join(
        "  " + ", ".join(cycle) + "\n    " + "\n    ".join(
            line for module in cycle for line in _described(
                edges, modules, module, [t for t in edges[module] if t in cycle]))
        for cycle in cycles)


def test_the_engine_imports_no_other_area_and_no_upper_layer(graph):
    edges, modules = graph
    upper = ("loyalty.blueprints", "loyalty.jobs", "loyalty.cli")
    wrong = []
    for module, targets in edges.items():
        if _area(module) != "engine":
            continue
        bad = [t for t in targets if (_area(t) not in (None, "engine"))
               or t == PACKAGE or t.startswith(upper)]
        wrong += _described(edges, modules, module, bad)
    assert not wrong, "the engine imports only the foundation and the shared services:\n  " \
        + "\n  ".join(wrong)


def test_the_shared_services_import_no_area_and_no_job(graph):
    """errors, outbox, audit, events: every area (the engine too) may import them."""
    edges, modules = graph
    shared = [m for m in edges if m.startswith(SERVICES + ".") and _area(m) is None
              and m.split(".")[2] not in AREAS]
    wrong = []
    for module in shared:
        bad = [t for t in edges[module] if _area(t) is not None or t.startswith("loyalty.jobs")
               or t.startswith("loyalty.blueprints") or t == PACKAGE]
        wrong += _described(edges, modules, module, bad)
    assert not wrong, "\n  ".join(["shared services importing an area or a job:", *wrong])


def test_services_import_no_blueprint(graph):
    edges, modules = graph
    wrong = []
    for module, targets in edges.items():
        if module.startswith(SERVICES):
            wrong += _described(edges, modules, module,
                                [t for t in targets if t.startswith("loyalty.blueprints")
                                 or t in ("loyalty.cli", PACKAGE)])
    assert not wrong, "\n  ".join(["services importing the web layer:", *wrong])


def test_every_service_lives_in_an_area(graph):
    _edges, modules = graph
    shared = {"errors", "outbox", "audit", "events"}
    flat = [m for m in modules if m.count(".") == 2 and m.startswith(SERVICES + ".")
            and m.split(".")[2] not in AREAS and m.split(".")[2] not in shared]
    assert not flat, f"put these in an area package (loyalty/services/<area>/): {sorted(flat)}"
    for area in AREAS:
        init = os.path.join(ROOT, *SERVICES.split("."), area, "__init__.py")
        with open(init, encoding="utf-8") as handle:
            doc = ast.get_docstring(ast.parse(handle.read()))
        assert doc and "May import" in doc, f"{init} says what the area owns and may import"


def test_no_module_is_longer_than_about_400_lines(graph):
    _edges, modules = graph
    long = []
    for module, path in sorted(modules.items()):
        with open(path, encoding="utf-8") as handle:
            count = sum(1 for _ in handle)
        if count > MAX_LINES:
            long.append(f"{os.path.relpath(path, ROOT)}: {count} lines")
    assert not long, "split these modules:\n  " + "\n  ".join(long)


def test_every_event_has_its_handler_once_the_app_is_built(app):
    """The reacting areas register their outbox handlers on import; ``loyalty/__init__``
    imports them, so the web app and the workers (which build it) have them all."""
    from rq.utils import import_attribute

    from loyalty.jobs.outbox import deliver_outbox
    from loyalty.services import events, outbox

    assert {events.CARD_CHANGED, events.PROGRAM_CHANGED, "email"} <= set(outbox.HANDLERS)
    assert import_attribute(outbox.DELIVER_JOB) is deliver_outbox
