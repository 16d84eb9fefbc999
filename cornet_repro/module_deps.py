"""The static import graph of a package: which of its modules (and data files) a piece of code uses.

Read with :mod:`ast`, never by importing. Every import statement counts, at module level and
inside functions (a lazy import may run), including ``if TYPE_CHECKING:`` blocks, so the set of
modules found errs on the large side. Also counted: string constants that are dotted names inside
the package (``importlib.import_module("cornet_repro.train")``), and for ``from X import *`` every
direct submodule of ``X``. Importing ``a.b.c`` executes ``a/__init__.py`` and ``a/b/__init__.py``
first, so parent packages are always included.

**Data files.** A non-Python file belongs to (is read by) one module:

* a file anywhere under a directory ``D`` that has a namesake module ``D.py`` beside it belongs to
  that module (``data/published/scores.csv`` → ``cornet_repro.data.published``), the nearest
  such directory winning;
* otherwise a file directly inside a package directory (one with ``__init__.py``) belongs to that
  package (``__init__``);
* anything else (say ``assets/logo.png`` with no ``assets.py``) belongs to no module:
  :func:`unowned_data_files`, which a consumer that must never be stale treats as used by all.

A module that reads a data file it does not own, without importing the module that owns it,
breaks the rule (and a cache built on it): keep data beside the module that reads it.
"""

from __future__ import annotations

import ast
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

__all__ = ["module_imports", "package_modules", "dependencies", "notebook_imports", "data_files",
           "unowned_data_files", "dependency_files", "import_cycles"]


@dataclass(frozen=True)
class _Import:
    """One module an import statement (or string constant) may execute, before resolution.

    ``kind``: ``"module"`` (``import a.b``: a.b), ``"from"`` (``from X import n``: X, with the
    imported ``names``), ``"star"`` (``from X import *``) or ``"string"`` (a constant naming it).
    """
    target: str
    kind: str
    names: tuple[str, ...] = ()
    typing_only: bool = False  # inside ``if TYPE_CHECKING:``: never executed at run time


def _resolve_relative(level: int, module: str | None, module_name: str, is_package: bool) -> str | None:
    base = module_name.split(".") if is_package else module_name.split(".")[:-1]
    if level > len(base):
        return None  # beyond the top-level package: an ImportError at run time
    base = base[:len(base) - (level - 1)]
    return ".".join(base + ([module] if module else []))


def _is_type_checking(test: ast.expr) -> bool:
    return ((isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
            or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"))


def _imports_in_tree(tree: ast.AST, module_name: str, is_package: bool, package: str) -> list[_Import]:
    found: list[_Import] = []
    inside = re.compile(rf"{re.escape(package)}(\.[A-Za-z_]\w*)*")

    def keep(name: str | None) -> bool:
        return name is not None and (name == package or name.startswith(package + "."))

    def visit(node: ast.AST, typing_only: bool) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                visit(child, True)
            for child in node.orelse:
                visit(child, typing_only)
            return
        if isinstance(node, ast.Import):
            found.extend(_Import(a.name, "module", (), typing_only) for a in node.names if keep(a.name))
        elif isinstance(node, ast.ImportFrom):
            target = (_resolve_relative(node.level, node.module, module_name, is_package) if node.level
                      else node.module)
            if keep(target):
                names = tuple(a.name for a in node.names)
                found.append(_Import(target, "star" if names == ("*",) else "from", names, typing_only))
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str)
              and inside.fullmatch(node.value)):
            found.append(_Import(node.value, "string", (), typing_only))
        for child in ast.iter_child_nodes(node):
            visit(child, typing_only)

    visit(tree, False)
    return found


_FROM_RE = r"^[ \t]*from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]*(?:\(([^)]*)\)|([\w \t,*]+))"


def _imports_in_text(text: str, module_name: str, is_package: bool, package: str) -> list[_Import]:
    """Regular-expression fallback for code ``ast`` cannot parse: dotted names inside the package
    and ``from X import a, b`` lines, read conservatively."""
    dotted = rf"\b{re.escape(package)}(?:\.[A-Za-z_]\w*)*\b"
    found = [_Import(m.group(0), "string") for m in re.finditer(dotted, text)]
    for m in re.finditer(_FROM_RE, text, re.MULTILINE):
        spec = m.group(1)
        names = tuple(n for n in re.split(r"[\s,]+", m.group(2) or m.group(3)) if n and n != "as")
        level = len(spec) - len(spec.lstrip("."))
        target = (_resolve_relative(level, spec[level:] or None, module_name, is_package) if level else spec)
        if target and (target == package or target.startswith(package + ".")):
            found.append(_Import(target, "star" if "*" in names else "from", names))
    return found


_PARSED: dict[tuple[bytes, str, bool, str], tuple[_Import, ...]] = {}


def _parse(source: bytes, module_name: str, is_package: bool, package: str) -> tuple[_Import, ...]:
    """The imports of one source text, memoized on the text's hash (so never stale)."""
    key = (hashlib.sha256(source).digest(), module_name, is_package, package)
    if key not in _PARSED:
        if len(_PARSED) >= 4096:
            _PARSED.clear()
        try:
            found = _imports_in_tree(ast.parse(source), module_name, is_package, package)
        except (SyntaxError, ValueError):
            found = _imports_in_text(source.decode("utf-8", "replace"), module_name, is_package, package)
        _PARSED[key] = tuple(found)
    return _PARSED[key]


