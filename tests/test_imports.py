"""The cloudsite modules import each other one way only: no import circle at module level.

The graph has an edge a -> b when module a imports cloudsite module b in its top-level
statements (imports under `if TYPE_CHECKING:` and inside functions are left out: they run
later, or never). A circle there breaks the import order the moment someone adds a name."""

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

import cloudsite

SRC = Path(cloudsite.__file__).resolve().parent.parent  # src/


def module_name(path: Path, root: Path) -> str:
    """src/cloudsite/aws/certs.py -> cloudsite.aws.certs; a package's __init__ is the package."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _top_level_imports(body: list[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    """The import statements that run when the module is imported: the module's own body and
    the blocks of its top-level if/try statements, except `if TYPE_CHECKING:`."""
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If):
            if not _is_type_checking(node):
                yield from _top_level_imports(node.body)
            yield from _top_level_imports(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody):
                yield from _top_level_imports(block)
            for handler in node.handlers:
                yield from _top_level_imports(handler.body)


def imported(
    node: ast.Import | ast.ImportFrom, *, module: str, package: bool, known: set[str]
) -> set[str]:
    """The cloudsite modules one import statement needs: `from a import b` needs a, and a.b
    when b is a module; loading a.b runs the package a first, unless the importer is in a
    (then `from a import b` of submodules only does not need a to have finished)."""
    inside = {module.rsplit(".", n)[0] for n in range(module.count(".") + 1)}
    if isinstance(node, ast.Import):
        found = {alias.name for alias in node.names if alias.name in known}
    else:
        base = node.module or ""
        if node.level:
            here = module.split(".") if package else module.split(".")[:-1]
            parent = here[: len(here) - (node.level - 1)]
            base = ".".join(parent + ([base] if base else []))
        submodules = {f"{base}.{alias.name}" for alias in node.names} & known
        found = submodules
        if base in known and not (base in inside and len(submodules) == len(node.names)):
            found = found | {base}  # reads names from base, which must have run to the end
    parents = {name.rsplit(".", n)[0] for name in found for n in range(1, name.count(".") + 1)}
    return found | ((parents & known) - inside)


def import_graph(root: Path) -> dict[str, set[str]]:
    """Every module under root/cloudsite -> the cloudsite modules it imports at module level."""
    paths = sorted((root / "cloudsite").rglob("*.py"))
    known = {module_name(path, root) for path in paths}
    graph: dict[str, set[str]] = {}
    for path in paths:
        module = module_name(path, root)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        package = path.name == "__init__.py"
        edges: set[str] = set()
        for node in _top_level_imports(tree.body):
            edges |= imported(node, module=module, package=package, known=known)
        graph[module] = edges - {module}
    return graph


def find_cycle(graph: Mapping[str, set[str]]) -> list[str]:
    """One circle in the graph as [a, b, ..., a], or [] when there is none (depth-first
    search; a node on the current path that is reached again closes a circle)."""
    done: set[str] = set()
    for start in sorted(graph):
        if start in done:
            continue
        path, on_path = [start], {start}
        stack = [iter(sorted(graph.get(start, ())))]
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                stack.pop()
                done.add(path[-1])
                on_path.discard(path.pop())
            elif nxt in on_path:
                return [*path[path.index(nxt) :], nxt]
            elif nxt not in done:
                path.append(nxt)
                on_path.add(nxt)
                stack.append(iter(sorted(graph.get(nxt, ()))))
    return []


def test_the_finder_names_a_circle_in_a_made_up_graph() -> None:
    graph = {"a": {"b"}, "b": {"c", "d"}, "c": {"e"}, "d": set(), "e": {"b"}}
    assert find_cycle(graph) == ["b", "c", "e", "b"]


def test_the_finder_finds_no_circle_in_a_graph_that_only_joins() -> None:
    graph = {"a": {"b", "c"}, "b": {"d"}, "c": {"d"}, "d": set()}
    assert find_cycle(graph) == []
    assert find_cycle({"a": {"a"}}) == ["a", "a"]


def test_the_graph_reads_top_level_imports_only(tmp_path: Path) -> None:
    package = tmp_path / "cloudsite"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("from . import low\n")
    (package / "sub" / "low.py").write_text("import cloudsite.top\n")
    (package / "top.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "from cloudsite.sub import low\n"
        "if TYPE_CHECKING:\n    from cloudsite import typed\n"
        "def later():\n    from cloudsite import late\n"
    )
    (package / "typed.py").write_text("")
    (package / "late.py").write_text("")
    graph = import_graph(tmp_path)
    assert graph["cloudsite.top"] == {"cloudsite.sub", "cloudsite.sub.low"}
    assert graph["cloudsite.sub"] == {"cloudsite.sub.low"}
    assert graph["cloudsite.sub.low"] == {"cloudsite.top"}
    assert find_cycle(graph) == [
        "cloudsite.sub",
        "cloudsite.sub.low",
        "cloudsite.top",
        "cloudsite.sub",
    ]


def test_the_cloudsite_modules_import_each_other_without_a_circle() -> None:
    graph = import_graph(SRC)
    assert {"cloudsite.cli", "cloudsite.config", "cloudsite.aws.certs"} <= set(graph)
    assert "cloudsite.schema" in graph["cloudsite.validate"]  # edges are read
    cycle = find_cycle(graph)
    assert not cycle, "import circle: " + " -> ".join(cycle)


def test_certs_and_dnscert_and_the_config_modules_depend_one_way() -> None:
    """The two circles issue 22 broke stay broken, counting imports inside functions too."""

    def every_import(module: str) -> set[str]:
        path = SRC / (module.replace(".", "/") + ".py")
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
        return names

    assert "cloudsite.aws.certs" not in every_import("cloudsite.aws.dnscert")
    assert "cloudsite.config" not in every_import("cloudsite.validate")
    assert "cloudsite.config" not in every_import("cloudsite.project.keys")
