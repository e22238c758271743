"""Message variables: one text, a different message per recipient (issue 12, DESIGN §7).

Syntax (``docs/personalisation.md`` says the same for users):

* ``{column}`` is the recipient's value in that column of the recipient file. A name is
  anything between the braces except ``{``, ``}``, ``|`` and a line break, so Persian names
  and names with spaces work: ``{نام}``, ``{نام خانوادگی}``, ``{first name}``. Spaces around
  the name are ignored.
* ``{column|fallback}`` uses ``fallback`` where the recipient has no value. Spaces around
  the fallback are ignored too; ``{column|}`` prints nothing where the value is missing. The
  first ``|`` separates, so a fallback may itself hold ``|``.
* ``{{`` and ``}}`` are a literal ``{`` and ``}`` (anywhere outside a variable; a variable
  holds no braces at all).
* A name matches a column exactly, or else after folding what Persian keyboards and files
  disagree on: Arabic ``ي ك ى`` read as Persian ``ی ک ی``, tatweel dropped, a ZWNJ or a run
  of spaces read as one space, and Latin case ignored — ``{نام‌خانوادگی}`` finds a column
  ``نام خانوادگی``, ``{Name}`` finds ``name``. Two columns that fold alike match only
  exactly.
* A value is missing when it is null, empty or only spaces; values are used with spaces
  (and stray ZWNJ/direction marks) at either end removed.

Refused (``InputError(where="message")``, a ``TEMPLATE_*`` code): an unclosed ``{``, a ``}``
that closes nothing, a ``{`` inside a variable, an empty name; a name no column matches; and,
in :func:`check`, recipients without a value for a variable that has no fallback (the count
and up to five sample lines).

Rendering has two forms that give the same text: :func:`render_expr` / :func:`render_frame`
for a whole audience (Polars ``concat_str``; 1–3M rows/s on this shared machine), and
:func:`render_one` for a preview or a test send.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

import polars as pl

from chapar.errors import InputError
from chapar.reasons import Code

WHERE: Final = "message"
#: How many sample lines a refusal names.
SAMPLES: Final = 5
#: Stripped from both ends of a value (Python and Polars strip the same set this way):
#: whitespace, no-break spaces, BOM, zero-width and direction marks that files carry.
VALUE_EDGES: Final = (
    " \t\r\n\f\v\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff\u200b\u200c\u200d\u200e\u200f"
)


@dataclass(frozen=True)
class Variable:
    """One ``{name}`` or ``{name|fallback}``; ``fallback`` None means the value is required."""

    name: str
    fallback: str | None = None


@dataclass(frozen=True)
class Template:
    """A parsed message: literal parts (braces already unescaped) and variables, in order."""

    parts: tuple[str | Variable, ...]
    source: str = field(default="", compare=False)

    @property
    def variables(self) -> tuple[str, ...]:
        """The distinct variable names, in order of first use."""
        return tuple(dict.fromkeys(p.name for p in self.parts if isinstance(p, Variable)))

    @property
    def required(self) -> tuple[str, ...]:
        """Names used at least once without a fallback: each recipient needs a value."""
        return tuple(
            dict.fromkeys(
                p.name for p in self.parts if isinstance(p, Variable) and p.fallback is None
            )
        )

    @property
    def is_plain(self) -> bool:
        """No variables: every recipient gets the same text, :attr:`text`."""
        return not any(isinstance(p, Variable) for p in self.parts)

    @property
    def text(self) -> str:
        """The text of a plain template (braces unescaped). A template with variables has
        no single text: render it."""
        if not self.is_plain:
            raise ValueError("a template with variables has no single text; render it")
        return "".join(p for p in self.parts if isinstance(p, str))

    def renamed(self, names: Mapping[str, str]) -> Template:
        """The same template with variables renamed (to the columns they resolved to)."""
        parts = tuple(
            Variable(names.get(p.name, p.name), p.fallback) if isinstance(p, Variable) else p
            for p in self.parts
        )
        return Template(parts, self.source)


# --- parsing --------------------------------------------------------------------------------


def parse(template: str) -> Template:
    """The template's parts, or an InputError naming the character (1-based) at fault."""
    parts: list[str | Variable] = []
    literal: list[str] = []
    i, n = 0, len(template)
    while i < n:
        char = template[i]
        if char == "{" and template.startswith("{{", i):
            literal.append("{")
            i += 2
        elif char == "}" and template.startswith("}}", i):
            literal.append("}")
            i += 2
        elif char == "}":
            raise InputError(Code.TEMPLATE_STRAY_BRACE, where=WHERE, position=i + 1)
        elif char == "{":
            end = _closing_brace(template, i)
            name, bar, fallback = template[i + 1 : end].partition("|")
            name = name.strip()
            if not name:
                raise InputError(Code.TEMPLATE_EMPTY_NAME, where=WHERE, position=i + 1)
            if literal:
                parts.append("".join(literal))
                literal = []
            parts.append(Variable(name, fallback.strip() if bar else None))
            i = end + 1
        else:
            literal.append(char)
            i += 1
    if literal:
        parts.append("".join(literal))
    return Template(tuple(parts), template)


