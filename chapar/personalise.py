"""Personalised texts (issue 12): a message with variables (``{نام}``, ``{name|fallback}``,
:mod:`chapar.templates`) is rendered per recipient from the columns kept from its recipient
file — checked when a campaign is created or edited, priced exactly per recipient, and
rendered per message when its batch goes in flight (:func:`batch_texts`, the send engine's
``_freeze``), its text, pages and cost then frozen on the message row.

The values come from migration 003 (the recipient-file import helper): ``lists.columns``
names a list's attribute columns once, ``recipients.attrs`` holds each row's values in that
order. Until that migration is in the database, recipients have no columns: a message with
variables is refused at create and edit (``TEMPLATE_NO_COLUMNS``).

A planned message remembers its recipient row (``messages.list_id``, ``line_no``,
migration 005). A list replaced after planning no longer holds that row for that number: a
value is read only where the row still has the message's number, else it is missing (the
fallback, or nothing).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import polars as pl

from chapar import templates
from chapar.errors import InputError
from chapar.footer import footer_expr
from chapar.pages import count_pages_frame
from chapar.settings import Settings, get_settings
from chapar.templates import Template, Variable

LINE = "line_no"


def template_of(message: str) -> Template | None:
    """The parsed message when it has variables; None for a plain one (or one the parser
    refuses — create and edit refuse it first, so only an older campaign has one, and it
    is sent as it is)."""
    try:
        parsed = templates.parse(message)
    except InputError:
        return None
    return None if parsed.is_plain else parsed


def has_attributes(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the recipient-attributes migration (003) is in this database. (Asked by
    binding the column: ``duckdb_columns()`` lists every column of every catalog, ≈20 ms
    each time a personalised batch opens.)"""
    try:
        con.execute("SELECT attrs FROM recipients LIMIT 0")
    except duckdb.BinderException:
        return False
    return True


def list_columns(con: duckdb.DuckDBPyConnection, list_ids: Sequence[int]) -> dict[int, list[str]]:
    if not list_ids or not has_attributes(con):
        return {}
    rows = con.execute(
        "SELECT id, coalesce(columns, []) FROM lists WHERE id IN (SELECT unnest($ids))",
        {"ids": list(list_ids)},
    ).fetchall()
    return {int(i): list(cols) for i, cols in rows}


def values_frame(
    rows: pl.DataFrame, columns: dict[int, list[str]], names: Sequence[str]
) -> pl.DataFrame:
    """One column per name (a variable, or a column of any list) with each row's value:
    ``rows`` has ``list_id`` and ``attrs`` (the row's values in its list's column order)."""
    exprs = []
    for name in names:
        value: pl.Expr = pl.lit(None, dtype=pl.String)
        for list_id, cols in columns.items():
            index = templates.match_names([name], cols).get(name)
            if index is None:
                continue
            at = cols.index(index)
            value = (
                pl.when(pl.col("list_id") == list_id)
                .then(pl.col("attrs").list.get(at, null_on_oob=True))
                .otherwise(value)
            )
        exprs.append(value.alias(name))
    return rows.select(*exprs)


def _attrs_rows(
    con: duckdb.DuckDBPyConnection, query: str, params: dict[str, object]
) -> pl.DataFrame:
    if has_attributes(con):
        return con.execute(query.replace("$ATTRS", "r.attrs"), params).pl()
    frame = con.execute(query.replace("$ATTRS", "NULL::VARCHAR[]"), params).pl()
    return frame.with_columns(pl.col("attrs").cast(pl.List(pl.String)))


# --- create / edit ------------------------------------------------------------------------

_AUDIENCE_ROWS = """
SELECT r.line_no, r.list_id, $ATTRS AS attrs
FROM recipients r
WHERE r.list_id IN (SELECT unnest($ids)) AND r.number IS NOT NULL
ORDER BY r.list_id, r.line_no
"""


def check(con: duckdb.DuckDBPyConnection, message: str, list_ids: Sequence[int]) -> None:
    """Refuse a message whose variables name no column of the lists, or whose recipients
    lack a value for a variable without a fallback (the count and sample lines)."""
    template = template_of(message)
    if template is None:
        return
    columns = list_columns(con, list_ids)
    names = list(dict.fromkeys(c for cols in columns.values() for c in cols))
    rows = _attrs_rows(con, _AUDIENCE_ROWS, {"ids": list(list_ids)})
    frame = pl.concat([rows.select(LINE), values_frame(rows, columns, names)], how="horizontal")
    templates.check(template, frame, line_column=LINE)


# --- freezing a batch ---------------------------------------------------------------------

