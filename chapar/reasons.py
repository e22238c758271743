"""Why a run stopped or an action was refused: a code and its parameters, words at the edge.

The core stores and raises only :class:`Reason` values (a :class:`Code` plus parameters); the
CLI, the dashboard and Prefect's artifacts turn them into Persian or English with
:func:`Reason.text`. Nothing matches an English sentence to translate it: a new reason is a
new code here, with both texts (a test holds every code translated).

Stored as two columns: the code, and the parameters as JSON (``details``).
"""

from __future__ import annotations

import json
import string
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

Lang = Literal["fa", "en"]


class Code(StrEnum):
    # --- why a run stopped before its end ------------------------------------------------
    INSUFFICIENT_CREDIT = "insufficient_credit"
    PROVIDER_CREDIT = "provider_credit"
    PROVIDER_UNAVAILABLE = "provider_unavailable"
    #: status lookups of messages that may be at the provider kept failing: nothing resent
    STATUS_UNANSWERED = "status_unanswered"
    PROVIDER_REFUSED = "provider_refused"
    PROVIDER_AUTH = "provider_auth"
    #: a provider without client-side ids may hold part of a batch: check before rebuilding
    OUTCOME_UNKNOWN = "outcome_unknown"
    SCHEDULE_CUT = "schedule_cut"
    INTERRUPTED = "interrupted"
    OUTSIDE_WINDOW = "outside_window"
    LEASE_LOST = "lease_lost"
    #: no renewal of the lease succeeded for most of its TTL (the store stayed busy)
    LEASE_IN_DOUBT = "lease_in_doubt"
    ERROR = "error"
    # --- what a Features-menu action needs -----------------------------------------------
    ARCHIVED = "archived"
    ALREADY_SENT = "already_sent"
    SENDING_NOW = "sending_now"
    NOT_UNFINISHED = "not_unfinished"
    NEVER_SENT = "never_sent"
    NOTHING_TO_CUT = "nothing_to_cut"
    NOTHING_TO_RESUME = "nothing_to_resume"
    CANCELLED_NEVER_SENT = "cancelled_never_sent"
    BUSY = "busy"
    RECENTLY_STARTED = "recently_started"
    NOT_EDITABLE = "not_editable"
    DATABASE_LOCKED = "database_locked"
    STORE_CONFLICT = "store_conflict"
    # --- settling a batch by hand (chapar settle) ----------------------------------------
    NOT_IN_FLIGHT = "not_in_flight"
    NOT_IN_BATCH = "not_in_batch"
    SETTLED = "settled"
    # --- bad input -----------------------------------------------------------------------
    START_IN_PAST = "start_in_past"
    TOPUP_NOT_POSITIVE = "topup_not_positive"
    TOPUP_TOO_LARGE = "topup_too_large"
    BALANCE_TOO_LARGE = "balance_too_large"
    NOT_A_NUMBER = "not_a_number"
    # --- campaign fields, lists, lines, reports ---------------------------------------------
    TITLE_EMPTY = "title_empty"
    TITLE_TOO_LONG = "title_too_long"
    SEND_COUNT_INVALID = "send_count_invalid"
    START_NO_ZONE = "start_no_zone"
    BAD_SENDER = "bad_sender"
    MESSAGE_EMPTY = "message_empty"
    MESSAGE_TOO_LONG = "message_too_long"
    SOURCE_EMPTY = "source_empty"
    SOURCE_TWICE = "source_twice"
    LIST_NOT_FOUND = "list_not_found"
    CAMPAIGN_NOT_FOUND = "campaign_not_found"
    RUN_NOT_FOUND = "run_not_found"
    BAD_STATUS = "bad_status"
    BAD_WINDOW = "bad_window"
    BAD_RATE = "bad_rate"
    NOT_FOUND = "not_found"
    #: a free text from a place not yet given its own code (English only)
    MESSAGE = "message"
    # --- what happened (outcomes shown to the user) --------------------------------------
    STOPPING = "stopping"
    # --- provider adapters (chapar/providers) --------------------------------------------
    #: an answer the adapter could not use (unexpected shape, unknown code)
    PROVIDER_ERROR = "provider_error"
    #: the provider's adapter cannot read replies (inbound messages)
    PROVIDER_NO_REPLIES = "provider_no_replies"
    # --- templates: message variables (chapar/templates.py) ------------------------------
    TEMPLATE_UNCLOSED_BRACE = "template_unclosed_brace"
    TEMPLATE_STRAY_BRACE = "template_stray_brace"
    TEMPLATE_NESTED_BRACE = "template_nested_brace"
    TEMPLATE_EMPTY_NAME = "template_empty_name"
    TEMPLATE_UNKNOWN_VARIABLES = "template_unknown_variables"
    TEMPLATE_NO_COLUMNS = "template_no_columns"
    TEMPLATE_MISSING_VALUES = "template_missing_values"
    TEMPLATE_MISSING_VALUE = "template_missing_value"
    # --- imports: recipient and blacklist files (chapar/imports) -------------------------
    IMPORT_NO_FILE = "import_no_file"
    IMPORT_IS_FOLDER = "import_is_folder"
    IMPORT_EMPTY = "import_empty"
    IMPORT_UNREADABLE = "import_unreadable"
    IMPORT_ENCODING = "import_encoding"
    IMPORT_NO_SHEET = "import_no_sheet"
    IMPORT_NO_COLUMN = "import_no_column"
    IMPORT_NO_NUMBERS = "import_no_numbers"
    IMPORT_NO_NUMBERS_SHEETS = "import_no_numbers_sheets"
    IMPORT_MOSTLY_INVALID = "import_mostly_invalid"
    IMPORT_WIDE_LINE = "import_wide_line"
    IMPORT_NAME_EMPTY = "import_name_empty"
    IMPORT_LIST_EXISTS = "import_list_exists"
    # --- the dashboard and its exports (issue 11) ------------------------------------------
    EXPORT_FORMAT = "export_format"
    EXCEL_TOO_BIG = "excel_too_big"
    PREFECT_DOWN = "prefect_down"
    PREFECT_NO_DEPLOYMENT = "prefect_no_deployment"
    PREFECT_REFUSED = "prefect_refused"
    SEND_FAILED = "send_failed"
    # --- moving an installation to the shared store (chapar/store/migrate.py) ------------
    STORE_URL_NOT_POSTGRES = "store_url_not_postgres"
    STORE_NO_SOURCE = "store_no_source"
    STORE_SOURCE_VERSION = "store_source_version"
    STORE_TARGET_UNREACHABLE = "store_target_unreachable"
    STORE_TARGET_NOT_EMPTY = "store_target_not_empty"
    STORE_SCHEMA_DIFFERS = "store_schema_differs"
    STORE_COPY_MISMATCH = "store_copy_mismatch"
    # --- beyond the panels: resend, test send, suppressions, inbox, cap (issue 12) -------
    RESEND_NOT_COMPLETED = "resend_not_completed"
    NOTHING_TO_RESEND = "nothing_to_resend"
    TEST_SEND_COUNT = "test_send_count"
    TEST_SEND_INVALID_NUMBER = "test_send_invalid_number"
    TEST_SEND_CREDIT = "test_send_credit"
    TEST_SEND_FAILED = "test_send_failed"
    BAD_VALUE = "bad_value"
    INVALID_NUMBER = "invalid_number"
    SUPPRESSION_KIND = "suppression_kind"
    BAD_CAP = "bad_cap"
    #: numbers deferred by the frequency cap wait in their batch until it frees
    CAP_WAIT = "cap_wait"


