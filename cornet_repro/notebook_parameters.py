"""A notebook's parameters, read from its cell tagged ``parameters``, and the values given for them checked.

Each assignment of the cell is a parameter; its default gives its type, and the comment lines
just above it (or at the end of its line) say what it is. Two things a comment may document,
and that are then checked:

* ``range: LOW..HIGH`` for a number, either end open (``range: 1..`` is "at least 1");
* ``one of: a, b, c`` for a string with a closed set of values.

A parameter whose default is ``None`` states its type in a type comment
(``results_dir = None  # type: str | None``; papermill does not read ``str | None`` annotations)
or an annotation (``image_size: int = 64``); ``None`` is allowed only when the type says
``| None``. An ``int`` is accepted where the default is a float, never the reverse, and ``bool``
is not a number here (``threshold: true`` is a mistake, not 1.0).

Values are checked before any notebook runs (:func:`check_values`, :func:`check_book`): an error
is one line naming where the value was set, the notebook, the parameter and the value, what is
wrong and the fix. :func:`merged_cell` writes the cell an executed copy shows: the parameters
in force, each with its comment, the values set from outside marked as such.
"""

from __future__ import annotations

import ast
import difflib
import io
import json
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

#: Where parameters are set for the book (relative to the book root).
BOOK_FILE = "book/parameters.yml"
#: The key of a book entry that runs its notebook once per combination of values.
SWEEP = "sweep"
_RANGE = re.compile(r"range:\s*(-?[\d.]+(?:e-?\d+)?)?\s*\.\.\s*(-?[\d.]+(?:e-?\d+)?)?")
_ONE_OF = re.compile(r"one of:\s*([^;()]+)")
_TYPE_COMMENT = re.compile(r"type:\s*(.+?)\s*$")
_SCALARS = {"bool": bool, "int": int, "float": float, "str": str}


class ParameterError(ValueError):
    """A parameter value (or name) that cannot be used; the message is one line per mistake."""


@dataclass(frozen=True)
class Kind:
    """A parameter's type: ``bool``, ``int``, ``float``, ``str``, ``list`` (of ``item``) or ``any``."""
    base: str
    item: str | None = None  # the element type of a list, None if mixed or unknown
    optional: bool = False  # None allowed

    def describe(self) -> str:
        words = {"bool": "true or false", "int": "a whole number", "float": "a number", "str": "a string",
                 "any": "any value"}
        text = (f"a list of {_plural(self.item)}" if self.item else "a list") if self.base == "list" \
            else words[self.base]
        return text + (" or null" if self.optional else "")


def _plural(base: str) -> str:
    return {"bool": "true/false values", "int": "whole numbers", "float": "numbers", "str": "strings"}.get(base, "values")


@dataclass(frozen=True)
class Parameter:
    """One assignment of a ``parameters`` cell."""
    name: str
    default: Any
    kind: Kind
    comment: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] | None = None

    def describe(self) -> str:
        """What the parameter accepts, e.g. 'a number from 0 to 1'."""
        text = self.kind.describe()
        if self.choices:
            text = "one of " + ", ".join(self.choices) + (" or null" if self.kind.optional else "")
        elif self.low is not None and self.high is not None:
            text += f" from {_num(self.low)} to {_num(self.high)}"
        elif self.low is not None:
            text += f" of at least {_num(self.low)}"
        elif self.high is not None:
            text += f" of at most {_num(self.high)}"
        return text


def _num(x: float) -> str:
    return f"{x:g}"


def _kind_of_value(value: Any) -> Kind:
    if value is None:
        return Kind("any", optional=True)
    for name, typ in _SCALARS.items():
        if type(value) is typ:
            return Kind(name)
    if isinstance(value, (list, tuple)):
        items = {_kind_of_value(v).base for v in value}
        return Kind("list", items.pop() if len(items) == 1 else None)
    return Kind("any")