def _closing_brace(template: str, start: int) -> int:
    """The index of the ``}`` closing the variable opened at ``start``. A line break or the
    end of the text before it means the brace was never closed; a ``{`` means nesting."""
    for j in range(start + 1, len(template)):
        char = template[j]
        if char == "}":
            return j
        if char == "{":
            raise InputError(Code.TEMPLATE_NESTED_BRACE, where=WHERE, position=start + 1)
        if char in "\r\n":
            break
    raise InputError(Code.TEMPLATE_UNCLOSED_BRACE, where=WHERE, position=start + 1)


# --- names and columns ----------------------------------------------------------------------

_FOLD: Final = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک", "\u0640": None, "\u200c": " "})
_SPACES: Final = re.compile(r"\s+")


def name_key(name: str) -> str:
    """What a variable name and a column name are compared by when they differ exactly."""
    folded = unicodedata.normalize("NFKC", name).translate(_FOLD)
    return _SPACES.sub(" ", folded).strip().casefold()


def match_names(names: Sequence[str], columns: Sequence[str]) -> dict[str, str | None]:
    """The column each name matches (exactly, else by :func:`name_key` when only one column
    folds alike), or None."""
    exact = set(columns)
    by_key: dict[str, list[str]] = {}
    for column in columns:
        by_key.setdefault(name_key(column), []).append(column)
    matched: dict[str, str | None] = {}
    for name in names:
        candidates = [name] if name in exact else by_key.get(name_key(name), [])
        matched[name] = candidates[0] if len(candidates) == 1 else None
    return matched


def resolve(template: Template, columns: Sequence[str]) -> Template:
    """The template with each variable renamed to the column it names (see the module's
    matching rule); an InputError listing the unknown names and the known columns."""
    matched = match_names(template.variables, columns)
    unknown = [name for name, column in matched.items() if column is None]
    if unknown:
        shown = ", ".join("{" + u + "}" for u in unknown)
        if not columns:
            raise InputError(Code.TEMPLATE_NO_COLUMNS, where=WHERE, names=shown)
        raise InputError(
            Code.TEMPLATE_UNKNOWN_VARIABLES, where=WHERE, names=shown, columns=", ".join(columns)
        )
    return template.renamed({name: column for name, column in matched.items() if column})


# --- checking an audience -------------------------------------------------------------------


@dataclass(frozen=True)
class Missing:
    """Recipients without a value for one variable: how many, and the first few lines."""

    count: int
    lines: tuple[int, ...] = ()


@dataclass(frozen=True)
class Checked:
    """A template that fits its audience: variables renamed to the columns, how many
    recipients there are, and per variable how many lack a value (those with a fallback
    get it; a variable without one is never missing here, or :func:`check` refused)."""

    template: Template
    recipients: int
    missing: Mapping[str, Missing]


def _value(column: str) -> pl.Expr:
    """A recipient's value for a variable: text, ends stripped, null when empty."""
    # replace() rather than when/then: the latter computed the strip twice (2x slower).
    return pl.col(column).cast(pl.String).str.strip_chars(VALUE_EDGES).replace("", None)


def missing_values(
    template: Template,
    attrs: pl.DataFrame | pl.LazyFrame,
    *,
    line_column: str | None = None,
    samples: int = SAMPLES,
) -> tuple[int, dict[str, Missing]]:
    """The number of recipients and, per variable, those without a value: one pass over
    ``attrs`` (one row a recipient, a column per variable, named as resolved).

    Sample lines come from ``line_column`` (the recipient's line in its file), or else are
    the rows' 1-based positions."""
    frame = attrs.lazy()
    if line_column is None:
        frame = frame.with_row_index("__row", offset=1)
        line_column = "__row"
    # The masks first, each computed once; then counts and samples from them.
    names = template.variables
    masks = frame.select(
        pl.col(line_column).cast(pl.Int64).alias("__line"),
        *(_value(name).is_null().alias(f"absent{i}") for i, name in enumerate(names)),
    )
    exprs: list[pl.Expr] = [pl.len().alias("__recipients")]
    for i in range(len(names)):
        absent = pl.col(f"absent{i}")
        exprs.append(absent.sum().alias(f"count{i}"))
        exprs.append(pl.col("__line").filter(absent).head(samples).implode().alias(f"lines{i}"))
    row = masks.collect().lazy().select(exprs).collect().row(0, named=True)
    missing = {
        name: Missing(int(row[f"count{i}"]), tuple(row[f"lines{i}"]))
        for i, name in enumerate(template.variables)
    }
    return int(row["__recipients"]), missing


