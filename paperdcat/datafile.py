"""YAML data files shipped with the package, read into typed values with one-line errors.

The dataset catalogue, the corpus generator's phrase lists and the DCAT vocabularies are data, kept in YAML
files beside the modules that use them. ``DataFile`` reads one and converts its values to the types the code
expects (strings, integers, tuples, dicts, frozen dataclasses); anything else stops with one line that names
the file and the record or field, e.g. ``paperdcat/corpus/data/catalogue.yaml: record 32 (ImageNet): year:
expected an integer, got str '2009'``.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Hashable
from functools import cache
from pathlib import Path
from types import FunctionType
from typing import Any

import yaml

from paperdcat.errors import PaperdcatError

_PACKAGE_PARENT = Path(__file__).resolve().parent.parent


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The safe loader (libyaml's when present) that refuses a key given twice in one mapping."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, Hashable) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep)


class DataFile:
    """One YAML file of the package: its parsed content (``data``) and conversions that name it on error."""

    def __init__(self, path: Path) -> None:
        resolved = path.resolve()
        self.name = str(
            resolved.relative_to(_PACKAGE_PARENT) if resolved.is_relative_to(_PACKAGE_PARENT) else path
        )
        try:
            self.data: Any = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
        except OSError as error:
            raise PaperdcatError(f"{self.name}: cannot read it ({error.strerror})") from None
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            line = f"line {mark.line + 1}: " if mark is not None else ""
            problem = getattr(error, "problem", None) or str(error).splitlines()[0]
            raise PaperdcatError(f"{self.name}: {line}{problem}") from None
        self._taken: set[str] = set()

    def error(self, where: str, what: str) -> PaperdcatError:
        """The one-line error ``<file>: <where>: <what>``."""
        return PaperdcatError(f"{self.name}: {where}: {what}" if where else f"{self.name}: {what}")

    def take(self, key: str, form: Any = tuple[str, ...]) -> Any:
        """Top-level ``key`` of the file (a mapping) as ``form``; see ``refuse_untaken``."""
        data = self.mapping(self.data, "")
        if key not in data:
            raise self.error(key, "missing")
        self._taken.add(key)
        return self.convert(data[key], form, key)

    def refuse_untaken(self) -> None:
        """Stop at a top-level key that no ``take`` asked for (misspelt or no longer used)."""
        unknown = [str(key) for key in self.mapping(self.data, "") if key not in self._taken]
        if unknown:
            raise self.error("", f"unknown field(s) {', '.join(unknown)}")

    def convert(self, value: Any, form: Any, where: str) -> Any:
        """``value`` as ``form``: ``str``, ``int``, ``tuple[X, ...]``, ``tuple[X, Y]``, ``dict[str, X]``, a
        dataclass (a mapping with exactly its fields), or a function ``(file, value, where) -> value`` for
        another shape. YAML lists become tuples."""
        origin, args = typing.get_origin(form), typing.get_args(form)
        if form is str or form is int:
            # bool is an int subclass, and YAML reads an unquoted no/yes/on/off as one
            if isinstance(value, form) and not isinstance(value, bool):
                return value
            raise self._wrong(value, "a string" if form is str else "an integer", where)
        if origin is tuple:
            items = self.sequence(value, where)
            if len(args) == 2 and args[1] is Ellipsis:
                return tuple(self.convert(item, args[0], f"{where}[{i}]") for i, item in enumerate(items))
            if len(items) != len(args):
                raise self.error(where, f"expected {len(args)} items, got {len(items)}")
            return tuple(
                self.convert(item, arg, f"{where}[{i}]")
                for i, (item, arg) in enumerate(zip(items, args, strict=True))
            )
        if origin is dict:
            return {
                self.convert(key, args[0], where): self.convert(item, args[1], _child(where, key))
                for key, item in self.mapping(value, where).items()
            }
        if dataclasses.is_dataclass(form) and isinstance(form, type):
            return form(**self.fields(value, _field_forms(form), where))
        if isinstance(form, FunctionType):
            return form(self, value, where)
        raise TypeError(f"unsupported form {form!r}")

    def fields(self, value: Any, forms: dict[str, Any], where: str = "") -> dict[str, Any]:
        """A mapping with exactly the keys of ``forms``, each converted to its form, in ``forms`` order."""
        given = self.mapping(value, where)
        unknown = [str(key) for key in given if key not in forms]
        missing = [key for key in forms if key not in given]
        if unknown or missing:
            problems = [f"unknown field(s) {', '.join(unknown)}"] if unknown else []
            problems += [f"missing field(s) {', '.join(missing)}"] if missing else []
            raise self.error(where, "; ".join(problems) + f" (the fields are {', '.join(forms)})")
        return {key: self.convert(given[key], form, _child(where, key)) for key, form in forms.items()}

    def sequence(self, value: Any, where: str) -> list[Any]:
        if not isinstance(value, list):
            raise self._wrong(value, "a list", where)
        return value

    def mapping(self, value: Any, where: str) -> dict[Any, Any]:
        if not isinstance(value, dict):
            raise self._wrong(value, "a mapping", where)
        return value

    def _wrong(self, value: Any, expected: str, where: str) -> PaperdcatError:
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
        got = "nothing" if value is None else f"{type(value).__name__} {shown}"
        if expected == "a string" and isinstance(value, bool | int | float):
            got += " (quote it: YAML reads unquoted numbers and yes/no/on/off as such)"
        return self.error(where, f"expected {expected}, got {got}")


def _child(where: str, key: object) -> str:
    return f"{where}: {key}" if where else str(key)


@cache
def _field_forms(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}
