"""Rules checked on the project's own source (its syntax tree, not its text), shared by the
architecture tests: where SQL may be built or run."""

from __future__ import annotations

import ast

SQL_PACKAGES = ("sqlalchemy", "psycopg", "geoalchemy2")
SQL_BUILDERS = frozenset({"text", "select", "insert", "update", "delete", "literal_column"})
RUNS_SQL = frozenset(
    {
        "execute",
        "executemany",
        "exec_driver_sql",
        "read_sql",
        "read_sql_query",
        "read_sql_table",
        "read_postgis",
        "copy_expert",
    }
)


def imports_of(tree: ast.AST) -> list[tuple[int, str, list[str]]]:
    """(line, module, names) of every import; ``import a.b`` gives names ``[]``."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            found.append((node.lineno, node.module or "", [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            found.extend((node.lineno, a.name, []) for a in node.names)
    return found


def sql_uses(source: str, filename: str) -> list[str]:
    """Where ``source`` builds or runs SQL (``filename:line what``)."""
    tree = ast.parse(source, filename)
    found = []
    for line, module, names in imports_of(tree):
        builders = sorted(SQL_BUILDERS.intersection(names))
        if module.startswith(SQL_PACKAGES) and builders:
            found.append(f"{filename}:{line} imports {', '.join(builders)} from {module}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            name = (
                f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
            )
            if name in RUNS_SQL:
                found.append(f"{filename}:{node.lineno} calls {name}()")
    return found
