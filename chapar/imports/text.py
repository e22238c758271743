"""Delimited text (CSV, TSV, TXT): the encoding, the dialect, and the rows in bounded blocks.

Detection reads only the head of the file (:data:`SAMPLE_BYTES`), so it costs the same for
100 rows or 10 million:

* **Encoding**: a byte-order mark decides (UTF-8, UTF-16 LE/BE); otherwise pure ASCII, then
  valid UTF-8; otherwise ``charset-normalizer`` chooses among the single-byte code pages
  Iranian files come in (Windows-1256 first). If a file whose head was plain ASCII turns to
  another encoding further down, the reader detects again on that block and goes on.
* **Dialect**: ``clevercsv``'s sniffer, limited to ``,`` ``;`` tab and ``|`` (a space is never
  a delimiter: numbers are written with spaces), gives the delimiter and the quote character.

Rows are then parsed by Polars from blocks of about :data:`BLOCK_BYTES` cut at line ends
(re-encoded to UTF-8 when the file is not), so memory stays bounded whatever the file's
size, and a 10 MB line is one block like any other. A row's ``line_no`` is its line in an
editor (1-based), exact unless a quoted value spans lines (then it is exact again from the
next block).
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from chapar.errors import InputError
from chapar.imports.layout import MAX_COLUMNS
from chapar.reasons import Code

SAMPLE_BYTES = 64 * 1024
SAMPLE_LINES = 200
BLOCK_BYTES = 1 * 1024 * 1024
DELIMITERS = [",", ";", "\t", "|"]
#: Single-byte code pages tried when a file is neither ASCII nor UTF-8 (Windows-1256 is what
#: Persian Windows writes; the Western ones catch files from elsewhere).
CODE_PAGES = ["cp1256", "cp1252", "iso8859_6", "cp720", "cp864"]
_NO_DELIMITER = "\x1f"  # a separator no text holds: one column per line

_BOMS = [
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
]
ENCODING_NAMES = {
    "ascii": "ASCII",
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 (BOM)",
    "utf-16-le": "UTF-16 LE",
    "utf-16-be": "UTF-16 BE",
    "cp1256": "Windows-1256",
}


@dataclass(frozen=True)
class Dialect:
    encoding: str  # a Python codec name
    bom: int  # bytes of byte-order mark to skip
    delimiter: str | None  # None: one value a line
    quote: str | None


def _code_page(data: bytes) -> str | None:
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=CODE_PAGES).best()
    return best.encoding if best is not None else None


def detect_encoding(head: bytes, where: str) -> tuple[str, int]:
    """(codec, BOM length) of a file from its first bytes."""
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name, len(bom)
    if head.isascii():
        return "ascii", 0
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8", 0
    except UnicodeDecodeError:
        pass
    found = _code_page(head)
    if found is None:
        raise InputError(Code.IMPORT_ENCODING, where=where, encoding="UTF-8")
    return found, 0


def _plain_delimiter(lines: list[str]) -> str | None:
    """The delimiter when the sample leaves no doubt: no quote anywhere, and exactly one
    candidate found the same number of times on every non-blank line."""
    rows = [line for line in lines if line.strip()]
    if not rows or any('"' in line or "'" in line for line in rows):
        return None
    steady = [d for d in DELIMITERS if len({line.count(d) for line in rows}) == 1
              and rows[0].count(d) > 0]  # fmt: skip
    present = [d for d in DELIMITERS if any(d in line for line in rows)]
    return steady[0] if len(steady) == 1 and present == steady else None


def detect_delimiter(lines: list[str]) -> tuple[str | None, str | None]:
    """(delimiter, quote) of the sample lines; (None, None) for one value a line. A sample
    that leaves no doubt is decided here; any other goes to clevercsv (whose import alone
    costs ≈0.3 s, so it is paid only when it is needed)."""
    sample = "\n".join(lines)[:32_000]
    if not any(d in sample for d in DELIMITERS):
        return None, None
    if (plain := _plain_delimiter(lines)) is not None:
        return plain, '"'
    import clevercsv

    try:
        found = clevercsv.Sniffer().sniff(sample, delimiters=DELIMITERS)
    except Exception:  # clevercsv gives up on some samples: count instead
        found = None
    if found is not None and found.delimiter in DELIMITERS:
        return found.delimiter, found.quotechar or None
    # The delimiter present on the most lines.
    best = max(DELIMITERS, key=lambda d: sum(line.count(d) > 0 for line in lines))
    return best, '"'


def _decoded_head(path: Path, encoding: str, bom: int) -> tuple[str, bool]:
    """The sample as text, and whether it is the whole file."""
    with path.open("rb") as f:
        raw = f.read(SAMPLE_BYTES + 4)
        whole = len(raw) <= SAMPLE_BYTES
        raw = raw[bom : SAMPLE_BYTES if not whole else None]
    codec = "utf-8" if encoding == "ascii" else encoding
    return codecs.getincrementaldecoder(codec)(errors="replace").decode(raw, final=whole), whole


def _count_values(path: Path, delimiter: str, bom: int) -> int:
    """How many values the first line holds (it is longer than the sample)."""
    count, sep = 1, delimiter.encode()
    with path.open("rb") as f:
        f.seek(bom)
        while chunk := f.read(1 << 20):
            end = chunk.find(b"\n")
            count += chunk[: end if end >= 0 else None].count(sep)
            if end >= 0:
                break
    return count


def sniff(path: Path, where: str) -> tuple[Dialect, list[list[str | None]]]:
    """The file's dialect and its first rows (for :func:`~chapar.imports.layout.find_layout`)."""
    with path.open("rb") as f:
        head = f.read(SAMPLE_BYTES)
    encoding, bom = detect_encoding(head, where)
    text, whole = _decoded_head(path, encoding, bom)
    lines = text.splitlines()
    if not whole and len(lines) > 1:
        lines = lines[:-1]  # cut mid-line
    lines = lines[:SAMPLE_LINES]
    delimiter, quote = detect_delimiter(lines)
    if delimiter is not None:
        rows = list(csv.reader(lines, delimiter=delimiter, quotechar=quote or '"',
                               quoting=csv.QUOTE_MINIMAL if quote else csv.QUOTE_NONE))  # fmt: skip
    else:
        rows = [[line] for line in lines]
    widest = max(range(len(rows)), key=lambda i: len(rows[i]), default=None)
    if widest is not None and len(rows[widest]) > MAX_COLUMNS:
        assert delimiter is not None
        values = len(rows[widest])
        if widest == 0 and not whole and len(text.splitlines()) <= 1:
            values = _count_values(path, delimiter, bom)
        raise InputError(
            Code.IMPORT_WIDE_LINE, where=where, line=widest + 1, values=values,
            delimiter=delimiter,
        )  # fmt: skip
    cells: list[list[str | None]] = [[c if c != "" else None for c in row] for row in rows]
    return Dialect(encoding, bom, delimiter, quote), cells