def _parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _expand(imports: Iterable[_Import], is_module: Callable[[str], bool],
            submodules: Callable[[str], list[str]]) -> set[str]:
    """Every name the imports may execute: targets, submodules imported by ``from``, parents."""
    names: set[str] = set()
    for imp in imports:
        names.add(imp.target)
        if imp.kind == "from":
            names.update(f"{imp.target}.{n}" for n in imp.names if is_module(f"{imp.target}.{n}"))
        elif imp.kind == "star":
            names.update(submodules(imp.target))
    return names | {p for n in names for p in _parents(n)}


def _top_dir(path: Path, module_name: str) -> Path:
    """The directory holding the top-level package of ``module_name`` (whose file is ``path``)."""
    depth = len(module_name.split(".")) - (0 if path.name == "__init__.py" else 1)
    return path.parents[depth]


def _module_file(top: Path, name: str) -> Path | None:
    base = top.joinpath(*name.split("."))
    for candidate in (base.with_name(base.name + ".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def module_imports(path: Path, module_name: str, package: str) -> set[str]:
    """Modules of ``package`` that the source file ``path`` (module ``module_name``) may import.

    Module-level and lazy imports, relative ones resolved, ``from X import n`` giving ``X`` and,
    when ``n`` is a submodule (``n.py`` or ``n/__init__.py``), ``X.n`` too; plus parent packages.
    """
    path = Path(path)
    top = _top_dir(path, module_name)
    imports = _parse(path.read_bytes(), module_name, path.name == "__init__.py", package)
    return _expand(imports, lambda n: _module_file(top, n) is not None, lambda n: _submodule_files(top, n))


def _submodule_files(top: Path, name: str) -> list[str]:
    folder = top.joinpath(*name.split("."))
    found = [p.stem for p in folder.glob("*.py") if p.name != "__init__.py"]
    found += [p.parent.name for p in folder.glob("*/__init__.py")]
    return sorted(f"{name}.{n}" for n in found)


def package_modules(package_dir: Path) -> dict[str, Path]:
    """Module name → source file for every ``.py`` file of the package (a package → its ``__init__.py``)."""
    return _Package.scan(Path(package_dir)).modules


def dependencies(roots: Iterable[str], package_dir: Path) -> set[str]:
    """Modules of the package reachable by imports from ``roots`` (included, with their parents).

    Names that are not modules of the package (an attribute, a module that does not exist) are left out.
    """
    return _Package.scan(Path(package_dir)).closure(roots)


def _code_cells(notebook: Path) -> list[str]:
    import json

    nb = json.loads(Path(notebook).read_text())
    cells = [c for c in nb.get("cells", []) if c.get("cell_type") == "code"]
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in cells]


def notebook_imports(notebook: Path, package: str, package_dir: Path | None = None) -> set[str]:
    """Modules of ``package`` imported by the notebook's code cells, with their parent packages.

    Lines starting with ``%`` or ``!`` (IPython magics, shell commands) are dropped before parsing,
    but dotted names of the package in them still count (``!python -m cornet_repro.cli``); a cell
    that does not parse even then is read with a conservative regular expression. For
    ``from X import n``, ``X.n`` is kept when it is a module of ``package_dir``; without
    ``package_dir`` it is always kept (a superset: :func:`dependencies` skips non-modules).
    """
    found: list[_Import] = []
    for source in _code_cells(notebook):
        lines = source.splitlines()
        magic = [line for line in lines if line.lstrip().startswith(("%", "!"))]
        python = "\n".join(line for line in lines if not line.lstrip().startswith(("%", "!")))
        found += _imports_in_text("\n".join(magic), "__main__", False, package) if magic else []
        found += _parse(python.encode(), "__main__", False, package)
    if package_dir is None:
        return _expand(found, lambda n: True, lambda n: [])
    pkg = _Package.scan(Path(package_dir))
    return _expand(found, pkg.modules.__contains__, pkg.submodules)


def dependency_files(roots: Iterable[str], package_dir: Path) -> list[Path]:
    """Every file of the package that code importing ``roots`` may read, sorted: the sources of
    :func:`dependencies`, their :func:`data_files`, and the :func:`unowned_data_files`.

    A module created later under a name those imports mention (say ``from . import optional``
    behind ``except ImportError``) joins the list then: the list is computed from the files as they are.
    """
    pkg = _Package.scan(Path(package_dir))
    modules = pkg.closure(roots)
    files = [pkg.modules[m] for m in modules]
    files += [f for m in modules for f in pkg.data.get(m, [])] + pkg.data.get(None, [])
    return sorted(set(files))


def data_files(module: str, package_dir: Path) -> list[Path]:
    """Non-Python files that belong to ``module`` (see the module docstring for the rule), sorted."""
    return _Package.scan(Path(package_dir)).data.get(module, [])


def unowned_data_files(package_dir: Path) -> list[Path]:
    """Non-Python files of the package that belong to no module, sorted."""
    return _Package.scan(Path(package_dir)).data.get(None, [])


def import_cycles(package_dir: Path, package: str) -> list[list[str]]:
    """Import circles among the package's modules: each a list of module names, each importing the next.

    Edges: module A → module B when an import statement of A (module level or lazy; not one under
    ``if TYPE_CHECKING:``) executes B: the module it names, its parent packages, the submodules it
    imports. Edges from A to its own ancestor packages are left out when they come only from that
    structure (``from . import sibling``, ``from ..data import brainio``, ``import pkg.sub.x``):
    Python executes every ancestor ``__init__`` before A anyway, so such an edge, closed by the
    ancestor's ``__init__`` re-exporting from A, is no circle. An edge to an ancestor is kept when A
    takes a *name* from it (``from . import helper`` where ``helper`` is defined in
    ``__init__.py``, or ``import pkg``): A then needs that ``__init__`` to have run past the
    definition, and an ``__init__`` that imports A first fails with "partially initialized module".
    """
    import networkx as nx

    pkg = _Package.scan(Path(package_dir))
    if pkg.name != package:
        raise ValueError(f"{package_dir} is package {pkg.name!r}, not {package!r}")
    graph = nx.DiGraph()
    graph.add_nodes_from(pkg.modules)
    for name in pkg.modules:
        ancestors = set(_parents(name))
        for imp in pkg.imports(name):
            if imp.typing_only or imp.kind == "string":
                continue
            if imp.kind == "from":
                members = [f"{imp.target}.{n}" for n in imp.names]
                submodules = [m for m in members if m in pkg.modules]
                targets = set(submodules)
                if len(submodules) < len(members):  # a name taken from the module itself
                    targets.add(imp.target)
                else:
                    targets.update(p for p in [imp.target, *_parents(imp.target)] if p not in ancestors)
            else:
                targets = {imp.target} | set(pkg.submodules(imp.target) if imp.kind == "star" else [])
            targets |= {p for t in targets for p in _parents(t) if p not in ancestors}
            graph.add_edges_from((name, t) for t in targets if t in pkg.modules and t != name)
    cycles = [_rotate(c) for c in nx.simple_cycles(graph)]
    return sorted(cycles, key=lambda c: (len(c), c))


def _rotate(cycle: list[str]) -> list[str]:
    i = cycle.index(min(cycle))
    return cycle[i:] + cycle[:i]


@dataclass
class _Package:
    """One walk over a package directory: its modules and the owners of its data files."""
    name: str
    directory: Path
    modules: dict[str, Path]
    data: dict[str | None, list[Path]]  # module (None: no module) → its data files
    _sources: dict[str, bytes]

    @classmethod
    def scan(cls, directory: Path) -> "_Package":
        directory = Path(directory)
        name = directory.name
        modules: dict[str, Path] = {}
        others: list[Path] = []
        for folder, dirs, files in os.walk(directory):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            here = Path(folder)
            parts = here.relative_to(directory).parts
            for file in sorted(files):
                path = here / file
                if file.endswith(".py"):
                    stem = parts if file == "__init__.py" else (*parts, file[:-3])
                    modules[".".join((name, *stem))] = path
                elif not file.endswith((".pyc", ".pyo")):
                    others.append(path)
        data: dict[str | None, list[Path]] = {}
        for path in sorted(others):
            data.setdefault(cls._owner(path, directory, name), []).append(path)
        return cls(name, directory, modules, data, {})

    @staticmethod
    def _owner(path: Path, directory: Path, name: str) -> str | None:
        folder = path.parent
        while folder == directory or directory in folder.parents:
            dotted = ".".join((name, *folder.relative_to(directory).parts))
            if folder != directory and (folder.parent / f"{folder.name}.py").is_file():
                return dotted  # under the namesake directory of a module
            if folder == path.parent and (folder / "__init__.py").is_file():
                return dotted  # directly inside a package
            if (folder / "__init__.py").is_file() or folder == directory:
                return None  # a plain directory inside a package, claimed by no module
            folder = folder.parent
        return None

    def source(self, module: str) -> bytes:
        if module not in self._sources:
            self._sources[module] = self.modules[module].read_bytes()
        return self._sources[module]

    def imports(self, module: str) -> tuple[_Import, ...]:
        return _parse(self.source(module), module, self.modules[module].name == "__init__.py", self.name)

    def submodules(self, module: str) -> list[str]:
        prefix = module + "."
        return sorted(m for m in self.modules if m.startswith(prefix) and "." not in m[len(prefix):])

    def closure(self, roots: Iterable[str]) -> set[str]:
        """Modules reachable from ``roots`` (names that are no module of the package are skipped)."""
        seen: set[str] = set()
        todo = [n for r in roots for n in (r, *_parents(r)) if n in self.modules]
        while todo:
            name = todo.pop()
            if name not in seen:
                seen.add(name)
                found = _expand(self.imports(name), self.modules.__contains__, self.submodules)
                todo.extend(n for n in found - seen if n in self.modules)
        return seen
