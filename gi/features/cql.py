"""CQL2 filters (OGC API - Features Part 3) on a collection's queryables, as parameterized SQL.

Supported: comparisons (``= <> < <= > >=``), ``AND``/``OR``/``NOT``, ``LIKE``, ``IN``, ``BETWEEN``, ``IS NULL``
(Basic CQL2), and ``S_INTERSECTS(geometry, <geometry or BBOX>)``; as CQL2 text or CQL2 JSON. Every literal is a
bound parameter; an attribute that is not a queryable is refused, naming it.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from itertools import count
from typing import Any

from pygeofilter import ast, values

from gi.errors import InputError
from gi.features.catalog import Collection

LANGUAGES = ("cql2-text", "cql2-json")
_COMPARISONS = {
    ast.Equal: "=",
    ast.NotEqual: "<>",
    ast.LessThan: "<",
    ast.LessEqual: "<=",
    ast.GreaterThan: ">",
    ast.GreaterEqual: ">=",
}


def parse_filter(text: str, language: str = "cql2-text") -> ast.Node:
    """The syntax tree of a filter, or InputError naming ``filter``."""
    if language not in LANGUAGES:
        raise InputError("filter-lang", f"{language!r} is not one of {', '.join(LANGUAGES)}")
    try:
        if language == "cql2-json":
            from pygeofilter.parsers.cql2_json import parse as parse_json

            return parse_json(json.loads(text))
        from pygeofilter.parsers.cql2_text import parse as parse_text

        return parse_text(text)
    except InputError:
        raise
    except Exception as exc:  # the parsers raise their own exception types (lark, ValueError, KeyError)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError("filter", f"not valid {language}: {first[:200]}") from None


class _Compiler:
    def __init__(self, collection: Collection) -> None:
        self.collection = collection
        self.params: dict[str, object] = {}
        self._n = count()

    def bind(self, value: object) -> str:
        name = f"f{next(self._n)}"
        self.params[name] = value
        return f":{name}"

    def attribute(self, node: object) -> str:
        if not isinstance(node, ast.Attribute):
            raise InputError("filter", "a comparison needs a property on its left side")
        queryable = self.collection.queryables.get(node.name)
        if queryable is None:
            raise InputError(
                "filter",
                f"{node.name!r} is not a queryable of {self.collection.id}: {', '.join(self.collection.queryables)}",
            )
        return queryable.sql

    def literal(self, node: object) -> object:
        if isinstance(node, bool | int | float | str | date | datetime):
            return node
        if isinstance(node, values.Timestamp | values.Date):  # pragma: no cover - depends on parser version
            return node.value
        raise InputError("filter", f"{node!r} is not a literal this service compares")

    def compile(self, node: ast.Node) -> str:
        if isinstance(node, ast.And):
            return f"({self.compile(node.lhs)} AND {self.compile(node.rhs)})"
        if isinstance(node, ast.Or):
            return f"({self.compile(node.lhs)} OR {self.compile(node.rhs)})"
        if isinstance(node, ast.Not):
            return f"(NOT {self.compile(node.sub_node)})"
        for kind, operator in _COMPARISONS.items():
            if isinstance(node, kind):
                return f"({self.attribute(node.lhs)} {operator} {self.bind(self.literal(node.rhs))})"
        if isinstance(node, ast.Like):
            pattern = str(node.pattern)
            if node.singlechar != "_":
                pattern = pattern.replace("_", "\\_").replace(node.singlechar, "_")
            op = "ILIKE" if node.nocase else "LIKE"
            negation = "NOT " if node.not_ else ""
            return f"({self.attribute(node.lhs)}::text {negation}{op} {self.bind(pattern)})"
        if isinstance(node, ast.In):
            items = [self.literal(v) for v in node.sub_nodes]
            negation = "NOT " if node.not_ else ""
            return f"({self.attribute(node.lhs)} {negation}IN ({', '.join(self.bind(v) for v in items)}))"
        if isinstance(node, ast.Between):
            negation = "NOT " if node.not_ else ""
            low, high = self.bind(self.literal(node.low)), self.bind(self.literal(node.high))
            return f"({self.attribute(node.lhs)} {negation}BETWEEN {low} AND {high})"
        if isinstance(node, ast.IsNull):
            return f"({self.attribute(node.lhs)} IS {'NOT ' if node.not_ else ''}NULL)"
        if isinstance(node, ast.GeometryIntersects):
            return self.intersects(node)
        raise InputError(
            "filter", f"{type(node).__name__} is not supported (Basic CQL2 and S_INTERSECTS are)"
        )

    def intersects(self, node: ast.GeometryIntersects) -> str:
        lhs, rhs = node.lhs, node.rhs
        if isinstance(rhs, ast.Attribute):
            lhs, rhs = rhs, lhs
        if not isinstance(lhs, ast.Attribute) or lhs.name not in ("geometry", "geom"):
            raise InputError("filter", "S_INTERSECTS compares the feature's geometry with a literal geometry")
        geom = self.collection.geom_sql
        if isinstance(rhs, ast.Function) and rhs.name.lower() == "bbox" and len(rhs.arguments) in (4, 6):
            numbers = [float(v) for v in rhs.arguments]
            if len(numbers) == 6:
                numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
            box = f"ST_MakeEnvelope({', '.join(self.bind(v) for v in numbers)}, 4326)"
            return f"({geom} && {box} AND ST_Intersects({geom}, {box}))"
        if isinstance(rhs, values.Envelope):
            box = f"ST_MakeEnvelope({', '.join(self.bind(float(v)) for v in (rhs.x1, rhs.y1, rhs.x2, rhs.y2))}, 4326)"
            return f"({geom} && {box} AND ST_Intersects({geom}, {box}))"
        if isinstance(rhs, values.Geometry):
            shape = f"ST_SetSRID(ST_GeomFromGeoJSON({self.bind(json.dumps(rhs.geometry))}), 4326)"
            return f"ST_Intersects({geom}, {shape})"
        raise InputError("filter", "S_INTERSECTS needs a geometry (WKT or GeoJSON) or BBOX(...)")


def filter_sql(collection: Collection, text: str, language: str = "cql2-text") -> tuple[str, dict[str, Any]]:
    """A SQL condition and its parameters for a CQL2 filter on ``collection``'s queryables."""
    compiler = _Compiler(collection)
    return compiler.compile(parse_filter(text, language)), compiler.params
