"""Numbers and pages at campaign scale: ``python -m bench.bench_numbers [--rows N]``.

Generates a recipient list in mixed forms (Persian digits, +98, 0098, 09..., spaces and
dashes; about 3% invalid, about 5% duplicates), a telecom blacklist of as many BIGINT
numbers, and as many random messages; then times the steps an import and a dry run take:
normalise, remove duplicates, anti-join the blacklist, count pages. For comparison it times
``phonenumbers`` per row (and our own scalar functions) on a sample, scaled to rows/s.
Prints figures; asserts nothing about time (the machine is shared).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import TypeVar

import numpy as np
import phonenumbers
import polars as pl

from chapar.numbers import PREFIXES, normalize, normalize_frame
from chapar.pages import count_pages, pages_expr

T = TypeVar("T")

PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
PERSIAN_WORDS = [
    "سلام", "مشتری", "گرامی", "تخفیف", "ویژه", "یلدا", "تا", "پایان", "هفته", "فروشگاه",
    "ما", "ارسال", "رایگان", "کد", "۵۰٪",
]  # fmt: skip
LATIN_WORDS = [
    "Dear", "customer", "special", "offer", "ends", "Sunday", "free", "delivery", "code",
    "SALE50", "visit", "50%",
]  # fmt: skip


def timed(fn: Callable[[], T], repeat: int = 3) -> tuple[T, float]:
    """The result of ``fn`` and its median wall time over ``repeat`` runs."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return result, statistics.median(times)  # type: ignore[return-value]


def recipients(n: int, rng: np.random.Generator) -> list[str]:
    """``n`` numbers as people write them; about 3% invalid and 5% repeats."""
    prefixes = np.array(sorted(PREFIXES))
    nationals = prefixes[rng.integers(0, len(prefixes), n)] * 10_000_000 + rng.integers(
        0, 10_000_000, n
    )
    repeat = rng.random(n) < 0.05
    nationals[repeat] = nationals[rng.integers(0, n, n)][repeat]
    forms = rng.integers(0, 10, n)
    broken = rng.random(n) < 0.03
    out = []
    for national, form, bad in zip(
        nationals.tolist(), forms.tolist(), broken.tolist(), strict=True
    ):
        s = str(national)
        if bad:  # a landline, a short number, a typo with a letter, or an unknown prefix
            s = ("021" + s[3:], "0" + s[:-1], "0" + s[:5] + "o" + s[6:], "0997" + s[3:])[form % 4]
            out.append(s)
            continue
        out.append(
            (
                "0" + s,
                "+98" + s,
                "0098" + s,
                "98" + s,
                s,
                ("0" + s).translate(PERSIAN),
                ("0" + s).translate(ARABIC),
                f"0{s[:3]} {s[3:6]} {s[6:]}",
                f"+98 {s[:3]}-{s[3:6]}-{s[6:]}",
                f" ({('0' + s[:3]).translate(PERSIAN)}) {s[3:]} ",
            )[form]
        )
    return out


def messages(n: int, rng: np.random.Generator) -> list[str]:
    """``n`` campaign texts: Persian (some with emoji), Latin (some with €, [ ] and such),
    from a few words to four pages."""
    pools = {
        "fa": " ".join(rng.choice(PERSIAN_WORDS, 40_000)),
        "fa_emoji": " ".join(rng.choice([*PERSIAN_WORDS, "🎉", "😀"], 40_000)),
        "en": " ".join(rng.choice(LATIN_WORDS, 40_000)),
        "en_ext": " ".join(rng.choice([*LATIN_WORDS, "€5", "[50%]", "{vip}"], 40_000)),
    }
    kinds = rng.choice(list(pools), n, p=[0.55, 0.1, 0.25, 0.1])
    lengths = rng.integers(20, 420, n)
    starts = rng.integers(0, 100_000, n)
    return [
        pools[kind][start : start + length]
        for kind, start, length in zip(
            kinds.tolist(), starts.tolist(), lengths.tolist(), strict=True
        )
    ]


def phonenumbers_normalize(raw: str) -> int | None:
    """The per-row baseline: what one would write with the ``phonenumbers`` library."""
    try:
        parsed = phonenumbers.parse(raw, "IR")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return int(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)[1:])


def rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds / 1e6:8.2f} M rows/s  ({seconds * 1000:8.1f} ms)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=20_000)
    args = parser.parse_args()
    n, sample = args.rows, args.sample
    rng = np.random.default_rng(1404)

    print(f"generating {n:,} numbers, {n:,} blacklisted numbers, {n:,} messages ...")
    raw = pl.DataFrame({"line_no": np.arange(1, n + 1), "raw": recipients(n, rng)})
    prefixes = np.array(sorted(PREFIXES))
    blacklist = pl.DataFrame(
        {
            "number": 98 * 10**10
            + prefixes[rng.integers(0, len(prefixes), n)] * 10**7
            + rng.integers(0, 10**7, n)
        },
        schema={"number": pl.Int64},
    ).unique()
    texts = pl.DataFrame({"text": messages(n, rng)})
    print(f"polars {pl.__version__}, {pl.thread_pool_size()} threads\n")

    numbers, t_norm = timed(lambda: normalize_frame(raw, "raw"))
    valid = numbers.filter("is_valid")
    # The first line of a number is kept, later ones are duplicates (as chapar.imports does).
    first_seen = pl.col("number").is_first_distinct()
    unique, t_dedup = timed(lambda: valid.lazy().filter(first_seen).collect())
    allowed, t_anti = timed(lambda: unique.join(blacklist, on="number", how="anti"))
    counted, t_pages = timed(lambda: texts.select(pages_expr(pl.col("text")).alias("p")))
    # The whole import + dry run, one lazy query: what a campaign plan costs end to end.
    _, t_all = timed(
        lambda: (
            normalize_frame(raw, "raw")
            .lazy()
            .filter("is_valid")
            .filter(first_seen)
            .join(blacklist.lazy(), on="number", how="anti")
            .select(pl.len())
            .collect()
        )
    )

    print(f"normalize_frame  {n:>9,} raw       {rate(n, t_norm)}")
    print(
        f"  -> {valid.height:,} valid ({n - valid.height:,} invalid), "
        f"by operator: {dict(valid['operator'].value_counts().iter_rows())}"
    )
    print(f"dedup            {valid.height:>9,} valid     {rate(valid.height, t_dedup)}")
    print(f"  -> {unique.height:,} unique ({valid.height - unique.height:,} duplicates)")
    print(
        f"anti-join        {unique.height:>9,} x {blacklist.height:,} blacklisted  "
        f"{rate(unique.height, t_anti)}"
    )
    print(f"  -> {allowed.height:,} to send ({unique.height - allowed.height:,} blacklisted)")
    print(f"normalize+dedup+anti-join (one query)  {rate(n, t_all)}")
    pages = counted.unnest("p")
    print(f"pages_expr       {n:>9,} messages  {rate(n, t_pages)}")
    print(
        f"  -> {pages['pages'].sum():,} pages; by encoding: "
        f"{dict(pages['encoding'].value_counts().iter_rows())}"
    )

    print(f"\nper-row baselines on a {sample:,} sample, scaled:")
    raw_sample = raw["raw"].head(sample).to_list()
    text_sample = texts["text"].head(sample).to_list()
    baseline, t_pn = timed(lambda: [phonenumbers_normalize(r) for r in raw_sample], repeat=1)
    ours, t_scalar = timed(lambda: [normalize(r) for r in raw_sample], repeat=1)
    _, t_cp = timed(lambda: [count_pages(t) for t in text_sample], repeat=1)
    vectorised = n / t_norm
    print(
        f"phonenumbers per row    {rate(sample, t_pn)}  "
        f"-> normalize_frame is {vectorised / (sample / t_pn):,.0f}x faster"
    )
    print(f"normalize() per row     {rate(sample, t_scalar)}")
    print(f"count_pages() per row   {rate(sample, t_cp)}")
    only_ours = [r for r, a, b in zip(raw_sample, baseline, ours, strict=True) if a is None and b]
    only_theirs = [r for r, a, b in zip(raw_sample, baseline, ours, strict=True) if a and b is None]
    print(
        f"valid for normalize() only: {len(only_ours)} (prefixes phonenumbers does not know: "
        f"0941, parts of 0995/0998/0999), e.g. {only_ours[:3]}"
    )
    print(f"valid for phonenumbers only: {len(only_theirs)}, e.g. {only_theirs[:3]}")


if __name__ == "__main__":
    main()