#: code -> (Persian, English); ``{name}`` placeholders take the reason's parameters.
TEXTS: dict[Code, tuple[str, str]] = {
    Code.INSUFFICIENT_CREDIT: ("اعتبار کافی نیست", "insufficient credit"),
    Code.PROVIDER_CREDIT: ("اعتبار سرویس‌دهنده کافی نیست", "insufficient credit at the provider"),
    Code.PROVIDER_UNAVAILABLE: (
        "سرویس‌دهنده در دسترس نیست: {detail}",
        "provider unavailable: {detail}",
    ),
    Code.STATUS_UNANSWERED: (
        "سرویس‌دهنده در دسترس نیست: در {seconds:g} ثانیه نگفت که {count:,} پیام دسته {batch} را "
        "دارد یا نه، پس هیچ‌کدام دوباره فرستاده نشد؛ برای پرسیدن دوباره بازسازی کنید",
        "provider unavailable: it did not say within {seconds:g} s whether it holds {count:,} "
        "messages of batch {batch}, so none of them was sent again; rebuild to ask again",
    ),
    Code.PROVIDER_REFUSED: (
        "سرویس‌دهنده درخواست را نپذیرفت (کد {code}): {detail}",
        "the provider refused the request (code {code}): {detail}",
    ),
    Code.PROVIDER_AUTH: (
        "کلید یا حساب سرویس‌دهنده پذیرفته نشد (کد {code})",
        "the provider refused the key or account (code {code})",
    ),
    Code.OUTCOME_UNKNOWN: (
        "سرنوشت دسته {batch} نامعلوم است و {provider} شناسه محلی ندارد؛ گزارش بسته‌ها (pack) "
        "را در پنل سرویس‌دهنده ببینید و شماره‌های ارسال‌شده را با chapar settle اعلام کنید، "
        "سپس بازسازی کنید",
        "the fate of batch {batch} is unknown and {provider} keeps no local ids; read its "
        "pack report in the provider's panel, tell Chapar which numbers went out "
        "(chapar settle CAMPAIGN {batch} NUMBER…), then rebuild",
    ),
    Code.SCHEDULE_CUT: ("زمانبندی قطع شد", "schedule cut"),
    Code.INTERRUPTED: ("فرایند ارسال متوقف شد", "interrupted"),
    Code.OUTSIDE_WINDOW: (
        "خارج از بازه مجاز ارسال؛ ادامه در {resume_at}",
        "outside the sending window; continues {resume_at}",
    ),
    Code.LEASE_LOST: (
        "فرایند دیگری ارسال این برنامه را در دست گرفت",
        "another process took over this run",
    ),
    Code.LEASE_IN_DOUBT: (
        "تمدید مالکیت ارسال به‌موقع ممکن نشد (پایگاه داده مشغول بود)؛ برای ادامه بازسازی کنید",
        "the run's lease could not be renewed in time (the store stayed busy); rebuild to continue",
    ),
    Code.ERROR: ("خطا: {detail}", "error: {detail}"),
    Code.ARCHIVED: ("بایگانی شده است؛ ابتدا از بایگانی خارج کنید", "archived: unarchive it first"),
    Code.ALREADY_SENT: (
        "قبلاً ارسال شده؛ برای ارسال دوباره ریست کنید",
        "already sent: use reset to send it again",
    ),
    Code.SENDING_NOW: ("هم‌اکنون در حال ارسال است", "it is sending now"),
    Code.NOT_UNFINISHED: (
        "فقط برنامه نا تمام بازسازی می‌شود",
        "only an unfinished run can be rebuilt",
    ),
    Code.NEVER_SENT: ("هنوز ارسال نشده؛ ابتدا ارسال کنید", "never sent: send it first"),
    Code.NOTHING_TO_CUT: (
        "فقط برنامه زمانبندی شده یا در حال ارسال، زمانبندی قابل قطع دارد",
        "only a scheduled or sending campaign has a schedule to cut",
    ),
    Code.NOTHING_TO_RESUME: ("چیزی در انتظار ادامه نیست", "nothing waits to continue"),
    Code.CANCELLED_NEVER_SENT: (
        "زمانبندی قطع شد و چیزی ارسال نشده؛ برای ارسال، زمان تازه‌ای بگذارید یا «ارسال» را بزنید",
        "the schedule was cut before anything was sent: set a new time or press Send",
    ),
    Code.BUSY: (
        "کمپین {campaign} هم‌اکنون در حال ارسال است (دور {run})؛ تا پایان آن صبر کنید یا "
        "زمانبندی را قطع کنید",
        "campaign {campaign} is sending now (run {run}); wait for it to stop, or cut its schedule",
    ),
    Code.RECENTLY_STARTED: (
        "این عملیات {seconds} ثانیه پیش آغاز شد و هنوز در صف است",
        "this was started {seconds} s ago and is still queued",
    ),
    Code.NOT_EDITABLE: (
        "این فیلدها قابل ویرایش نیستند: {fields}",
        "cannot edit {fields}: Edit program changes only title, send count, message, source "
        "and schedule",
    ),
    Code.DATABASE_LOCKED: (
        "پایگاه داده {seconds} ثانیه در دست فرایند دیگری ماند؛ دوباره تلاش کنید",
        "the database stayed locked by another process for {seconds} s; try again",
    ),
    Code.STORE_CONFLICT: (
        "فرایند دیگری همین لحظه همین داده‌ها را تغییر داد و بارها پیش افتاد؛ دوباره تلاش کنید",
        "another process kept changing the same data at the same moment; try again",
    ),
    Code.NOT_IN_FLIGHT: (
        "دسته {batch} کمپین {campaign} در انتظار تعیین تکلیف نیست",
        "batch {batch} of campaign {campaign} is not awaiting settlement (not in flight)",
    ),
    Code.NOT_IN_BATCH: (
        "{count:,} شماره در پیام‌های ارسال‌نشده‌ی دسته {batch} نیست: {samples}",
        "{count:,} number(s) are not among batch {batch}'s unsettled messages: {samples}",
    ),
    Code.SETTLED: (
        "دسته {batch} دستی تعیین تکلیف شد: {sent:,} ارسال‌شده ثبت شد و {back:,} برای بازسازی برگشت",
        "batch {batch} settled by hand: {sent:,} recorded as sent, {back:,} given back for a "
        "rebuild",
    ),
    Code.START_IN_PAST: (
        "زمان شروع {start_at} گذشته است؛ زمانی در آینده بدهید یا «اکنون»",
        "the start time {start_at} is in the past; give a future time, or now",
    ),
    Code.TOPUP_NOT_POSITIVE: (
        "مبلغ افزایش اعتبار باید عددی صحیح و مثبت باشد؛ داده شد: {amount}",
        "a top-up must be a positive whole number of Rials; got {amount}",
    ),
    Code.TOPUP_TOO_LARGE: (
        "مبلغ افزایش اعتبار حداکثر {maximum:,} ریال است؛ داده شد: {amount:,}",
        "a top-up is at most {maximum:,} Rials; got {amount:,}",
    ),
    Code.BALANCE_TOO_LARGE: (
        "با این مبلغ موجودی از {maximum:,} ریال بیشتر می‌شود",
        "this top-up would take the balance above {maximum:,} Rials",
    ),
    Code.TITLE_EMPTY: ("عنوان خالی است", "the title is empty"),
    Code.TITLE_TOO_LONG: (
        "عنوان بیش از {maximum:,} نویسه است",
        "the title is longer than {maximum:,} characters",
    ),
    Code.SEND_COUNT_INVALID: (
        "تعداد ارسال باید عددی صحیح و مثبت باشد، یا خالی برای همه",
        "must be a positive whole number, or empty for all",
    ),
    Code.START_NO_ZONE: ("زمان شروع منطقه زمانی ندارد", "a start time needs its time zone"),
    Code.BAD_SENDER: (
        "«{value}» شماره خط ارسال نیست (۴ تا ۲۰ رقم)",
        "{value!r} is not a sender line number (4-20 digits)",
    ),
    Code.MESSAGE_EMPTY: ("متن پیام خالی است", "the message text is empty"),
    Code.MESSAGE_TOO_LONG: (
        "پیام {pages:,} صفحه است ({characters:,} نویسه، {encoding})؛ حداکثر {maximum:,} صفحه "
        "مجاز است",
        "the message needs {pages:,} pages ({characters:,} characters, {encoding}); at most "
        "{maximum:,} are allowed",
    ),
    Code.SOURCE_EMPTY: ("حداقل یک لیست مخاطب انتخاب کنید", "choose at least one recipient list"),
    Code.SOURCE_TWICE: ("یک لیست دو بار آمده است", "a list is named twice"),
    Code.LIST_NOT_FOUND: (
        "لیست مخاطبی به نام «{name}» نیست (chapar lists)",
        "no recipient list named {name!r} (see `chapar lists`)",
    ),
    Code.CAMPAIGN_NOT_FOUND: ("کمپین {campaign} وجود ندارد", "no campaign {campaign}"),
    Code.RUN_NOT_FOUND: (
        "کمپین {campaign} دور {run} ندارد (دورهای آن: {runs})",
        "campaign {campaign} has no run {run} (it has {runs})",
    ),
    Code.BAD_STATUS: (
        "«{value}» وضعیت نیست؛ یکی از این‌ها: {choices}",
        "{value!r} is not a status; choose one of {choices}",
    ),
    Code.BAD_WINDOW: (
        "«{value}» بازه ارسال نیست؛ مانند 09:00-21:00 یا always",
        "{value!r} is not a window like 09:00-21:00 or 'always'",
    ),
    Code.BAD_RATE: (
        "باید عددی مثبت از پیام در دقیقه باشد",
        "must be a positive number of messages a minute",
    ),
    Code.NOT_A_NUMBER: ("«{value}» عدد صحیح نیست", "{value!r} is not a whole number"),
    Code.NOT_FOUND: ("{what} «{name}» پیدا نشد", "no {what} {name!r}"),
    Code.MESSAGE: ("{text}", "{text}"),
    Code.STOPPING: (
        "پس از دسته در حال ارسال متوقف می‌شود",
        "stopping after the batch in flight",
    ),
    # --- provider adapters (chapar/providers) --------------------------------------------
    Code.PROVIDER_ERROR: (
        "پاسخ سرویس‌دهنده قابل استفاده نبود (کد {code}): {detail}",
        "the provider's answer could not be used (code {code}): {detail}",
    ),
    Code.PROVIDER_NO_REPLIES: (
        "پاسخ‌های دریافتی از این سرویس‌دهنده خوانده نمی‌شود: {detail}",
        "replies cannot be read from this provider: {detail}",
    ),
    # --- templates: message variables (chapar/templates.py) ------------------------------
    Code.TEMPLATE_UNCLOSED_BRACE: (
        "آکولاد «{{» در نویسه {position} بسته نشده است؛ برای خود آکولاد {{{{ بنویسید",
        "the {{ at character {position} is never closed; write {{{{ for a literal brace",
    ),
    Code.TEMPLATE_STRAY_BRACE: (
        "آکولاد «}}» در نویسه {position} چیزی را نمی‌بندد؛ برای خود آکولاد }}}} بنویسید",
        "the }} at character {position} closes nothing; write }}}} for a literal brace",
    ),
    Code.TEMPLATE_NESTED_BRACE: (
        "متغیر آغاز شده در نویسه {position} پیش از بسته شدن آکولاد تازه‌ای باز کرده است",
        "the variable opened at character {position} opens another {{ before it is closed",
    ),
    Code.TEMPLATE_EMPTY_NAME: (
        "متغیر در نویسه {position} نام ندارد؛ مانند {{نام}} یا {{نام|مشتری گرامی}} بنویسید",
        "the variable at character {position} has no name; write it as {{name}} or "
        "{{name|fallback}}",
    ),
    Code.TEMPLATE_UNKNOWN_VARIABLES: (
        "این متغیرها در فایل گیرندگان ستونی ندارند: {names}؛ ستون‌ها: {columns}",
        "no column of the recipient file is called {names}; the columns are: {columns}",
    ),
    Code.TEMPLATE_NO_COLUMNS: (
        "متن از متغیر {names} استفاده می‌کند اما گیرندگان جز شماره ستونی ندارند",
        "the message uses {names} but the recipients have no column besides the number",
    ),
    Code.TEMPLATE_MISSING_VALUES: (
        "{count:,} گیرنده برای {{{name}}} مقداری ندارند (نمونه: سطرهای {lines})؛ یک مقدار "
        "جایگزین بدهید: {{{name}|…}}",
        "{count:,} recipients have no value for {{{name}}} (e.g. lines {lines}); give a "
        "fallback: {{{name}|…}}",
    ),
    Code.TEMPLATE_MISSING_VALUE: (
        "مقداری برای {{{name}}} داده نشده و جایگزینی ندارد",
        "no value for {{{name}}}, and it has no fallback",
    ),
    # --- imports: recipient and blacklist files (chapar/imports) -------------------------
    Code.IMPORT_NO_FILE: ("چنین فایلی نیست", "no such file"),
    Code.IMPORT_IS_FOLDER: (
        "این یک پوشه است، نه فایل؛ خود فایل را بدهید",
        "this is a folder, not a file: give the file itself",
    ),
    Code.IMPORT_EMPTY: ("فایل خالی است", "the file is empty"),
    Code.IMPORT_UNREADABLE: (
        "این فایل {kind} خوانده نشد: {detail}",
        "cannot read this {kind} file: {detail}",
    ),
    Code.IMPORT_ENCODING: (
        "متن این فایل با کدگذاری {encoding} خوانده نشد؛ آن را با UTF-8 ذخیره کنید",
        "the text cannot be read as {encoding}: save the file as UTF-8",
    ),
    Code.IMPORT_NO_SHEET: (
        "برگه «{sheet}» نیست؛ برگه‌ها: {sheets}",
        "no sheet {sheet!r}; the sheets are: {sheets}",
    ),
    Code.IMPORT_NO_COLUMN: (
        "ستون «{column}» نیست؛ ستون‌ها: {columns}",
        "no column {column!r}; the columns are: {columns}",
    ),
    Code.IMPORT_NO_NUMBERS: (
        "هیچ سطری شماره موبایل معتبر ندارد ({rows:,} سطر خوانده شد)؛ ستون‌ها: {columns}",
        "no row holds a valid mobile number ({rows:,} rows read); the columns are: {columns}",
    ),
    Code.IMPORT_NO_NUMBERS_SHEETS: (
        "هیچ برگه‌ای شماره موبایل معتبر ندارد؛ برگه‌های خوانده شده: {sheets}",
        "no sheet holds a valid mobile number; the sheets read: {sheets}",
    ),
    Code.IMPORT_MOSTLY_INVALID: (
        "{invalid:,} از {total:,} سطر ستون «{column}» شماره موبایل معتبر نیست (مثلاً {samples})؛ "
        "ستون را بررسی کنید یا با پذیرش نامعتبرها (--accept-invalid) وارد کنید",
        "{invalid:,} of {total:,} rows in column {column!r} are not valid mobile numbers (e.g. "
        "{samples}); check the column, or import with --accept-invalid",
    ),
    Code.IMPORT_WIDE_LINE: (
        "سطر {line} شامل {values:,} مقدار جدا شده با «{delimiter}» است؛ هر شماره را در یک سطر "
        "(یک ستون) بگذارید",
        "line {line} holds {values:,} values separated by {delimiter!r}: put one number a line "
        "(in one column)",
    ),
    Code.IMPORT_NAME_EMPTY: ("نام لیست خالی است", "the list name is empty"),
    Code.IMPORT_LIST_EXISTS: (
        "لیستی به نام «{name}» هست؛ برای جایگزینی، گزینه جایگزینی (--replace) را بزنید",
        "a list named {name!r} exists; import with --replace to replace it",
    ),
    # --- the dashboard and its exports (issue 11) ------------------------------------------
    Code.EXPORT_FORMAT: (
        "خروجی فقط به CSV (.csv) یا Excel (.xlsx)",
        "export to a .csv or .xlsx file",
    ),
    Code.EXCEL_TOO_BIG: (
        "{rows:,} ردیف در یک برگه Excel جا نمی‌شود (حداکثر {maximum:,})؛ خروجی CSV بگیرید",
        "{rows:,} rows do not fit in an Excel sheet ({maximum:,}); export to .csv",
    ),
    Code.PREFECT_DOWN: (
        "سرور Prefect در {api} پاسخ نمی‌دهد ({why})؛ سرویس‌ها را با «chapar up» راه بیندازید "
        "یا CHAPAR_SEND_INPROCESS=1 بگذارید تا داشبورد خودش ارسال کند",
        "the Prefect server at {api} does not answer ({why}): start the services "
        "(`chapar up`), or set CHAPAR_SEND_INPROCESS=1 to send from the dashboard process",
    ),
    Code.PREFECT_NO_DEPLOYMENT: (
        "Prefect استقرار {deployment} را ندارد؛ جریان‌ها را با «chapar up» راه بیندازید",
        "Prefect has no deployment {deployment!r}: serve the flows (`chapar up`)",
    ),
    Code.PREFECT_REFUSED: (
        "Prefect ارسال را نپذیرفت: {detail}",
        "Prefect did not accept the send: {detail}",
    ),
    Code.SEND_FAILED: ("ارسال خطا داد: {detail}", "the send failed: {detail}"),
    # --- moving an installation to the shared store (chapar/store/migrate.py) ------------
    Code.STORE_URL_NOT_POSTGRES: (
        "مقصد باید نشانی postgresql://کاربر:گذرواژه@میزبان:درگاه/پایگاه باشد، نه {url}",
        "the target must be a postgresql://user:password@host:port/db URL, not {url}",
    ),
    Code.STORE_NO_SOURCE: (
        "در {path} فایل DuckDB ای برای انتقال نیست",
        "there is no DuckDB file at {path} to move",
    ),
    Code.STORE_SOURCE_VERSION: (
        "نسخه طرح داده فایل {path} {found} است و این نسخه چاپار {expected}؛ یک بار فرمانی از "
        "چاپار را روی همان فایل اجرا کنید (به‌روز می‌شود) و دوباره منتقل کنید",
        "the file {path} is at schema version {found} and this Chapar at {expected}: run any "
        "chapar command on that file once (it upgrades it), then migrate again",
    ),
    Code.STORE_TARGET_UNREACHABLE: (
        "پایگاه مقصد {url} باز نشد: {detail}",
        "cannot open the target database {url}: {detail}",
    ),
    Code.STORE_TARGET_NOT_EMPTY: (
        "پایگاه مقصد خالی نیست (جدول {table}: {rows:,} سطر)؛ به پایگاهی خالی منتقل کنید",
        "the target already holds data (table {table}: {rows:,} rows): migrate into an empty "
        "database",
    ),
    Code.STORE_SCHEMA_DIFFERS: (
        "جدول {table} در فایل و در مقصد یکسان نیست: {detail}",
        "table {table} differs between the file and the target: {detail}",
    ),
    Code.STORE_COPY_MISMATCH: (
        "پس از رونوشت، {table} یکسان نیست ({what}: فایل {source}، مقصد {target})؛ "
        "چیزی در مقصد نگه داشته نشد",
        "after the copy {table} differs ({what}: file {source}, target {target}); nothing "
        "was kept in the target",
    ),
    # --- beyond the panels (issue 12) -----------------------------------------------------
    Code.RESEND_NOT_COMPLETED: (
        "ارسال مجدد فقط برای برنامه‌ی تکمیل‌شده است؛ برنامه‌ی ناتمام را اول بازسازی کنید",
        "only a completed campaign can be resent to its undelivered; rebuild an unfinished "
        "one first",
    ),
    Code.NOTHING_TO_RESEND: (
        "آخرین اجرا پیام نرسیده یا ناموفقی ندارد",
        "the latest run has no undelivered or failed message to resend",
    ),
    Code.TEST_SEND_COUNT: (
        "ارسال آزمایشی به ۱ تا {maximum} شماره است، نه {count}",
        "a test send goes to 1 to {maximum} numbers, not {count}",
    ),
    Code.TEST_SEND_INVALID_NUMBER: (
        "{value} شماره‌ی موبایل ایرانی نیست",
        "{value} is not an Iranian mobile number",
    ),
    Code.TEST_SEND_CREDIT: (
        "اعتبار کافی نیست: ارسال آزمایشی {cost:,} ریال است و اعتبار {balance:,} ریال",
        "not enough credit: the test send costs {cost:,} Rials and the balance is {balance:,}",
    ),
    Code.TEST_SEND_FAILED: (
        "ارسال آزمایشی انجام نشد و هزینه‌ای کسر نشد: {detail}",
        "the test send failed and nothing was charged: {detail}",
    ),
    Code.BAD_VALUE: (
        "{value} به شکل نام=مقدار نیست",
        "{value} is not name=value",
    ),
    Code.INVALID_NUMBER: (
        "{value} شماره‌ی موبایل ایرانی نیست",
        "{value} is not an Iranian mobile number",
    ),
    Code.SUPPRESSION_KIND: (
        "نوع {kind} پذیرفته نیست؛ یکی از: {kinds}",
        "{kind} is not a kind to add; one of: {kinds}",
    ),
    Code.BAD_CAP: (
        "سقف ارسال باید عددی مثبت از پیام‌ها در عددی مثبت از روزها باشد (یا ۰ برای بدون سقف)",
        "a frequency cap is a positive number of messages in a positive number of days "
        "(or 0 for none)",
    ),
    Code.CAP_WAIT: (
        "منتظر آزاد شدن سقف ارسال؛ ادامه در {resume_at}",
        "waiting for the frequency cap to free; continues at {resume_at}",
    ),
}


