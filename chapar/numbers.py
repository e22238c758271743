"""Iranian mobile numbers: one canonical form, the operator, and a vectorised twin for Polars.

The canonical form is the integer ``989XXXXXXXXX`` (12 digits, stored as BIGINT); it is
written out by :func:`format_number`. Every usual way of writing a number is accepted:
``09121234567``, ``+989121234567``, ``00989121234567``, ``989121234567``, ``9121234567``,
``+98 912 123 4567``, with Persian (۰-۹) or Arabic-Indic (٠-٩) digits, and with spaces,
dashes, dots, parentheses and the invisible marks that copying from Persian documents adds
(ZWNJ, LRM/RLM, BOM...) anywhere. A ``+`` is allowed only first and only before ``98``.
Anything else is invalid: letters, too few or too many digits, another country, landlines
(``021...``), the empty string.

Decisions a user should know:

* **Unknown prefixes are invalid.** A number is valid only if it normalises to ``989`` + 9
  digits *and* its prefix (the three digits after ``98``: ``0912`` -> ``912``) is in
  :data:`PREFIXES`. Nothing is ever sent to an unallocated range. When the regulator
  allocates a new prefix, :data:`PREFIXES` is the one place to add it; the scalar and the
  vectorised functions both read it.
* ``0941`` is Irancell, although the ``phonenumbers`` library (9.0.43) does not class it as
  mobile; ``phonenumbers`` also rejects parts of ``0995``, ``0998`` and ``0999``, which are
  in use. That is why this module does not rely on it.
* Not accepted, because guessing would hide a broken column: ``+98 0912...`` (a national
  ``0`` after the country code), digits of other scripts (full-width, Devanagari), and a
  spreadsheet's float text such as ``9121234567.0`` (import such columns as text).
* An ``int`` is read as its digits (``9121234567`` -> ``989121234567``), for numeric
  spreadsheet columns.
* The scalar :func:`normalize` and the vectorised :func:`normalize_expr` implement the same
  rule (the tests check they agree on arbitrary strings); use the vectorised one for files.
"""

from __future__ import annotations

import re
from typing import Final

import polars as pl

#: Operator of each prefix (the three digits after 98), as the networks use them in 2025.
#: The one place to add a prefix: validation and operators both follow this table.
PREFIXES: Final[dict[int, str]] = {
    # MCI, Hamrah-e Aval (همراه اول)
    **dict.fromkeys(range(910, 920), "MCI"),
    **dict.fromkeys(range(990, 997), "MCI"),
    # Irancell (ایرانسل); 941 is its TD-LTE/data range
    **dict.fromkeys((900, 901, 902, 903, 904, 905, 930, 933), "Irancell"),
    **dict.fromkeys((935, 936, 937, 938, 939, 941), "Irancell"),
    # Rightel (رایتل)
    **dict.fromkeys((920, 921, 922, 923), "Rightel"),
    # Smaller networks and MVNOs
    931: "MTCE",  # Espadan, Isfahan (اسپادان)
    932: "Taliya",  # تالیا
    934: "KishTCI",  # TCI Kish (کیش)
    998: "Shatel",  # Shatel Mobile (شاتل موبایل)
    999: "Samantel/ApTel",  # 0999 MVNOs: ApTel, Samantel... (سامانتل / آپتل)
}

#: Persian names of the operators, for the dashboard.
OPERATOR_NAMES_FA: Final[dict[str, str]] = {
    "MCI": "همراه اول",
    "Irancell": "ایرانسل",
    "Rightel": "رایتل",
    "MTCE": "اسپادان",
    "Taliya": "تالیا",
    "KishTCI": "کیش",
    "Shatel": "شاتل موبایل",
    "Samantel/ApTel": "سامانتل / آپتل",
}

_COUNTRY: Final = 980_000_000_000  # 98 followed by the 10-digit national number
_PREFIX_DIVISOR: Final = 10_000_000  # 989121234567 // 10**7 % 1000 == 912