_BATCH_ROWS = """
SELECT m.seq, m.list_id, $ATTRS AS attrs
FROM messages m LEFT JOIN recipients r
  ON r.list_id = m.list_id AND r.line_no = m.line_no AND r.number = m.number
WHERE m.campaign_id = $campaign_id AND m.run_no = $run_no AND m.batch_no = $batch_no
  AND m.status = 'pending'
ORDER BY m.seq
"""


def _lenient(template: Template) -> Template:
    """Every variable given a fallback ('' where it had none): a row whose value went
    missing after the check (its list replaced) renders without it rather than not at all."""
    return Template(
        tuple(
            Variable(p.name, "" if p.fallback is None else p.fallback)
            if isinstance(p, Variable)
            else p
            for p in template.parts
        ),
        template.source,
    )


def render(template: Template, values: pl.DataFrame, footer: str | None) -> pl.Series:
    texts = values.select(templates.render_expr(_lenient(template))).to_series()
    return pl.select(footer_expr(pl.lit(texts), footer)).to_series().alias("text")


@dataclass(frozen=True)
class Frozen:
    """Each message's text, pages and cost (row for row with the batch's pending messages)."""

    frame: pl.DataFrame  # seq, text, pages, cost: what messages_freeze writes


def price_table(settings: Settings) -> pl.DataFrame:
    rows = [
        (encoding, operator, price)
        for encoding, by_op in settings.page_prices.items()
        for operator, price in by_op.items()
    ]
    return pl.DataFrame(
        rows, schema={"encoding": pl.String, "operator": pl.String, "price": pl.Int64}, orient="row"
    )


def costs_of(texts: pl.Series, operators: pl.Series, settings: Settings) -> pl.DataFrame:
    """Pages and cost of each text sent to a number of each operator."""
    counts = count_pages_frame(texts)
    table = price_table(settings)
    default = table.filter(pl.col("operator") == "default").select(
        "encoding", pl.col("price").alias("default_price")
    )
    frame = (
        counts.with_columns(operators.alias("operator"), pl.int_range(pl.len()).alias("row"))
        .join(table, on=["encoding", "operator"], how="left")
        .join(default, on="encoding", how="left")
        .sort("row")
    )
    return frame.select(
        pl.col("pages").cast(pl.Int64),
        (pl.col("pages") * pl.coalesce("price", "default_price")).cast(pl.Int64).alias("cost"),
        "encoding",
    )


def batch_texts(
    con: duckdb.DuckDBPyConnection,
    key: dict[str, object],
    template: Template,
    footer: str | None,
    pending: pl.DataFrame,
    settings: Settings | None = None,
) -> Frozen:
    """Render the batch's pending messages (``pending``: seq, operator, in seq order)."""
    settings = settings or get_settings()
    rows = _attrs_rows(con, _BATCH_ROWS, key)
    columns = list_columns(con, rows["list_id"].drop_nulls().unique().to_list())
    values = values_frame(rows, columns, template.variables)
    texts = render(template, values, footer)
    priced = costs_of(texts, pending["operator"], settings)
    frame = pl.DataFrame(
        {"seq": rows["seq"], "text": texts, "pages": priced["pages"], "cost": priced["cost"]}
    ).cast({"seq": pl.Int32, "pages": pl.Int16, "cost": pl.Int64})
    return Frozen(frame)


# --- the price preview --------------------------------------------------------------------


@dataclass(frozen=True)
class Preview:
    """A personalised message priced per recipient."""

    recipients: int
    cost: int
    pages: int  # pages in all
    min_pages: int
    max_pages: int
    samples: list[str]


def preview(
    con: duckdb.DuckDBPyConnection,
    template: Template,
    list_ids: Sequence[int],
    sender: str | None,
    footer: str | None,
    samples: int = 3,
    *,
    send_count: int | None = None,
    cap: tuple[int, int] | None = None,
) -> Preview:
    """Each recipient's text rendered and priced: the recipients planning would take now
    (the first ``send_count``; numbers at the line's frequency ``cap`` — messages, Tehran
    days — left out, as the audience's ``capped`` counts them)."""
    from chapar.sending.audience import reached

    rows = (
        reached(con, list_ids, sender, cap, send_count=send_count, with_attrs=True)
        .filter(pl.col("status") == "pending")
        .select("operator", "list_id", pl.col("attrs").cast(pl.List(pl.String)))
    )
    columns = list_columns(con, list_ids)
    texts = render(template, values_frame(rows, columns, template.variables), footer)
    priced = costs_of(texts, rows["operator"], get_settings())
    if rows.is_empty():
        return Preview(0, 0, 0, 0, 0, [])
    return Preview(
        recipients=rows.height,
        cost=int(priced["cost"].sum()),
        pages=int(priced["pages"].sum()),
        min_pages=int(priced["pages"].min()),  # type: ignore[arg-type]
        max_pages=int(priced["pages"].max()),  # type: ignore[arg-type]
        samples=texts.head(samples).to_list(),
    )