#: The fields an error can be about (``ChaparError.where``), in Persian; in English, and
#: for anything else (a file, a line), the name as it is.
FIELDS_FA: dict[str, str] = {
    "title": "عنوان",
    "message": "متن پیام",
    "send_count": "تعداد ارسال",
    "start": "زمان شروع",
    "sender": "خط ارسال",
    "source": "مرجع ارسال",
    "number": "شماره",
    "amount": "مبلغ",
    "credit": "اعتبار",
    "rate": "سرعت ارسال",
    "window": "بازه ارسال",
    "cap": "سقف ارسال",
    "kind": "نوع",
    "name": "نام",
    "status": "وضعیت",
}


def field_words(where: str, lang: Lang) -> str:
    """Where an error is, in the language asked: a field's name, or a file as it is."""
    return FIELDS_FA.get(where, where) if lang == "fa" else where


@dataclass(frozen=True)
class Reason:
    """A code and its parameters: what the core stores, raises and returns."""

    code: Code
    params: dict[str, Any] = field(default_factory=dict)

    def text(self, lang: Lang = "en") -> str:
        """The reason in words: a time parameter (``…_at``) in the local zone, Jalali in
        Persian; numbers in Persian digits in Persian."""
        fa, en = TEXTS[self.code]
        template = fa if lang == "fa" else en
        shown = {key: _shown(key, value, lang) for key, value in self.params.items()}
        try:
            return _FORMATTER.vformat(template, (), shown)
        except ValueError:  # a template's own syntax error: a test holds there is none
            return template

    def __str__(self) -> str:
        return self.text("en")

    @property
    def details(self) -> str | None:
        """The parameters as stored beside the code (JSON), None when there are none."""
        return json.dumps(self.params, ensure_ascii=False, default=str) if self.params else None

    @classmethod
    def stored(cls, code: str | None, details: str | None = None) -> Reason | None:
        """A reason read back from its two columns; unknown codes read as free text."""
        if not code:
            return None
        params = json.loads(details) if details else {}
        try:
            return cls(Code(code), params)
        except ValueError:
            return cls(Code.MESSAGE, {"text": code})


