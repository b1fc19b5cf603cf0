"""Plain SQL for the few statements every request runs, returning ordinary model instances.

Django compiles a queryset anew each time it runs. For the statements on every API request (the
bearer token's user) that compilation costs several times what the database spends on them
(BENCHMARKS.md), so they are written once here and read back into models with the same converters
the ORM applies. Everything else uses the ORM.
"""

from dataclasses import dataclass
from functools import lru_cache

from django.db import connections
from django.db.models import Model


@dataclass(frozen=True)
class ModelColumns:
    """The concrete columns of a model under a table alias, and how to turn a row of them back into an instance."""

    model: type[Model]
    alias: str
    attnames: tuple[str, ...]
    select: str  # "alias"."column", ... in attnames' order
    converters: tuple[tuple, ...]  # per column: (expression, [converter, ...])

    def instance(self, values, connection) -> Model:
        converted = []
        for value, (expression, converters) in zip(values, self.converters):
            for convert in converters:
                value = convert(value, expression, connection)
            converted.append(value)
        return self.model.from_db(connection.alias, self.attnames, converted)

    def __len__(self) -> int:
        return len(self.attnames)


@lru_cache(maxsize=64)
def _model_columns(model: type[Model], alias: str, connection_alias: str, vendor: str) -> ModelColumns:
    connection = connections[connection_alias]
    qn = connection.ops.quote_name
    fields = list(model._meta.concrete_fields)
    converters = []
    for field in fields:
        expression = field.get_col(alias)
        converters.append(
            (expression, connection.ops.get_db_converters(expression) + expression.get_db_converters(connection))
        )
    return ModelColumns(
        model=model,
        alias=alias,
        attnames=tuple(f.attname for f in fields),
        select=", ".join(f"{qn(alias)}.{qn(f.column)}" for f in fields),
        converters=tuple(converters),
    )


def model_columns(model: type[Model], alias: str, connection) -> ModelColumns:
    return _model_columns(model, alias, connection.alias, connection.vendor)


class CompiledQuery:
    """A queryset of whole model rows, compiled to SQL once and run again with other values in its placeholders' places.

    Build the queryset with placeholder values (values of the right type that appear nowhere else in
    it); `fetch(value, ...)` runs the same SQL with the given values where the placeholders were.
    Only plain model querysets (no select_related, annotations or values()) are accepted.
    """

    def __init__(self, queryset, placeholders: tuple):
        query = queryset.query
        if query.select_related or query.annotations or queryset._fields is not None or query.values_select:
            raise ValueError("CompiledQuery takes a plain queryset of whole model rows")
        self.model = queryset.model
        self.using = queryset.db
        connection = connections[self.using]
        self.sql, params = query.get_compiler(using=self.using).as_sql()
        self.params = list(params)
        self.slots: list[tuple[int, str]] = []  # (parameter index, "same" or "hex") per placeholder
        for placeholder in placeholders:
            found = [
                (i, "same") for i, p in enumerate(self.params) if p == placeholder and type(p) is type(placeholder)
            ]
            found += [
                (i, "hex") for i, p in enumerate(self.params) if hasattr(placeholder, "hex") and p == placeholder.hex
            ]
            if len(found) != 1:
                raise ValueError(f"placeholder {placeholder!r} is not exactly once in the query's parameters")
            self.slots.append(found[0])
        self.columns = model_columns(self.model, self.model._meta.db_table, connection)

    def fetch(self, *values) -> list:
        connection = connections[self.using]
        params = list(self.params)
        for (index, form), value in zip(self.slots, values, strict=True):
            params[index] = value.hex if form == "hex" else value
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        return [self.columns.instance(row, connection) for row in rows]