# --- streaming ---------------------------------------------------------------------------------


def _cut(buffer: bytes, quote: bytes | None, block_bytes: int) -> int:
    """The end of the last complete line outside quotes, 0 if none. A buffer that has
    grown past four blocks is cut at its last line end whatever the quotes (an unbalanced
    quote must not pull the whole file into memory)."""
    end = buffer.rfind(b"\n")
    if quote is None or len(buffer) > 4 * block_bytes:
        return end + 1
    odd = buffer.count(quote, 0, end) % 2  # quotes before this line end
    while end >= 0 and odd:  # walk back a line at a time, counting only what is passed
        previous = buffer.rfind(b"\n", 0, end)
        odd ^= buffer.count(quote, previous + 1, end) % 2
        end = previous
    return end + 1


def _blocks(path: Path, dialect: Dialect, where: str, block_bytes: int) -> Iterator[bytes]:
    """The file as UTF-8 in blocks of whole lines. UTF-8 and ASCII pass through after a
    check; other encodings are re-encoded. A head of plain ASCII followed by another
    encoding switches to the code page detected where the ASCII ends."""
    quote = dialect.quote.encode() if dialect.quote else None
    passthrough = dialect.encoding in {"ascii", "utf-8"}
    decoder = None if passthrough else codecs.getincrementaldecoder(dialect.encoding)()
    all_ascii = dialect.encoding == "ascii"
    pending = b""  # UTF-8 of a line not yet complete
    carry = b""  # raw bytes not yet checked (passthrough: up to the last line end)
    with path.open("rb") as f:
        f.seek(dialect.bom)
        while True:
            raw = f.read(block_bytes)
            final = not raw
            if decoder is not None:
                data = decoder.decode(carry + raw, final=final).encode("utf-8")
                carry = b""
            else:
                raw = carry + raw
                end = len(raw) if final else raw.rfind(b"\n") + 1  # never inside a character
                data, carry = raw[:end], raw[end:]
                if not data.isascii():
                    try:
                        data.decode("utf-8")
                        all_ascii = False
                    except UnicodeDecodeError as exc:
                        found = _code_page(data[exc.start : exc.start + SAMPLE_BYTES])
                        if not all_ascii or found is None:
                            raise InputError(
                                Code.IMPORT_ENCODING, where=where, encoding="UTF-8"
                            ) from None
                        decoder = codecs.getincrementaldecoder(found)()
                        data = decoder.decode(data + carry, final=final).encode("utf-8")
                        carry = b""
            buffer = pending + data
            if final:
                if buffer:
                    yield buffer
                return
            cut = _cut(buffer, quote, block_bytes)
            pending = buffer[cut:]
            if cut:
                yield buffer[:cut]


def read_rows(
    path: Path, dialect: Dialect, width: int, skip_lines: int, where: str,
    block_bytes: int | None = None,
) -> Iterator[pl.DataFrame]:  # fmt: skip
    """The file's rows after the first ``skip_lines`` lines, as frames of ``line_no`` and
    ``c0``…``c{width-1}`` (String, null when empty), one a block of about ``block_bytes``
    (:data:`BLOCK_BYTES` unless given)."""
    schema = {f"c{i}": pl.String for i in range(width)}
    line = 0  # lines before the block
    for block in _blocks(path, dialect, where, block_bytes or BLOCK_BYTES):
        lines = block.count(b"\n") + (0 if block.endswith(b"\n") else 1)
        data = block
        skipped = 0
        if line < skip_lines:
            for _ in range(skip_lines - line):
                end = data.find(b"\n")
                if end < 0:
                    data = b""
                    break
                data = data[end + 1 :]
                skipped += 1
        if data and not data.isspace():  # (strip() would copy the block)
            try:
                df = pl.read_csv(
                    io.BytesIO(data),
                    has_header=False,
                    separator=dialect.delimiter or _NO_DELIMITER,
                    quote_char=dialect.quote,
                    schema=schema,
                    truncate_ragged_lines=True,
                    missing_columns="insert",
                    raise_if_empty=False,
                )
            except pl.exceptions.ComputeError as exc:
                detail = str(exc).splitlines()[0]
                raise InputError(
                    Code.IMPORT_UNREADABLE, where=f"{where}, line {line + skipped + 1}",
                    kind="CSV", detail=detail,
                ) from exc  # fmt: skip
            yield df.with_row_index("line_no", offset=line + skipped + 1).with_columns(
                pl.col("line_no").cast(pl.Int32)
            )
        line += lines