#: Persian (U+06F0..) and Arabic-Indic (U+0660..) digits and their ASCII digit.
_DIGITS: Final[dict[str, str]] = {
    **{chr(0x06F0 + d): str(d) for d in range(10)},
    **{chr(0x0660 + d): str(d) for d in range(10)},
}

#: Characters that may decorate a number and are dropped: whitespace (explicitly listed, as
#: Python's and Rust's ``\s`` differ), invisible format marks, dashes, dots, parentheses.
_DECORATIONS: Final[str] = "".join(
    [
        " \t\n\r\v\f\u0085\u00a0\u1680",
        *map(chr, range(0x2000, 0x200B)),  # en quad .. hair space
        "\u2028\u2029\u202f\u205f\u3000",
        "\u200b\u200c\u200d\u200e\u200f",  # zero width space/non-joiner/joiner, LRM, RLM
        *map(chr, range(0x202A, 0x202F)),  # bidi embeddings and overrides
        *map(chr, range(0x2066, 0x206A)),  # bidi isolates
        "\ufeff",  # BOM
        "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d",  # dashes, minus
        ".()",
    ]
)


def _prefix_alternation(prefixes: list[int]) -> str:
    """``(?:900|901|...)`` for the known prefixes, so one regex checks shape and range."""
    return "(?:" + "|".join(str(p) for p in sorted(prefixes)) + ")"


#: What remains after translation and stripping: an optional international or trunk
#: prefix, then the 10-digit national number, starting with a known prefix. `[0-9]`, not
#: `\d`, because `\d` is Unicode-wide in both Python and Rust. Built from PREFIXES.
_SHAPE: Final = r"(?:\+98|0098|98|0)?(" + _prefix_alternation(list(PREFIXES)) + r"[0-9]{7})"

#: One pass: non-Latin digits to ASCII, decorations to nothing.
_TRANSLATE: Final = str.maketrans({**_DIGITS, **dict.fromkeys(_DECORATIONS)})
_SHAPE_RE: Final = re.compile(_SHAPE)
_REPLACE_FROM: Final = [*_DIGITS, *_DECORATIONS]
_REPLACE_TO: Final = [*_DIGITS.values(), *([""] * len(_DECORATIONS))]


_DIGITS_ONLY: Final = str.maketrans(_DIGITS)


def to_ascii_digits(text: str) -> str:
    """Persian and Arabic-Indic digits as ASCII ones; everything else unchanged."""
    return text.translate(_DIGITS_ONLY)


def normalize(raw: str | int | None) -> int | None:
    """The canonical integer ``989XXXXXXXXX`` of ``raw``, or None if it is not a valid
    Iranian mobile number in an allocated prefix."""
    if raw is None:
        return None
    match = _SHAPE_RE.fullmatch(str(raw).translate(_TRANSLATE))
    if match is None:
        return None
    return _COUNTRY + int(match.group(1))


def is_valid(raw: str | int | None) -> bool:
    """Whether ``raw`` is a valid Iranian mobile number (see :func:`normalize`)."""
    return normalize(raw) is not None