def _kind_of_annotation(node: ast.expr, where: str) -> Kind:
    """``int``, ``str | None``, ``list[str]``, ``list[str] | None``, ``Optional[int]``."""
    optional = False
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        parts = [node.left, node.right]
        nones = [p for p in parts if isinstance(p, ast.Constant) and p.value is None]
        if len(nones) != 1:
            raise ValueError(f"{where}: annotation {ast.unparse(node)!r}: only 'T | None' unions are understood")
        optional, node = True, next(p for p in parts if p not in nones)
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == "Optional":
        optional, node = True, node.slice
    if isinstance(node, ast.Name) and node.id in _SCALARS:
        return Kind(node.id, optional=optional)
    if isinstance(node, ast.Name) and node.id in ("list", "Any", "object"):
        return Kind("list" if node.id == "list" else "any", optional=optional)
    if (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == "list"
            and isinstance(node.slice, ast.Name) and node.slice.id in _SCALARS):
        return Kind("list", node.slice.id, optional=optional)
    raise ValueError(f"{where}: annotation {ast.unparse(node)!r} is not understood; use bool, int, float, str, "
                     "list[str] (or another of those), each optionally '| None'")


def _comments(source: str) -> dict[int, str]:
    """Line number (1-based) → the comment text on that line."""
    out = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            out[token.start[0]] = token.string.lstrip("#").strip()
    return out


def parameters_cell(nb: Mapping) -> tuple[int, str]:
    """(index, source) of the notebook's cell tagged ``parameters``."""
    for index, cell in enumerate(nb["cells"]):
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            source = cell["source"]
            return index, "".join(source) if isinstance(source, list) else source
    raise ValueError("no cell tagged 'parameters' (papermill needs one)")


def parse_parameters(source: str, where: str = "the parameters cell") -> dict[str, Parameter]:
    """The parameters assigned in ``source`` (a ``parameters`` cell), in order."""
    tree = ast.parse(source)
    lines = source.splitlines()
    comments = _comments(source)
    params: dict[str, Parameter] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name, annotation = node.targets[0].id, None
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            name, annotation = node.target.id, node.annotation
        else:
            continue
        try:
            default = ast.literal_eval(node.value)
        except ValueError:
            raise ValueError(f"{where}: {name} = {ast.unparse(node.value)}: a parameter's default must be a "
                             "literal (a number, string, bool, None or list of those)") from None
        above = []
        line = node.lineno - 1  # 1-based number of the line above
        while line >= 1 and lines[line - 1].strip().startswith("#"):
            above.insert(0, comments.get(line, ""))
            line -= 1
        inline = [comments[n] for n in range(node.lineno, node.end_lineno + 1) if n in comments]
        typed = [m.group(1) for text in inline if (m := _TYPE_COMMENT.match(text))]
        comment = " ".join(above + [text for text in inline if not _TYPE_COMMENT.match(text)])
        if annotation is None and typed:
            try:
                annotation = ast.parse(typed[0], mode="eval").body
            except SyntaxError:
                raise ValueError(f"{where}: {name}: '# type: {typed[0]}' is not a type") from None
        kind = (_kind_of_annotation(annotation, f"{where}: {name}") if annotation is not None
                else _kind_of_value(default))
        low = high = None
        if match := _RANGE.search(comment):
            low, high = (float(v) if v else None for v in match.groups())
        choices = None
        if match := _ONE_OF.search(comment):
            choices = tuple(c.strip() for c in re.split(r"[,|]", match.group(1)) if c.strip())
        params[name] = Parameter(name, default, kind, comment, low, high, choices)
    return params


def notebook_parameters(notebook: Path) -> dict[str, Parameter]:
    """The parameters of ``notebook`` (a path to an ``.ipynb``)."""
    notebook = Path(notebook)
    try:
        _, source = parameters_cell(json.loads(notebook.read_text()))
    except ValueError as exc:
        raise ValueError(f"{notebook}: {exc}") from None
    return parse_parameters(source, where=f"{notebook} (parameters cell)")


