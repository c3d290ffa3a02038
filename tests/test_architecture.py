"""The shape of the code, held by a test: sizes, complexity, and which module may import which.

The rules are in CONTRIBUTING.md. They read the source with `ast`, imports inside functions and
under TYPE_CHECKING included, so they cannot be met by hiding an import.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "pledge"
MODULE_MAX_LINES = 600
FUNCTION_MAX_LINES = 60
FUNCTION_MAX_COMPLEXITY = 15
# A function that must stay one piece says why in a comment starting with this, on the line
# just above its `def` (or its first decorator). At most this many, each under EXCEPTION_MAX.
ONE_PIECE = "# One piece:"
EXCEPTIONS_MAX = 3
EXCEPTION_MAX_LINES = 80
# Infrastructure packages at the root of pledge/, not domains.
NOT_DOMAINS = {"migrations", "web"}


@dataclass(frozen=True)
class Module:
    name: str
    path: Path
    tree: ast.Module
    lines: list[str]

    @property
    def domain(self) -> str | None:
        parts = self.name.split(".")
        if len(parts) > 2 or (PACKAGE / parts[-1]).is_dir():
            return parts[1] if parts[1] not in NOT_DOMAINS else None
        return None


def _modules() -> list[Module]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(ROOT).with_suffix("")
        if "migrations" in relative.parts:
            continue
        parts = list(relative.parts)
        if parts[-1] == "__init__":
            parts.pop()
        source = path.read_text(encoding="utf-8")
        found.append(Module(".".join(parts), path, ast.parse(source), source.splitlines()))
    return found


MODULES = _modules()
BY_NAME = {module.name: module for module in MODULES}


def _where(module: Module, node: ast.AST | None = None) -> str:
    line = f":{node.lineno}" if node is not None and hasattr(node, "lineno") else ""
    return f"{module.path.relative_to(ROOT)}{line}"


# --- sizes ------------------------------------------------------------------------------


BRANCHES = (
    ast.If,
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.IfExp,
    ast.ExceptHandler,
    ast.Assert,
    ast.match_case,
)


def complexity(function: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Cyclomatic complexity as radon counts it: one, plus one for each branch, loop,
    handler, assert, comprehension clause and conditional expression, plus one for each
    extra operand of `and`/`or`. Nested functions count for their parent too."""
    count = 1
    for node in ast.walk(function):
        if isinstance(node, BRANCHES):
            count += 1
        elif isinstance(node, ast.comprehension):
            count += 1 + len(node.ifs)
        elif isinstance(node, ast.BoolOp):
            count += len(node.values) - 1
    return count