def operator_of(number: int) -> str | None:
    """The operator of a canonical number (e.g. ``"MCI"``), None if its prefix is unknown."""
    return PREFIXES.get(number // _PREFIX_DIVISOR % 1000)


def format_number(number: int) -> str:
    """The canonical number as text, ``'989121234567'`` (what providers expect)."""
    return str(number)


#: The allocated prefixes, for ``is_in`` (the same table as :data:`PREFIXES`).
_KNOWN: Final = pl.Series(sorted(PREFIXES), dtype=pl.Int64).implode()
_TEXT, _VALUE, _LENGTH, _PLUS, _CANONICAL = (f"__chapar_number_{n}" for n in range(5))


def with_number(frame: pl.LazyFrame, column: str, name: str = "number") -> pl.LazyFrame:
    """``frame`` with ``name``: vectorised :func:`normalize` of ``column`` (Int64, null
    where invalid).

    One Aho-Corasick pass translates digits and drops decorations; what is left is then read
    as an integer, and its length and value decide the form, with no regular expression
    (half the CPU of one anchored ``extract``: bench/README.md, import, turn 5). Reading
    as an integer takes only ASCII digits after an optional sign, so a text of 10 to 14
    characters whose value is ``9XXXXXXXXX`` (10 or 11 characters: no lead, or ``0``) or
    ``989XXXXXXXXX`` (12, 13 or 14: ``98``, ``+98``, ``0098``) is exactly one of the five
    forms of :data:`_SHAPE`, given that a ``+`` leads exactly the 13-character one. Then
    the prefix must be allocated."""
    value, length, plus = pl.col(_VALUE), pl.col(_LENGTH), pl.col(_PLUS)
    national = (length <= 11) & value.is_between(9 * 10**9, 10**10, closed="left")
    international = (
        (length >= 12)
        & (length <= 14)
        & value.is_between(_COUNTRY + 9 * 10**9, _COUNTRY + 10**10, closed="left")
    )
    shaped = (national | international) & (plus == (length == 13))
    canonical = pl.col(_CANONICAL)
    text = pl.col(column).cast(pl.String).str.replace_many(_REPLACE_FROM, _REPLACE_TO)
    return (
        frame.with_columns(text.alias(_TEXT))
        .with_columns(
            pl.col(_TEXT).cast(pl.Int64, strict=False).alias(_VALUE),
            pl.col(_TEXT).str.len_bytes().alias(_LENGTH),
            pl.col(_TEXT).str.starts_with("+").alias(_PLUS),
        )
        # each step reads the columns the one before wrote: an expression repeated inside
        # one step would be evaluated again for every use
        .with_columns(pl.when(shaped).then(value % 10**10 + _COUNTRY).alias(_CANONICAL))
        .with_columns(pl.when(_prefix(canonical).is_in(_KNOWN)).then(canonical).alias(name))
        .drop(_TEXT, _VALUE, _LENGTH, _PLUS, _CANONICAL)
    )


def normalize_expr(col: pl.Expr) -> pl.Expr:
    """Vectorised :func:`normalize`: Int64, null where invalid (:func:`with_number`, per
    batch of values). No Python per row, millions a second."""

    def numbers(values: pl.Series) -> pl.Series:
        frame = values.rename("raw").to_frame().lazy()
        return with_number(frame, "raw").collect().get_column("number").rename(values.name)

    return col.map_batches(numbers, return_dtype=pl.Int64, is_elementwise=True)


#: The operators as a Polars Enum: what an import stores its rows' operators as (DuckDB
#: copies a dictionary-encoded column ≈0.2 s faster a million rows than plain strings).
OPERATORS: Final = pl.Enum(sorted(set(PREFIXES.values())))


def operator_expr(number: pl.Expr, dtype: pl.DataType | type[pl.String] = pl.String) -> pl.Expr:
    """Vectorised :func:`operator_of` over canonical numbers: String (or ``dtype``, e.g.
    :data:`OPERATORS`), null if unknown."""
    return _prefix(number).replace_strict(PREFIXES, default=None, return_dtype=dtype)


def normalize_frame(df: pl.DataFrame, column: str) -> pl.DataFrame:
    """``df`` with ``number`` (Int64, null if invalid), ``operator`` (String, null if
    invalid) and ``is_valid`` (Boolean) computed from the raw numbers in ``column``."""
    return (
        with_number(df.lazy(), column)
        .with_columns(
            operator_expr(pl.col("number")).alias("operator"),
            pl.col("number").is_not_null().alias("is_valid"),
        )
        .collect()
    )


def _prefix(number: pl.Expr) -> pl.Expr:
    return number // _PREFIX_DIVISOR % 1000