def _show(value: Any) -> str:
    """A value as the user wrote it (YAML spelling: null, true)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return repr(value)


def _what(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "true/false", int: "a whole number", float: "a number", str: "a string", list: "a list",
            dict: "a mapping"}.get(type(value), type(value).__name__)


def _fits(value: Any, base: str | None) -> bool:
    if base in (None, "any"):
        return True
    if base == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if base == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    return type(value) is _SCALARS[base]


def problem(param: Parameter, value: Any) -> str | None:
    """What is wrong with ``value`` for ``param`` (None if nothing)."""
    kind = param.kind
    if value is None:
        return None if kind.optional else "null is not allowed here"
    if kind.base == "list":
        if not isinstance(value, list):
            return f"{_what(value)} where a list is expected"
        wrong = [v for v in value if not _fits(v, kind.item)]
        if wrong:
            return f"{_show(wrong[0])} in the list is {_what(wrong[0])}, not {Kind(kind.item).describe()}"
        if param.choices:
            outside = [v for v in value if v not in param.choices]
            if outside:
                return f"{_show(outside[0])} in the list is not one of {', '.join(param.choices)}"
        return None
    if not _fits(value, kind.base):
        if kind.base == "float" and isinstance(value, str) and _is_number(value):
            return "a number in quotes is a string"
        return f"{_what(value)}, not {Kind(kind.base).describe()}"
    if param.choices and value not in param.choices:
        return f"not one of {', '.join(param.choices)}"
    if kind.base in ("int", "float"):
        if (param.low is not None and value < param.low) or (param.high is not None and value > param.high):
            return "out of range"
    return None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _example(param: Parameter) -> Any:
    """A valid value to show in a fix: the default if it has one, else one of the right type."""
    if param.default is not None:
        return param.default
    if param.choices:
        return param.choices[0]
    return {"bool": True, "int": param.low if param.low is not None else 1, "float": 0.5, "str": "...",
            "list": ["..."], "any": "..."}[param.kind.base]


def _fix(param: Parameter, value: Any, spell: Callable[[str, Any], str], sweep_hint: bool) -> str:
    example = spell(param.name, _example(param))
    accepts = param.describe()
    if value is None:
        return f"give {accepts} (e.g. {example}), or leave the parameter out to keep the default"
    if isinstance(value, list) and param.kind.base != "list":
        hint = (f", or to run the notebook once per value list them under {SWEEP}: "
                f"({SWEEP}: {{{param.name}: {_show(value)}}})") if sweep_hint else ""
        return f"give one value, {accepts} (e.g. {example}){hint}"
    return f"give {accepts} (e.g. {example})"


def yaml_spelling(name: str, value: Any) -> str:
    """How a value is written in ``book/parameters.yml``."""
    return f"{name}: {_show(value)}"


def cli_spelling(name: str, value: Any) -> str:
    """How a value is written with ``cornet-repro figure -p``."""
    shown = _show(value)
    return f"-p {name} {shown if ' ' not in shown else repr(shown)}"


def unknown_name_fix(name: str, known: list[str], noun: str = "parameter") -> str:
    """'did you mean X?' when a known name is close, else the list of known names."""
    lower = {k.lower(): k for k in known}
    close = [lower[c] for c in difflib.get_close_matches(name.lower(), list(lower), n=1, cutoff=0.6)]
    close = close or [k for k in known if k.startswith(name)][:2]  # fig1 → fig1_brainscore_vs_imagenet
    if len(close) == 1:
        return f"did you mean {close[0]!r}?"
    return f"the {noun}s are: {', '.join(known) or 'none'}"


def check_values(notebook: str, params: Mapping[str, Parameter], values: Mapping[str, Any], *, where: str,
                 spell: Callable[[str, Any], str] = yaml_spelling, sweep_hint: bool = False) -> list[str]:
    """One line per mistake in ``values`` (an empty list if none).

    ``where`` says where the values were set (``book/parameters.yml``, ``cornet-repro figure -p``);
    ``spell`` writes a value as the user would write it there.
    """
    errors = []
    for name, value in values.items():
        if name not in params:
            errors.append(f"{where}: {notebook}: unknown parameter {name!r} (= {_show(value)}); "
                          f"{unknown_name_fix(name, list(params))}")
            continue
        wrong = problem(params[name], value)
        if wrong:
            errors.append(f"{where}: {notebook}: parameter {name} = {_show(value)}: {wrong}; "
                          f"{_fix(params[name], value, spell, sweep_hint)}")
    return errors


def check_entry(notebook: str, params: Mapping[str, Parameter], entry: Mapping[str, Any],
                where: str = BOOK_FILE) -> list[str]:
    """The mistakes in one notebook's entry of ``book/parameters.yml``, its ``sweep`` included."""
    entry = dict(entry)
    sweep = entry.pop(SWEEP, None)
    errors = check_values(notebook, params, entry, where=where, sweep_hint=True)
    if sweep is None:
        return errors
    if not isinstance(sweep, dict) or not sweep:
        return errors + [f"{where}: {notebook}: {SWEEP} = {_show(sweep)}: not a mapping of parameter names to lists; "
                         f"write e.g. {SWEEP}: {{seed: [0, 1]}}"]
    for name, values in sweep.items():
        if name not in params:
            errors.append(f"{where}: {notebook}: {SWEEP}: unknown parameter {name!r}; "
                          f"{unknown_name_fix(name, list(params))}")
        elif not isinstance(values, list) or not values:
            errors.append(f"{where}: {notebook}: {SWEEP}: {name} = {_show(values)}: not a non-empty list; "
                          f"list the values to run, e.g. {SWEEP}: {{{name}: [{_show(_example(params[name]))}]}}")
        elif name in entry:
            errors.append(f"{where}: {notebook}: {name} is set both as a value ({_show(entry[name])}) and in "
                          f"{SWEEP}; keep one of the two")
        else:
            for value in values:
                wrong = problem(params[name], value)
                if wrong:
                    errors.append(f"{where}: {notebook}: {SWEEP}: {name} value {_show(value)}: {wrong}; "
                                  f"{_fix(params[name], value, yaml_spelling, False)}")
    return errors