def reason(code: Code, **params: Any) -> Reason:
    return Reason(code, params)


#: Latin digits and the thousands comma to Persian ones (the dashboard's too).
FA_DIGITS = str.maketrans("0123456789,", "۰۱۲۳۴۵۶۷۸۹٬")


@dataclass(frozen=True)
class _PersianDigits:
    """A number that formats as itself (format specs included), in Persian digits."""

    value: int | float

    def __format__(self, spec: str) -> str:
        return format(self.value, spec).translate(FA_DIGITS)


def _shown(key: str, value: Any, lang: Lang) -> Any:
    """A parameter as the reason's words show it; a list as its items, comma-separated."""
    if isinstance(value, list | tuple):
        return ("، " if lang == "fa" else ", ").join(f"{_shown(key, v, lang)}" for v in value)
    if key.endswith("_at") and isinstance(value, str):
        return _local_time(value, lang)
    if lang == "fa" and isinstance(value, int | float) and not isinstance(value, bool):
        return _PersianDigits(value)
    return value


def _local_time(value: str, lang: Lang) -> str:
    """A time kept as ISO 8601 (naive: already local, as reasons before zones were kept),
    in the settings' zone to the minute."""
    from zoneinfo import ZoneInfo

    from chapar.settings import get_settings

    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return value
    if when.tzinfo is not None:
        when = when.astimezone(ZoneInfo(get_settings().timezone))
    return local_time_words(when, lang)