def check(
    template: Template | str,
    attrs: pl.DataFrame | pl.LazyFrame,
    *,
    line_column: str | None = None,
) -> Checked:
    """Whether ``template`` can be rendered for every recipient of ``attrs``: its variables
    all name columns (refused otherwise, with the columns listed), and every variable without
    a fallback has a value for every recipient (refused otherwise, with the count and up to
    five sample lines, for the first such variable in the text).

    ``attrs`` holds one row a recipient and the columns kept from the recipient file (more
    columns than the template uses are fine; ``line_column``, when given, is not offered as
    a variable). Returns the template renamed to the columns and the missing counts."""
    parsed = parse(template) if isinstance(template, str) else template
    schema = attrs.collect_schema() if isinstance(attrs, pl.LazyFrame) else attrs.schema
    columns = [c for c in schema.names() if c != line_column]
    resolved = resolve(parsed, columns)
    if resolved.is_plain:
        return Checked(resolved, attrs.lazy().select(pl.len()).collect().item(), {})
    recipients, missing = missing_values(resolved, attrs, line_column=line_column)
    for name in resolved.required:
        if missing[name].count:
            raise InputError(
                Code.TEMPLATE_MISSING_VALUES,
                where=WHERE,
                name=name,
                count=missing[name].count,
                lines=list(missing[name].lines),
            )
    return Checked(resolved, recipients, missing)


# --- rendering ------------------------------------------------------------------------------


def render_expr(template: Template) -> pl.Expr:
    """The rendered text of each row, as a Polars expression over columns named as the
    template's variables (resolve or check it first). Null where a variable without a
    fallback has no value (:func:`check` refuses such an audience). A plain template is a
    literal: use it in ``with_columns``, or :func:`render_frame`, to get one per row."""
    if template.is_plain:
        return pl.lit(template.text, dtype=pl.String).alias("text")
    pieces: list[pl.Expr] = []
    for part in template.parts:
        if isinstance(part, str):
            pieces.append(pl.lit(part, dtype=pl.String))
        elif part.fallback is None:
            pieces.append(_value(part.name))
        else:
            pieces.append(_value(part.name).fill_null(pl.lit(part.fallback, dtype=pl.String)))
    return pl.concat_str(pieces, ignore_nulls=False).alias("text")


def render_frame(template: Template | str, attrs: pl.DataFrame) -> pl.Series:
    """Each recipient's text (a String Series named ``text``, one per row of ``attrs``).
    Variables are matched to ``attrs``' columns by :func:`resolve`; nothing is checked for
    missing values (null where one is missing without a fallback)."""
    parsed = parse(template) if isinstance(template, str) else template
    if parsed.is_plain:
        return pl.repeat(parsed.text, attrs.height, dtype=pl.String, eager=True).alias("text")
    resolved = resolve(parsed, attrs.columns)
    return attrs.select(render_expr(resolved)).to_series()


def render_one(template: Template | str, values: Mapping[str, str | None]) -> str:
    """One recipient's text: the live preview, a test send with given values. A variable
    with no value in ``values`` (absent, None or blank) takes its fallback; without one it
    is an InputError. Names match ``values``' keys as they match columns."""
    parsed = parse(template) if isinstance(template, str) else template
    if parsed.is_plain:
        return parsed.text
    matched = match_names(parsed.variables, list(values))
    out: list[str] = []
    for part in parsed.parts:
        if isinstance(part, str):
            out.append(part)
            continue
        key = matched[part.name]
        raw = values.get(key) if key is not None else None
        value = str(raw).strip(VALUE_EDGES) if raw is not None else ""
        if value:
            out.append(value)
        elif part.fallback is not None:
            out.append(part.fallback)
        else:
            raise InputError(Code.TEMPLATE_MISSING_VALUE, where=WHERE, name=part.name)
    return "".join(out)