def _functions(module: Module) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for node in ast.walk(module.tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def _marked_one_piece(module: Module, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    first = min([function.lineno, *(d.lineno for d in function.decorator_list)])
    above = module.lines[first - 2].strip() if first >= 2 else ""
    return above.startswith(ONE_PIECE)


def test_no_module_is_longer_than_the_limit() -> None:
    long = [
        f"{_where(m)}: {len(m.lines)} lines" for m in MODULES if len(m.lines) > MODULE_MAX_LINES
    ]
    assert not long, f"modules over {MODULE_MAX_LINES} lines: {long}"


def test_functions_are_short_and_simple_but_for_a_few_that_say_why() -> None:
    over, exceptions = [], []
    for module in MODULES:
        for function in _functions(module):
            length = (function.end_lineno or function.lineno) - function.lineno + 1
            score = complexity(function)
            if length <= FUNCTION_MAX_LINES and score <= FUNCTION_MAX_COMPLEXITY:
                continue
            where = f"{_where(module, function)} {function.name}: {length} lines, {score}"
            if _marked_one_piece(module, function) and length < EXCEPTION_MAX_LINES:
                exceptions.append(where)
            else:
                over.append(where)
    assert not over, f"over {FUNCTION_MAX_LINES} lines or complexity {FUNCTION_MAX_COMPLEXITY}"
    assert len(exceptions) <= EXCEPTIONS_MAX, exceptions


def test_the_complexity_count_sees_every_kind_of_branch() -> None:
    source = (
        "def f(x):\n"
        "    if x and x > 1 or x < -1:\n"
        "        return [y for y in x if y]\n"
        "    while x:\n"
        "        x -= 1\n"
        "    try:\n"
        "        pass\n"
        "    except ValueError:\n"
        "        pass\n"
        "    return 1 if x else 2\n"
    )
    function = ast.parse(source).body[0]
    assert isinstance(function, ast.FunctionDef)
    # 1 + if + 2 boolean operands + comprehension and its if + while + except + ternary
    assert complexity(function) == 9


# --- imports ----------------------------------------------------------------------------


def _imports(module: Module) -> set[str]:
    """The pledge modules this one imports, wherever the import statement stands."""
    package = module.name if module.path.name == "__init__.py" else module.name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            # `from pledge.x import service` names the module pledge.x.service when it is one.
            while target and target not in BY_NAME:
                target = target.rpartition(".")[0]
            if target and target != module.name and target.startswith("pledge"):
                found.add(target)
    return found


GRAPH = {module.name: _imports(module) for module in MODULES}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                group.append(top)
                if top == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def _is_package_init(name: str) -> bool:
    module = BY_NAME.get(name)
    return module is not None and module.path.name == "__init__.py"


def test_no_import_cycle_between_modules() -> None:
    # A package's __init__ re-exporting its submodules is how a split service keeps its
    # callers: the submodules importing a sibling through it is not a cycle of meaning.
    graph = {
        name: {t for t in targets if not (_is_package_init(t) and name.startswith(t + "."))}
        for name, targets in GRAPH.items()
    }
    assert _cycles(graph) == []


def test_no_import_cycle_between_domain_folders() -> None:
    domains: dict[str, set[str]] = defaultdict(set)
    for name, targets in GRAPH.items():
        source = BY_NAME[name].domain
        if source is None:
            continue
        for target in targets:
            other = BY_NAME[target].domain
            if other is not None and other != source:
                domains[source].add(other)
    assert _cycles(dict(domains)) == []


def test_no_routes_module_imports_another() -> None:
    crossing = [
        f"{name} -> {target}"
        for name, targets in GRAPH.items()
        for target in targets
        if name.endswith(".routes") and target.endswith(".routes")
    ]
    assert crossing == []


def test_the_cycle_finder_finds_cycles() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


@pytest.mark.parametrize("module", [m for m in MODULES], ids=lambda m: m.name)
def test_every_module_says_what_it_is_for(module: Module) -> None:
    docstring = ast.get_docstring(module.tree)
    assert docstring, f"{_where(module)} starts with no docstring"


# --- queries across domains -------------------------------------------------------------

# The modules that declare tables, and who owns them: a domain's models module belongs to its
# domain; the outbox, the audit log and the WhatsApp messages received are root modules of
# their own.
TABLE_MODULES = {
    **{
        module.name: module.name.split(".")[1]
        for module in MODULES
        if module.name.endswith(".models") and module.domain is not None
    },
    "pledge.mail": "mail",
    "pledge.audit": "audit",
    "pledge.whatsapp": "whatsapp",
}
# Root modules held to the rule like a domain. pledge/demo.py, cli.py and backup.py work on the
# whole database by purpose and are not.
CHECKED_ROOT_MODULES = {"pledge.observability": "observability"}
# The one exception (CONTRIBUTING.md): moderation is the hoaxes domain's back office. Every
# query of its queue, claims and decisions is about cases and reports, so it works on those
# rows directly; everything else it reads goes through the owning domain's service.
HOAXES_BACK_OFFICE = frozenset({"HoaxCase", "HoaxReport", "hoax_case_table", "hoax_report_table"})
ALLOWED_FOREIGN_TABLES = {"moderation": HOAXES_BACK_OFFICE}
# A table named as an argument of one of these builds or runs a statement on it.
QUERY_CALLS = {
    "add_columns",
    "aliased",
    "delete",
    "exists",
    "get",
    "insert",
    "join",
    "join_from",
    "outerjoin",
    "query",
    "select",
    "select_from",
    "table",
    "update",
    "with_only_columns",
}


def _tables_of(tree: ast.Module) -> set[str]:
    """The table classes (``class X(SQLModel, table=True)``) and Core handles (``x_table =
    ...``) a module declares at its top level."""
    found: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and any(
            k.arg == "table" and isinstance(k.value, ast.Constant) and k.value.value is True
            for k in node.keywords
        ):
            found.add(node.name)
        elif isinstance(node, ast.Assign):
            found |= {
                t.id for t in node.targets if isinstance(t, ast.Name) and t.id.endswith("_table")
            }
    return found


# Owner of each table, by the module that declares it: {"pledge.mail": {"OutboxMessage": "mail"}}.
TABLES = {
    name: {table: owner for table in _tables_of(BY_NAME[name].tree)}
    for name, owner in TABLE_MODULES.items()
}


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


class _QueryFinder(ast.NodeVisitor):
    """Where a module uses a table it imported from another owner in a statement: selected,
    fetched, joined, updated, or one of its columns named. Naming the table only as a type
    (an annotation, a schema's field, ``isinstance``) is not a query."""

    def __init__(self, tree: ast.Module, *, owner: str, tables: dict[str, dict[str, str]]):
        self.owner = owner
        self.modules: dict[str, dict[str, str]] = {}  # local name -> tables of that module
        names: dict[str, str] = {}  # local name -> the table it stands for
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    local = alias.asname or alias.name
                    if node.module in tables and alias.name in tables[node.module]:
                        names[local] = alias.name
                    elif f"{node.module}.{alias.name}" in tables:
                        self.modules[local] = tables[f"{node.module}.{alias.name}"]
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name in tables:
                        self.modules[alias.asname or alias.name] = tables[alias.name]
        owners = {table: who for found in tables.values() for table, who in found.items()}
        self.scopes = [{local: (table, owners[table]) for local, table in names.items()}]
        self.found: list[tuple[int, str]] = []

    def table(self, node: ast.AST) -> tuple[str, str] | None:
        """The table and its owner when this expression names another owner's table."""
        dotted = _dotted(node)
        if dotted is None:
            return None
        found = self.scopes[-1].get(dotted)
        if found is None and "." in dotted:
            module, _, name = dotted.rpartition(".")
            owner = self.modules.get(module, {}).get(name)
            found = (name, owner) if owner else None
        if found is None or found[1] == self.owner:
            return None
        if found[0] in ALLOWED_FOREIGN_TABLES.get(self.owner, frozenset()):
            return None
        return found

    def note(self, node: ast.AST, table: tuple[str, str], how: str) -> None:
        self.found.append((getattr(node, "lineno", 0), f"{how} {table[0]}, owned by {table[1]}"))

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.scopes.append(dict(self.scopes[-1]))
        self.generic_visit(node)
        self.scopes.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Assign(self, node: ast.Assign) -> None:
        """``t = other_table`` and ``a, b = x_table, y_table`` make local names for tables."""
        for target in node.targets:
            pairs = (
                zip(target.elts, node.value.elts, strict=False)
                if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple)
                else [(target, node.value)]
            )
            for name, value in pairs:
                table = self.table(value)
                if isinstance(name, ast.Name) and table is not None:
                    self.scopes[-1][name.id] = table
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        table = self.table(node.value)
        if table is not None and not node.attr.startswith("model_"):
            self.note(node, table, f"reads .{node.attr} of")
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        called = node.func.attr if isinstance(node.func, ast.Attribute) else _dotted(node.func)
        table = self.table(node.func)
        if table is not None:
            self.note(node, table, "makes a row of")
        if called in QUERY_CALLS:
            for argument in [*node.args, *(k.value for k in node.keywords)]:
                table = self.table(argument)
                if table is not None:
                    self.note(node, table, f"{called}() on")
        self.generic_visit(node)


def _foreign_queries(
    tree: ast.Module, *, owner: str, tables: dict[str, dict[str, str]]
) -> list[tuple[int, str]]:
    finder = _QueryFinder(tree, owner=owner, tables=tables)
    finder.visit(tree)
    return sorted(set(finder.found))


def test_no_domain_queries_another_domains_tables() -> None:
    found = []
    for module in MODULES:
        owner = module.domain or CHECKED_ROOT_MODULES.get(module.name)
        if owner is None:
            continue
        for line, what in _foreign_queries(module.tree, owner=owner, tables=TABLES):
            found.append(f"{module.path.relative_to(ROOT)}:{line} {what}")
    assert not found, "call the owning domain's service instead:\n" + "\n".join(found)


def test_the_query_finder_tells_a_query_from_a_type() -> None:
    campaigns = {
        "pledge.campaigns.models": {"Campaign": "campaigns", "campaign_table": "campaigns"}
    }
    both = {**campaigns, "pledge.hoaxes.models": {"HoaxCase": "hoaxes"}}
    forbidden = (
        "from pledge.campaigns.models import Campaign, campaign_table\n"
        "def open_campaign(session, campaign_id):\n"
        "    table = campaign_table\n"
        "    return session.get(Campaign, campaign_id), sa.select(table.c.slug)\n"
    )
    allowed = (
        "from pledge.campaigns.models import Campaign\n"
        "from pledge.hoaxes.models import HoaxCase\n"
        "def title(campaign: Campaign) -> str:\n"
        "    return Campaign.model_validate(campaign).title\n"
        "def cases(session):\n"
        "    return session.exec(select(HoaxCase).where(HoaxCase.status == 'new'))\n"
    )
    assert _foreign_queries(ast.parse(forbidden), owner="dashboard", tables=campaigns) == [
        (4, "get() on Campaign, owned by campaigns"),
        (4, "reads .c of campaign_table, owned by campaigns"),
    ]
    assert _foreign_queries(ast.parse(forbidden), owner="campaigns", tables=campaigns) == []
    assert _foreign_queries(ast.parse(allowed), owner="dashboard", tables=campaigns) == []
    # Moderation may work on the hoaxes domain's cases; no other domain may.
    assert _foreign_queries(ast.parse(allowed), owner="moderation", tables=both) == []
    found = _foreign_queries(ast.parse(allowed), owner="dashboard", tables=both)
    assert [what for _line, what in found] == [
        "reads .status of HoaxCase, owned by hoaxes",
        "select() on HoaxCase, owned by hoaxes",
    ]