def local_time_words(local: datetime, lang: Lang, *, seconds: bool = False) -> str:
    """A local time as a reader sees it: Jalali with Persian digits in Persian
    (``۱۴۰۴/۰۱/۰۱ ۰۸:۰۰``), ISO-like in English (``2025-03-21 08:00``)."""
    fmt = "%Y/%m/%d %H:%M" + (":%S" if seconds else "")
    if lang == "en":
        return local.strftime(fmt.replace("/", "-"))
    import jdatetime

    jalali = jdatetime.datetime.fromgregorian(datetime=local.replace(tzinfo=None))
    return jalali.strftime(fmt).translate(FA_DIGITS)


class _Forgiving(string.Formatter):
    """Formats a reason's template with what it has: a parameter that is missing (a reason
    kept without it) reads as an ellipsis, and a value its format does not fit (a count
    given as text) as it is — never a template's braces, never an exception."""

    def get_value(self, key: int | str, args: Any, kwargs: Any) -> Any:
        return kwargs.get(key, "…") if isinstance(key, str) else "…"

    def format_field(self, value: Any, format_spec: str) -> str:
        try:
            return format(value, format_spec)
        except ValueError:
            return format(value, "")


_FORMATTER = _Forgiving()


def audit_status(status: str, reason: Reason | None) -> str:
    """A status as the audit trail keeps it: ``status``, ``status:code``, or
    ``status:code:{parameters as JSON}``; :func:`read_audit_status` reads it back. The
    audit keeps the code, never words, so it reads in the language of whoever looks."""
    if reason is None:
        return status
    kept = f"{status}:{reason.code.value}"
    return f"{kept}:{reason.details}" if reason.details else kept


def read_audit_status(value: str) -> tuple[str, Reason | None]:
    """The status and the reason of an audit value written by :func:`audit_status`."""
    status, _, rest = value.partition(":")
    code, _, details = rest.partition(":")
    if not code:
        return status, None
    try:
        return status, Reason.stored(code, details or None)
    except ValueError:  # parameters that are not JSON: the code alone still reads
        return status, Reason.stored(code)
