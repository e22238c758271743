"""Personalised messages at campaign scale: ``python -m bench.bench_templates [--rows N]``.

Builds N recipients with the columns a customer file brings (a name — sometimes missing,
sometimes with an emoji —, a discount code, a city, an amount), a template using them with
fallbacks, and times the steps a personalised campaign takes: checking the template against
the audience (:func:`chapar.templates.check`), rendering every text
(:func:`render_frame`), adding the opt-out footer (:func:`footer_expr` on the texts, or
:func:`footer_template` before rendering) and counting each
text's encoding and pages (:func:`count_pages_frame`); then the cap's
:func:`chapar.frequency.capped` over as many past sends, and the reply classifier.
For comparison: the per-row functions (:func:`render_one`, :func:`count_pages`) on a sample,
scaled. Prints figures; asserts nothing about time (the machine is shared).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import numpy as np
import polars as pl

from chapar.footer import footer_expr, footer_template
from chapar.frequency import capped
from chapar.pages import count_pages, count_pages_frame
from chapar.replies import classify
from chapar.templates import check, render_frame, render_one

T = TypeVar("T")

NAMES = [
    "علی", "رضا", "مریم", "زهرا", "محمدحسین", "فاطمه", "امیرعلی", "نازنین زهرا", "Sara",
    "John", "سید ابوالفضل", "😀 نیلوفر", None, None, "",
]  # fmt: skip
CITIES = ["تهران", "مشهد", "اصفهان", "شیراز", "تبریز", "Karaj", None]
#: About two pages with the footer; long names and cities take some texts to three.
TEMPLATE = (
    "{نام|مشتری گرامی} عزیز، کد تخفیف {کد} تا جمعه در {شهر|فروشگاه‌های ما} معتبر است. "
    "خرید بالای {مبلغ|۵۰۰٬۰۰۰} تومان ارسال رایگان."
)
LATIN_TEMPLATE = "Dear {name|customer}, your code {code} is valid until Sunday [50% off] {note|}"
REPLIES = ["لغو۱۱", "11", "stop", "ممنون", "لغو نکنید", "۱۲", "سلام، کی تمام میشه؟", "STOP!"]


def timed(fn: Callable[[], T], repeat: int = 3) -> tuple[T, float]:
    """The result of ``fn`` and its median wall time over ``repeat`` runs."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return result, statistics.median(times)  # type: ignore[return-value]


def rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds / 1e6:8.2f} M/s  ({seconds * 1000:8.1f} ms)"


def audience(n: int, rng: np.random.Generator) -> pl.DataFrame:
    names = np.array(NAMES, dtype=object)
    cities = np.array(CITIES, dtype=object)
    amounts = rng.integers(0, 5_000_000, n)
    return pl.DataFrame(
        {
            "line_no": np.arange(2, n + 2),
            "نام": names[rng.integers(0, len(names), n)].tolist(),
            "کد": [f"YLD{c:07d}" for c in rng.integers(0, 10**7, n)],
            "شهر": cities[rng.integers(0, len(cities), n)].tolist(),
            "مبلغ": [None if a < 500_000 else f"{a:,}" for a in amounts.tolist()],
        },
        schema_overrides={"نام": pl.String, "شهر": pl.String},
    )