def check_book(entries: Mapping[str, Mapping[str, Any]], notebooks: Mapping[str, Path],
               where: str = BOOK_FILE) -> None:
    """Check every entry of ``book/parameters.yml`` against its notebook; raise :class:`ParameterError`
    listing every mistake, one line each."""
    errors = []
    for name, entry in entries.items():
        if name not in notebooks:
            errors.append(f"{where}: no notebook named {name!r} in notebooks/; "
                          f"{unknown_name_fix(name, sorted(notebooks), 'notebook')}")
            continue
        errors += check_entry(name, notebook_parameters(notebooks[name]), entry or {}, where)
    if errors:
        raise ParameterError("\n".join(errors))


# ---------------------------------------------------------------------------------------------
# the cell an executed copy shows
# ---------------------------------------------------------------------------------------------

def merged_cell(source: str, values: Mapping[str, Any], set_by: str) -> str:
    """The ``parameters`` cell with ``values`` written in: each parameter once, with its comment;
    those given in ``values`` marked ``set by <set_by>`` with the notebook's default beside them."""
    from papermill.translators import PythonTranslator

    if not values:
        return source
    tree = ast.parse(source)
    lines = source.splitlines()
    comments = _comments(source)
    for node in reversed(tree.body):  # bottom up: earlier line numbers stay valid
        target = node.targets[0] if isinstance(node, ast.Assign) else getattr(node, "target", None)
        if not isinstance(target, ast.Name) or target.id not in values or node.value is None:
            continue
        first, last = node.value.lineno - 1, node.value.end_lineno - 1
        head = lines[first][:node.value.col_offset]
        tail = lines[last][node.value.end_col_offset:]
        default = ast.get_source_segment(source, node.value)
        mark = f"set by {set_by} (default: {' '.join(default.split())})"
        written = head + PythonTranslator.translate(values[target.id]) + tail
        if any(n in comments for n in range(node.lineno, node.end_lineno + 1)):
            lines[first:last + 1] = [f"# ↳ {mark}", written]  # keep its own end-of-line comment
        else:
            lines[first:last + 1] = [f"{written}  # ↳ {mark}"]
    header = [f"# The parameters in force on this page. Marked ↳: set by {set_by};",
              "# the others keep the notebook's default."]
    return "\n".join([*header, *lines])