def latin_audience(n: int, rng: np.random.Generator) -> pl.DataFrame:
    # Notes of varied length so the texts spread over one to three pages.
    notes = np.array(["", "See you!", "€5 off delivery " * 3, "x" * 100, "{vip} " * 12])
    return pl.DataFrame(
        {
            "name": [("Sara", "John", "Ali", None)[i] for i in rng.integers(0, 4, n).tolist()],
            "code": [f"C{c:06d}" for c in rng.integers(0, 10**6, n)],
            "note": notes[rng.integers(0, len(notes), n)],
        },
        schema_overrides={"name": pl.String},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=20_000)
    args = parser.parse_args()
    n, sample = args.rows, args.sample
    rng = np.random.default_rng(1404)
    print(f"generating {n:,} recipients with name, code, city, amount; rates per row ...")
    attrs = audience(n, rng)
    latin = latin_audience(n, rng)
    print(f"polars {pl.__version__}, {pl.thread_pool_size()} threads\n")

    checked, t_check = timed(lambda: check(TEMPLATE, attrs, line_column="line_no"))
    template = checked.template
    texts, t_render = timed(lambda: render_frame(template, attrs))
    footed, t_footer = timed(lambda: texts.to_frame().select(footer_expr(pl.col("text"))))
    footed_texts = footed.to_series()
    with_footer_part = footer_template(template)
    _, t_render_footed = timed(lambda: render_frame(with_footer_part, attrs))
    pages, t_pages = timed(lambda: count_pages_frame(footed_texts))
    latin_texts, t_latin = timed(lambda: render_frame(LATIN_TEMPLATE, latin))
    latin_pages, t_latin_pages = timed(lambda: count_pages_frame(latin_texts))

    missing = {k: v.count for k, v in checked.missing.items()}
    print(f"{'check':34} {rate(n, t_check)}  missing: {missing}")
    print(f"{'render_frame, Persian':34} {rate(n, t_render)}")
    print(f"{'footer_expr on the texts':34} {rate(n, t_footer)}")
    print(f"{'render_frame with footer_template':34} {rate(n, t_render_footed)}")
    print(f"{'count_pages_frame, Persian':34} {rate(n, t_pages)}")
    print(f"  -> pages {dict(sorted(pages['pages'].value_counts().iter_rows()))}, "
          f"by encoding {dict(pages['encoding'].value_counts().iter_rows())}")  # fmt: skip
    print(f"{'render_frame, Latin':34} {rate(n, t_latin)}")
    print(f"{'count_pages_frame, Latin':34} {rate(n, t_latin_pages)}")
    print(f"  -> pages {dict(sorted(latin_pages['pages'].value_counts().iter_rows()))}, "
          f"by encoding {dict(latin_pages['encoding'].value_counts().iter_rows())}")  # fmt: skip
    total = t_render_footed + t_pages
    print(f"{'render + footer + pages, Persian':34} {rate(n, total)}")

    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    numbers = rng.integers(989_120_000_000, 989_120_000_000 + n // 3, n)
    sends = pl.DataFrame(
        {
            "number": numbers,
            "sent_at": [now - timedelta(minutes=int(m)) for m in rng.integers(0, 14 * 1440, n)],
        },
        schema={"number": pl.Int64, "sent_at": pl.Datetime("us", "UTC")},
    )
    at_cap, t_cap = timed(lambda: capped(sends, 3, 7, now))
    print(f"{'capped (3 in 7 days), sends':34} {rate(n, t_cap)}  -> {at_cap.height:,} capped")

    print(f"\nper-row on a {sample:,} sample, scaled:")
    rows = attrs.head(sample).to_dicts()
    _, t_one = timed(lambda: [render_one(template, r) for r in rows], repeat=1)
    sample_texts = footed_texts.head(sample).to_list()
    _, t_cp = timed(lambda: [count_pages(t) for t in sample_texts], repeat=1)
    replies = [REPLIES[i % len(REPLIES)] for i in range(sample)]
    _, t_classify = timed(lambda: [classify(r) for r in replies], repeat=1)
    print(f"{'render_one':34} {rate(sample, t_one)}  -> render_frame is "
          f"{(n / t_render) / (sample / t_one):,.0f}x faster")  # fmt: skip
    print(f"{'count_pages':34} {rate(sample, t_cp)}  -> count_pages_frame is "
          f"{(n / t_pages) / (sample / t_cp):,.0f}x faster")  # fmt: skip
    print(f"{'classify':34} {rate(sample, t_classify)}")


if __name__ == "__main__":
    main()
