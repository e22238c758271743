"""Every label of the dashboard in Persian and English, and the formats of each language.

Persian is the default: right-to-left layout, Persian digits, Jalali dates in the
configured time zone (Asia/Tehran). English shows Western digits and Gregorian dates.
The core's own messages (errors, refusal reasons) are English; the common ones are
translated here (:func:`reason`), the rest are shown as they are.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final, Literal
from zoneinfo import ZoneInfo

import streamlit as st

from chapar.numbers import OPERATOR_NAMES_FA
from chapar.reasons import FA_DIGITS, Reason, local_time_words, read_audit_status
from chapar.settings import get_settings

Lang = Literal["fa", "en"]
LANGS: Final[tuple[Lang, ...]] = ("fa", "en")
LANG_NAMES: Final[dict[str, str]] = {"fa": "فارسی", "en": "English"}
DEFAULT_LANG: Final[Lang] = "fa"

#: key -> (Persian, English). Placeholders use str.format names.
LABELS: Final[dict[str, tuple[str, str]]] = {
    # --- the app --------------------------------------------------------------------------
    "app.name": ("چاپار", "Chapar"),
    "app.tagline": ("ارسال پیامک انبوه", "SMS campaigns"),
    "app.language": ("زبان / Language", "زبان / Language"),
    "nav.campaigns": ("برنامه‌های ارسال", "Send programs"),
    "nav.setup": ("مخاطبان و اعتبار", "Audience and credit"),
    "nav.home": ("پیشخوان", "Dashboard"),
    "nav.new": ("کمپین جدید", "New campaign"),
    "nav.edit": ("ویرایش برنامه", "Edit program"),
    "nav.reports": ("گزارشات ارسال", "Send reports"),
    "nav.blacklist": ("لیست سیاه برنامه", "Program blacklist"),
    "nav.archived": ("بایگانی شده ها", "Archived"),
    "nav.lists": ("لیست‌های مخاطبان", "Recipient lists"),
    "nav.credit": ("اعتبار", "Credit"),
    # --- common ---------------------------------------------------------------------------
    "campaign": ("کمپین", "Campaign"),
    "campaign.label": ("#{id} — {title}", "#{id} — {title}"),
    "campaign.archived_suffix": (" (بایگانی شده)", " (archived)"),
    "no_campaigns": (
        "هنوز کمپینی نیست. از «کمپین جدید» یکی بسازید.",
        "No campaigns yet. Create one under “New campaign”.",
    ),
    "no_lists": (
        "هنوز لیست مخاطبی وارد نشده است؛ در «لیست‌های مخاطبان» یکی وارد کنید.",
        "No recipient list yet: import one under “Recipient lists”.",
    ),
    "all": ("همه", "All"),
    "none": ("—", "—"),
    "yes": ("بله", "Yes"),
    "cancel": ("انصراف", "Cancel"),
    "status": ("وضعیت", "Status"),
    "reason": ("دلیل", "Reason"),
    "not_allowed": ("در دسترس نیست: {reason}", "Not available: {reason}"),
    "credit": ("اعتبار", "Credit"),
    "pages": ("تعداد صفحات", "Pages"),
    "cost": ("مبلغ هزینه شده", "Money spent"),
    "reset_count": ("تعداد ریست", "Resets"),
    "run": ("دور ارسال", "Run"),
    "run.label": ("دور {n}", "Run {n}"),
    "run.latest": ("دور {n} (آخرین)", "Run {n} (latest)"),
    "progress": ("پیشرفت دور جاری", "Progress of the current run"),
    "progress.text": ("{handed} از {planned} ارسال شده", "{handed} of {planned} sent"),
    "progress.none": ("هنوز ارسال نشده", "not sent yet"),
    "last_activity": ("آخرین فعالیت", "Last activity"),
    "created_at": ("ایجاد", "Created"),
    "source": ("مرجع ارسال", "Send reference"),
    "send_count": ("تعداد ارسال", "Send count"),
    "send_count.all": ("همه", "all"),
    "send_count.help": (
        "چند مخاطب از مرجع ارسال برداشته شود؛ خالی یعنی همه.",
        "How many recipients to take from the send reference; empty means all.",
    ),
    "title": ("عنوان برنامه", "Title"),
    "message": ("متن پیام", "Message text"),
    "sender": ("خط ارسال", "Sender line"),
    "schedule": ("زمانبندی ارسال", "Send schedule"),
    "schedule.none": (
        "بدون زمانبندی (ارسال دستی از پیشخوان)",
        "No schedule (send from the dashboard)",
    ),
    "schedule.at": ("ارسال در زمان مشخص", "Send at a set time"),
    "schedule.keep": ("بدون تغییر", "Keep as it is"),
    "schedule.change": ("تغییر زمان شروع", "Change the start time"),
    "schedule.clear": ("حذف زمان شروع", "Remove the start time"),
    "schedule.start": ("زمان شروع ({tz})", "Start time ({tz})"),
    "schedule.current": ("زمان شروع فعلی: {when}", "Current start time: {when}"),
    "schedule.jalali": ("به تقویم شمسی: {when}", "In the Jalali calendar: {when}"),
    "schedule.in_prefect": ("زمانبندی در Prefect ثبت شد.", "The schedule is set in Prefect."),
    "schedule.db_only": (
        "سرور Prefect پاسخ نمی‌دهد: زمانبندی فقط در پایگاه داده ذخیره شد و با اجرای "
        "«chapar up» در Prefect ثبت می‌شود.",
        "No Prefect server answers: the schedule is saved in the database only; "
        "`chapar up` sets it in Prefect when it starts.",
    ),
    "error": ("خطا", "Error"),
    "rows": ("ردیف {first} تا {last} از {total}", "Rows {first}–{last} of {total}"),
    "rows.none": ("هیچ ردیفی نیست.", "No rows."),
    "page_size": ("تعداد در هر صفحه", "Rows a page"),
    "export.csv": ("دریافت CSV", "Download CSV"),
    "export.xlsx": ("دریافت Excel", "Download Excel"),
    "export.too_big": (
        "بیش از {n} ردیف در Excel جا نمی‌شود؛ CSV را دریافت کنید.",
        "Excel holds at most {n} rows: download the CSV.",
    ),
    # --- status of a campaign and of a message -------------------------------------------
    "cstatus.draft": ("پیش‌نویس", "draft"),
    "cstatus.scheduled": ("زمانبندی شده", "scheduled"),
    "cstatus.sending": ("در حال ارسال", "sending"),
    "cstatus.completed": ("تکمیل شده", "completed"),
    "cstatus.unfinished": ("نا تمام", "unfinished"),
    "cstatus.cancelled": ("لغو شده", "cancelled"),
    "cstatus.planned": ("برنامه‌ریزی شده", "planned"),
    "cstatus.waiting": ("در انتظار بازه ارسال", "waiting for the window"),
    "mstate.invalid": ("شماره نامعتبر", "invalid"),
    "mstate.duplicate": ("تکراری", "duplicate"),
    "mstate.blacklisted": ("لیست سیاه مخابراتی", "blacklisted"),
    "mstate.pending": ("در صف ارسال", "pending"),
    "mstate.sent": ("ارسال موفق (در انتظار دلیوری)", "sent (awaiting delivery)"),
    "mstate.delivered": ("دلیور شده", "delivered"),
    "mstate.undelivered": ("نرسیده", "undelivered"),
    "mstate.failed": ("ناموفق", "failed"),
    "mstate.blocked": ("مسدود توسط مخابرات", "blocked"),
    "mstate.cancelled": ("لغو شده", "cancelled"),
    # --- the Features menu ----------------------------------------------------------------
    "features": ("امکانات", "Features"),
    "f.edit": ("ویرایش برنامه", "Edit program"),
    "f.reports": ("گزارشات ارسال", "Send reports"),
    "f.blacklist": ("لیست سیاه برنامه", "Program blacklist"),
    "f.archive": ("بایگانی شود", "Archive"),
    "f.unarchive": ("خروج از بایگانی", "Unarchive"),
    "f.reset": ("ریست شود", "Reset"),
    "f.rebuild": ("بازسازی برنامه نا تمام", "Rebuild unfinished"),
    "f.send": ("ارسال", "Send"),
    "f.cut": ("قطع زمانبندی ارسال", "Cut schedule"),
    "reset.confirm": (
        "کمپین «{title}» ریست شود؟ یک دور ارسال تازه از اولین شماره شروع می‌شود و "
        "شمارنده ریست یکی بالا می‌رود. گزارش دورهای قبلی می‌ماند.",
        "Reset “{title}”? A new run sends again from the first number and the reset "
        "counter goes up by one. Earlier runs keep their reports.",
    ),
    "reset.yes": ("بله، ریست شود", "Yes, reset"),
    "done.archived": ("کمپین «{title}» بایگانی شد.", "“{title}” was archived."),
    "done.unarchived": (
        "کمپین «{title}» از بایگانی خارج شد.",
        "“{title}” is back on the dashboard.",
    ),
    "done.already": ("تغییری لازم نبود.", "Nothing to change."),
    "done.started": ("ارسال «{title}» ({mode}) آغاز شد.", "Sending “{title}” ({mode}) started."),
    "done.cut": ("زمانبندی «{title}» قطع شد: {result}", "Schedule of “{title}” cut: {result}"),
    "mode.start": ("ارسال", "send"),
    "mode.rebuild": ("بازسازی", "rebuild"),
    "mode.reset": ("ریست", "reset"),
    "prefect.link": ("مشاهده در Prefect", "Open in Prefect"),
    "send.failed": (
        "آخرین ارسال در پس‌زمینه خطا داد: {error}",
        "The last background send failed: {error}",
    ),
    # --- home -----------------------------------------------------------------------------
    "home.title": ("پیشخوان", "Dashboard"),
    "home.balance": ("اعتبار حساب", "Credit balance"),
    "home.active": ("برنامه‌های فعال", "Active programs"),
    "home.count": ("{n} برنامه فعال", "{n} active programs"),
    "home.live": (  # sending, or delivery statuses still arriving for a recent send
        "ارسال یا دریافت وضعیت تحویل در جریان است؛ کارت‌های آن هر چند ثانیه تازه می‌شوند.",
        "Sending or delivery statuses in progress: their cards refresh every few seconds.",
    ),
    # --- edit program ---------------------------------------------------------------------
    "edit.title": ("ویرایش برنامه", "Edit program"),
    "edit.intro": (
        "فقط عنوان، تعداد ارسال، متن پیام، مرجع ارسال و زمانبندی قابل تغییر است.",
        "Only the title, send count, message text, send reference and schedule can change.",
    ),
    "edit.next_run": (
        "تغییر مرجع ارسال یا تعداد ارسال از دور بعدی (ریست) اعمال می‌شود؛ دور جاری "
        "مخاطبانش را هنگام برنامه‌ریزی ثابت کرده است. متن پیام هنگام ارسال هر دسته "
        "خوانده می‌شود، پس متن اصلاح‌شده با بازسازی برای باقی‌مانده ارسال می‌شود.",
        "Send reference and send count changes apply from the next run (a reset): the "
        "current run froze its audience when it was planned. The message text is read as "
        "each batch is sent, so a corrected text goes to the rest on rebuild.",
    ),
    "edit.refused": ("ویرایش ممکن نیست: {reason}", "Editing is not possible: {reason}"),
    "edit.save": ("ذخیره تغییرات", "Save changes"),
    "edit.saved": ("ذخیره شد: {fields}", "Saved: {fields}"),
    "edit.nothing": ("چیزی تغییر نکرد.", "Nothing changed."),
    "edit.audit": ("تاریخچه تغییرات", "Audit trail"),
    "edit.cut_help": (
        "برنامه زمانبندی‌شده لغو می‌شود؛ برنامه در حال ارسال پس از دسته جاری متوقف و نا تمام می‌شود.",
        "A scheduled campaign is cancelled; a sending one stops as unfinished after the "
        "batch in flight.",
    ),
    "audit.at": ("زمان", "When"),
    "audit.actor": ("کاربر", "Who"),
    "audit.action": ("عمل", "Action"),
    "audit.field": ("فیلد", "Field"),
    "audit.old": ("مقدار قبلی", "Old"),
    "audit.new": ("مقدار جدید", "New"),
    # --- message composer ----------------------------------------------------------------
    "composer.count": (
        "{characters} نویسه، {pages} صفحه، {encoding}",
        "{characters} characters | {pages} pages | {encoding}",
    ),
    "composer.gsm7": ("لاتین (GSM-۷)", "Latin (GSM-7)"),
    "composer.ucs2": ("فارسی / یونیکد (UCS-۲)", "Persian / Unicode (UCS-2)"),
    "composer.limit": ("حداکثر {n} صفحه", "at most {n} pages"),
    "composer.help": (
        "شمارش صفحات و هزینه هنگام تایپ تازه می‌شود.",
        "The page count and cost follow as you type.",
    ),
    # --- new campaign ---------------------------------------------------------------------
    "new.title": ("کمپین جدید", "New campaign"),
    "new.preview": ("پیش‌نمایش هزینه", "Price preview"),
    "new.recipients": ("مخاطبان قابل ارسال", "Recipients to send"),
    "new.create": ("ساخت کمپین", "Create campaign"),
    "new.created": ("کمپین «{title}» ساخته شد (#{id}).", "Campaign “{title}” created (#{id})."),
    "new.pick_source": ("حداقل یک لیست مخاطب انتخاب کنید.", "Choose at least one recipient list."),
    "new.by_operator": ("بر اساس اپراتور", "By operator"),
    "new.sender_help": ("شماره خط ارسال (۴ تا ۲۰ رقم)", "The sender line number (4–20 digits)"),
    # --- reports --------------------------------------------------------------------------
    "rep.title": ("گزارشات ارسال", "Send reports"),
    "rep.never": ("این کمپین هنوز ارسال نشده است.", "This campaign has not been sent yet."),
    "rep.stopped": ("متوقف شده: {reason}", "Stopped: {reason}"),
    "rep.started": ("شروع: {when}", "Started: {when}"),
    "rep.finished": ("پایان: {when}", "Finished: {when}"),
    "rep.figures": ("ارقام", "Figures"),
    "rep.charts": ("نمودارها", "Charts"),
    "rep.by_status": ("بر اساس وضعیت", "By status"),
    "rep.by_operator": ("بر اساس اپراتور", "By operator"),
    "rep.over_time": ("ارسال در طول زمان (در دقیقه)", "Sends over time (a minute)"),
    "rep.numbers": ("شماره‌ها", "Numbers"),
    "rep.flag": ("پرچم (فیلتر وضعیت)", "Flag (status filter)"),
    "rep.count": ("تعداد", "Count"),
    "rep.operator": ("اپراتور", "Operator"),
    "rep.minute": ("دقیقه", "Minute"),
    "fig.planned": ("برنامه‌ریزی شده", "Planned"),
    "fig.sent": ("ارسال موفق", "Sent"),
    "fig.delivered": ("دلیور شده", "Delivered"),
    "fig.undelivered": ("نرسیده / ناموفق", "Undelivered / failed"),
    "fig.blocked": ("مسدود توسط مخابرات", "Blocked"),
    "fig.blacklisted": ("لیست سیاه مخابراتی", "Blacklisted"),
    "fig.invalid": ("شماره نامعتبر", "Invalid numbers"),
    "fig.duplicates": ("تکراری حذف شده", "Duplicates removed"),
    "fig.pending": ("در صف ارسال", "Still pending"),
    "fig.awaiting delivery": ("در انتظار دلیوری", "Awaiting delivery"),
    "fig.pages": ("تعداد صفحات", "Pages"),
    "fig.cost": ("مبلغ هزینه شده", "Money spent"),
    "col.seq": ("ردیف", "Seq"),
    "col.number": ("شماره", "Number"),
    "col.operator": ("اپراتور", "Operator"),
    "col.status": ("وضعیت", "Status"),
    "col.provider_id": ("شناسه پیام", "Message id"),
    "col.pages": ("صفحه", "Pages"),
    "col.cost": ("هزینه", "Cost"),
    "col.sent_at": ("زمان ارسال", "Sent at"),
    "col.status_at": ("زمان وضعیت", "Status at"),
    "col.run_no": ("دور", "Run"),
    "col.how": ("چگونه", "How"),
    "col.at": ("زمان", "When"),
    # --- program blacklist ----------------------------------------------------------------
    "pbl.title": ("لیست سیاه برنامه", "Program blacklist"),
    "pbl.intro": (
        "شماره‌های این کمپین که در لیست سیاه مخابراتی هستند: آن‌ها که پیش از ارسال کنار "
        "گذاشته شدند و آن‌ها که مخابرات مسدود گزارش کرد.",
        "This campaign's numbers on the telecom blacklist: those filtered out before "
        "sending and those the provider reported as blocked.",
    ),
    "pbl.filtered": ("کنار گذاشته پیش از ارسال", "Filtered before sending"),
    "pbl.blocked": ("مسدود گزارش‌شده", "Reported blocked"),
    "pbl.how.blacklisted": ("پیش از ارسال کنار گذاشته شد", "filtered before sending"),
    "pbl.how.blocked": (
        "مخابرات مسدود گزارش کرد",
        "reported blocked by the provider",
    ),
    # --- archived -------------------------------------------------------------------------
    "arc.title": ("بایگانی شده ها", "Archived"),
    "arc.none": ("هیچ کمپینی بایگانی نشده است.", "No campaign is archived."),
    "arc.note": (
        "هیچ کمپینی حذف نمی‌شود؛ کمپین بایگانی‌شده با گزارش‌هایش اینجا می‌ماند و می‌تواند "
        "به پیشخوان برگردد.",
        "Nothing deletes a campaign: an archived one stays here with its reports and can "
        "come back to the dashboard.",
    ),
    # --- recipient lists and blacklist ---------------------------------------------------
    "lists.title": ("لیست‌های مخاطبان", "Recipient lists"),
    "lists.import": ("ورود لیست مخاطبان", "Import a recipient list"),
    "lists.file": (
        "فایل (CSV، TSV، متن یا Excel؛ هر کدگذاری و جداکننده‌ای)",
        "File (CSV, TSV, text or Excel; any encoding and delimiter)",
    ),
    "lists.name": ("نام لیست", "List name"),
    "lists.column": ("ستون شماره (اختیاری)", "Number column (optional)"),
    "lists.column_help": (
        "خالی: ستونی که بیشتر مقدارهایش شماره موبایل معتبر است؛ ستون‌های دیگر ویژگی‌های "
        "مخاطب می‌شوند.",
        "Empty: the column where most values are valid mobile numbers; the other columns "
        "become the recipients' attributes.",
    ),
    "lists.replace": ("جایگزینی لیست هم‌نام", "Replace a list of the same name"),
    "lists.do_import": ("ورود", "Import"),
    "lists.imported": (
        "لیست «{name}»: {total} سطر، {valid} شماره معتبر، {invalid} نامعتبر، {duplicates} تکراری.",
        "List “{name}”: {total} rows, {valid} valid numbers, {invalid} invalid, "
        "{duplicates} duplicates.",
    ),
    "lists.samples": ("نمونه سطرهای نامعتبر", "Samples of invalid lines"),
    "lists.line": ("سطر", "Line"),
    "lists.raw": ("مقدار", "Value"),
    "lists.existing": ("لیست‌های موجود", "Lists"),
    "lists.total": ("سطرها", "Rows"),
    "lists.valid": ("معتبر", "Valid"),
    "lists.invalid": ("نامعتبر", "Invalid"),
    "lists.duplicates": ("تکراری", "Duplicates"),
    "lists.source_file": ("فایل", "File"),
    "lists.need_file": ("ابتدا فایلی انتخاب کنید.", "Choose a file first."),
    # --- recipient files: the import preview (issue 10) -----------------------------------
    "imp.preview": ("پیش‌نمایش", "Preview"),
    "imp.how_text": (
        "فایل متنی، کدگذاری {encoding}، جداکننده {delimiter}",
        "text file, encoding {encoding}, delimiter {delimiter}",
    ),
    "imp.how_excel": (
        "کاربرگ «{sheet}» (برگه‌ها: {sheets})",
        "workbook, sheet “{sheet}” (sheets: {sheets})",
    ),
    "imp.delim.tab": ("تب", "tab"),
    "imp.delim.none": ("ندارد (یک مقدار در هر سطر)", "none (one value a line)"),
    "imp.header": ("سطر عنوان: {line}", "header row: line {line}"),
    "imp.no_header": ("بدون سطر عنوان", "no header row"),
    "imp.number_column": ("ستون شماره: «{column}»", "number column: “{column}”"),
    "imp.attributes": ("ویژگی‌های مخاطب: {columns}", "recipient attributes: {columns}"),
    "imp.none": ("ندارد", "none"),
    "imp.rows": ("سطرها", "Rows"),
    "imp.valid": ("شماره معتبر", "Valid numbers"),
    "imp.invalid": ("نامعتبر", "Invalid"),
    "imp.duplicates": ("تکراری در فایل", "Duplicates in the file"),
    "imp.blacklisted": ("در لیست سیاه", "On the blacklist"),
    "imp.first_rows": (
        "نخستین سطرها، همان‌گونه که خوانده می‌شوند",
        "First rows, as they will be read",
    ),
    "imp.as_written": ("نوشته‌شده", "As written"),
    "imp.number": ("شماره", "Number"),
    "imp.confirm": ("تأیید و ورود", "Confirm and import"),
    "imp.sheet": ("برگه (اختیاری)", "Sheet (optional)"),
    "imp.sheet_help": (
        "خالی: برگه‌ای که شماره موبایل دارد.",
        "Empty: the sheet holding mobile numbers.",
    ),
    "imp.accept_invalid": (
        "ورود حتی اگر بیشتر سطرها نامعتبر باشند",
        "Import even if most rows are invalid",
    ),
    "imp.name_help": ("خالی: نام فایل.", "Empty: the file's name."),
    "bl.title": ("لیست سیاه مخابراتی", "Telecom blacklist"),
    "bl.size": ("شماره در لیست سیاه", "Numbers on the blacklist"),
    "bl.import": ("ورود لیست سیاه", "Import the blacklist"),
    "bl.imported": (
        "{added} شماره افزوده شد، {already} از قبل بود، {invalid} نامعتبر.",
        "{added} numbers added, {already} were already there, {invalid} invalid.",
    ),
    "bl.check": ("بررسی یک شماره", "Check a number"),
    "bl.check_do": ("بررسی", "Check"),
    "bl.listed": (
        "{number} در لیست سیاه است (از {source}، {when}).",
        "{number} is on the blacklist (from {source}, {when}).",
    ),
    "bl.not_listed": ("{number} در لیست سیاه نیست.", "{number} is not on the blacklist."),
    # --- credit ---------------------------------------------------------------------------
    "cr.title": ("اعتبار", "Credit"),
    "cr.balance": ("موجودی", "Balance"),
    "cr.topup": ("افزایش اعتبار", "Top up"),
    "cr.amount": ("مبلغ ({currency})", "Amount ({currency})"),
    "cr.note": ("توضیح", "Note"),
    "cr.do_topup": ("افزایش اعتبار", "Top up"),
    "cr.done": (
        "اعتبار افزایش یافت؛ موجودی تازه: {balance}",
        "Credit added; new balance: {balance}",
    ),
    "cr.ledger": ("گردش حساب", "Ledger"),
    "cr.kind": ("نوع", "Kind"),
    "kind.topup": ("افزایش اعتبار", "top-up"),
    "kind.charge": ("هزینه ارسال", "charge"),
    "kind.refund": ("بازگشت وجه", "refund"),
    "kind.hold": ("رزرو", "hold"),
    "kind.released": ("آزادسازی رزرو", "released hold"),
    # --- issue 12: resend, test send, the suppression ledger and replies ------------------
    "nav.optout": ("لغو و پاسخ‌ها", "Opt-outs & replies"),
    "mode.resend": ("ارسال مجدد به نرسیده‌ها", "resend to undelivered"),
    "mstate.opted_out": ("لغو عضویت", "opted out"),
    "mstate.suppressed": ("مسدود دستی", "suppressed"),
    "mstate.capped": ("سقف ارسال", "capped"),
    "fig.opted out": ("لغو عضویت", "Opted out"),
    "fig.capped": ("سقف ارسال", "Capped"),
    "bx.resend": ("ارسال مجدد به نرسیده‌ها", "Resend to undelivered"),
    "bx.settle_numbers": (
        "شماره‌های ارسال‌شده‌ی دسته {batch} طبق گزارش بسته‌ها (pack)",
        "Numbers of batch {batch} the pack report shows as sent",
    ),
    "bx.settle_help": (
        "گزارش بسته‌ها را در پنل سرویس‌دهنده ببینید؛ هر شماره‌ای که آنجا ارسال شده "
        "آمده را اینجا بنویسید. خالی یعنی هیچ‌کدام نرفته است.",
        "Read the pack report in the provider's panel and list every number it "
        "shows as sent. Empty: none went out.",
    ),
    "bx.settle": ("تعیین تکلیف دسته {batch}", "Settle batch {batch}"),
    "bx.settled": (
        "{sent} پیام ارسال‌شده ثبت شد ({cost} ریال)؛ {back} پیام با «بازسازی» ارسال می‌شود.",
        "{sent} messages recorded as sent ({cost} Rial); {back} go out with Rebuild.",
    ),
    "bx.test_numbers": ("شماره‌های آزمایشی (۱ تا ۵)", "Test numbers (1 to 5)"),
    "bx.test_send": ("ارسال آزمایشی", "Test send"),
    "bx.test_done": (
        "ارسال آزمایشی به {n} شماره انجام شد؛ هزینه {cost} ریال. متن: {text}",
        "Test sent to {n} number(s); cost {cost} Rials. Text: {text}",
    ),
    "ox.title": ("لغو و پاسخ‌ها", "Opt-outs and replies"),
    "ox.intro": (
        "دفتر همه‌ی دلایل ارسال نشدن به یک شماره؛ هیچ ردیفی پاک نمی‌شود "
        "و بازگشت عضویت ردیف تازه‌ای است.",
        "Every reason a number is not sent to; nothing is deleted, and an opt-in is a new row.",
    ),
    "ox.kind": ("نوع", "Kind"),
    "ox.kind.telecom_blacklist": ("لیست سیاه مخابراتی", "Telecom blacklist"),
    "ox.kind.provider_blocked": ("مسدود توسط سرویس‌دهنده", "Blocked by the provider"),
    "ox.kind.opted_out": ("لغو عضویت", "Opted out"),
    "ox.kind.manual": ("مسدود دستی", "Suppressed by hand"),
    "ox.kind.opted_in": ("بازگشت عضویت", "Opted back in"),
    "ox.number": ("شماره", "Number"),
    "ox.scope": ("دامنه", "Scope"),
    "ox.source": ("منبع", "Source"),
    "ox.campaign": ("برنامه", "Campaign"),
    "ox.when": ("زمان", "When"),
    "ox.line": ("خط ارسال", "Sender line"),
    "ox.line_or_all": ("خط ارسال (خالی: همه)", "Sender line (empty: all)"),
    "ox.check": ("بررسی شماره", "Check a number"),
    "ox.do_check": ("بررسی", "Check"),
    "ox.free": ("{number} مسدود نیست.", "{number} is not suppressed."),
    "ox.barred": ("{number}: {status}", "{number}: {status}"),
    "ox.add": ("افزودن دستی", "Add by hand"),
    "ox.do_add": ("افزودن", "Add"),
    "ox.added": ("{number} ثبت شد: {kind} ({scope})", "{number} added: {kind} ({scope})"),
    "ox.inbox": ("پاسخ‌ها", "Replies"),
    "ox.sync": ("خواندن پاسخ‌های تازه", "Read new replies"),
    "ox.synced": (
        "{new} پاسخ تازه: {out} لغو، {into} بازگشت، {other} دیگر",
        "{new} new replies: {out} opted out, {into} opted in, {other} other",
    ),
    "ox.reply_kind": ("نوع پاسخ", "Reply kind"),
    "ox.reply.opt_out": ("لغو", "opt-out"),
    "ox.reply.opt_in": ("بازگشت", "opt-in"),
    "ox.reply.other": ("دیگر", "other"),
    "ox.text": ("متن", "Text"),
    "pbl.how.opted_out": (
        "لغو عضویت؛ پیش از ارسال کنار گذاشته شد",
        "opted out: filtered before sending",
    ),
    "pbl.how.suppressed": (
        "مسدود دستی؛ پیش از ارسال کنار گذاشته شد",
        "suppressed by hand: filtered before sending",
    ),
}

CURRENCY_FA: Final[dict[str, str]] = {"Rial": "ریال", "Rials": "ریال", "Toman": "تومان"}


def lang() -> Lang:
    """The language of this session (Persian unless the sidebar switch says otherwise)."""
    try:
        value = st.session_state.get("lang", DEFAULT_LANG)
    except Exception:  # outside a Streamlit session (plain unit use)
        value = DEFAULT_LANG
    return "en" if value == "en" else "fa"


def is_rtl() -> bool:
    return lang() == "fa"


def t(key: str, /, **values: object) -> str:
    """The label ``key`` in the session's language, formatted with ``values``."""
    fa, en = LABELS[key]
    text = fa if lang() == "fa" else en
    return text.format(**values) if values else text


def has(key: str) -> bool:
    return key in LABELS


def digits(text: str) -> str:
    """Persian digits (and thousands separator) in Persian; unchanged in English."""
    return text.translate(FA_DIGITS) if lang() == "fa" else text


def num(value: int | float | None) -> str:
    """A whole number with thousands separators, in the session's digits."""
    if value is None:
        return t("none")
    return digits(f"{int(value):,}")


def currency() -> str:
    """The currency's name (a setting), in Persian where known."""
    name = get_settings().currency
    return CURRENCY_FA.get(name, name) if lang() == "fa" else name


def money(value: int | None) -> str:
    return f"{num(value)} {currency()}"


def in_currency(label: str) -> str:
    """A label for an amount shown without its currency: "Money spent (Rial)"."""
    return f"{label} ({currency()})"


def percent(done: int, total: int) -> str:
    share = 0 if total <= 0 else round(100 * done / total)
    return digits(f"{share}%") if lang() == "en" else digits(f"٪{share}")


def tz() -> ZoneInfo:
    return ZoneInfo(get_settings().timezone)


def when(value: datetime | None, *, seconds: bool = False) -> str:
    """A moment in the configured time zone: Jalali with Persian digits, or ISO-like."""
    if value is None:
        return t("none")
    if value.tzinfo is None:  # the store keeps UTC
        value = value.replace(tzinfo=UTC)
    return local_time_words(value.astimezone(tz()), lang(), seconds=seconds)


def campaign_status(value: str) -> str:
    key = f"cstatus.{value}"
    return t(key) if key in LABELS else value


def message_state(value: str) -> str:
    key = f"mstate.{value}"
    return t(key) if key in LABELS else value


def reason(why: Reason | None) -> str:
    """A refusal or stop reason of the core, in the session's language."""
    return "" if why is None else why.text(lang())


FIELD_LABELS: Final[dict[str, str]] = {
    "title": "title", "send_count": "send_count", "message": "message", "source": "source",
    "start_at": "schedule", "sender": "sender",
}  # fmt: skip


def error(exc: BaseException) -> str:
    """A core error in the session's language (its reason's text, with where it happened)."""
    text = getattr(exc, "text", None)
    return text(lang()) if callable(text) else str(exc)


def field_name(field: str) -> str:
    """A campaign field's label (title, send count, …)."""
    return t(FIELD_LABELS[field]) if field in FIELD_LABELS else field


def join(parts: list[str]) -> str:
    """Items of a one-line summary: the Persian comma in Persian, a bar in English (never a
    middle dot, which reads as the Persian zero ۰)."""
    return ("، " if lang() == "fa" else " | ").join(parts)


def operator(name: str | None) -> str:
    """An operator's name (MCI, Irancell, …) in the session's language."""
    if not name:
        return t("none")
    if name == "invalid":
        return message_state("invalid")
    return OPERATOR_NAMES_FA.get(name, name) if lang() == "fa" else name


def mode_name(mode: str) -> str:
    return t(f"mode.{mode}")


# ================================================================================================
# --- issue 11: the dashboard an analyst trusts (credit, live reports, audit, exports, dates) ---
# ================================================================================================

TRUST_LABELS: Final[dict[str, tuple[str, str]]] = {
    # --- credit against cost ----------------------------------------------------------------
    "price.balance": ("اعتبار فعلی", "Credit balance"),
    "price.per_message": ("هر پیام", "A message"),
    "price.per_message_value": (
        "{pages} صفحه، {cost} {currency}",
        "{pages} pages, {cost} {currency}",
    ),
    "price.send_count": (
        "با تعداد ارسال {n}: از {all} مخاطب، {n} نفر اول",
        "With a send count of {n}: the first {n} of {all} recipients",
    ),
    "price.short": (
        "هزینه این ارسال ({cost}) از اعتبار ({balance}) بیشتر است: اعتبار حدود {covered} "
        "پیام از {total} را پوشش می‌دهد و ارسال پس از آن نا تمام می‌ماند.",
        "This send costs {cost}, more than the credit ({balance}): the credit covers about "
        "{covered} of {total} messages, then the run stops unfinished.",
    ),
    "price.ok": ("اعتبار برای این ارسال کافی است.", "The credit covers this send."),
    "price.topup_link": ("افزایش اعتبار", "Top up the credit"),
    "send.confirm_title": ("پیش از {mode} «{title}»", "Before the {mode} of “{title}”"),
    "send.estimate": (
        "برآورد: {messages} پیام، {pages} صفحه، {cost}؛ اعتبار: {balance}.",
        "Estimate: {messages} messages, {pages} pages, {cost}; credit: {balance}.",
    ),
    "send.covered": ("ارسال به اندازه اعتبار", "Send what the credit covers"),
    "send.topup_first": ("اول افزایش اعتبار", "Top up first"),
    "send.go": ("بله، {mode} شود", "Yes, {mode}"),
    # --- live report ---------------------------------------------------------------------------
    "rep.rates": ("نرخ‌ها", "Rates"),
    "rate.delivered": ("نرخ دلیوری", "Delivered"),
    "rate.failed": ("نرخ نرسیده / ناموفق", "Undelivered / failed"),
    "rate.blocked": ("نرخ مسدود", "Blocked"),
    "rate.of_handed": ("از ارسال‌های موفق", "of those sent"),
    "rep.funnel": ("قیف ارسال", "Funnel"),
    "funnel.planned": ("برنامه‌ریزی شده", "Planned"),
    "funnel.handed": ("تحویل به سرویس‌دهنده", "Handed to the provider"),
    "funnel.delivered": ("دلیور شده", "Delivered"),
    "rep.live": (
        "این گزارش هنگام ارسال و دریافت وضعیت‌ها خودکار تازه می‌شود (آخرین: {when}).",
        "This report refreshes by itself while the run sends and statuses arrive (last: {when}).",
    ),
    "rep.hour": ("ساعت (تهران)", "Time (Tehran)"),
    "home.current_run": ("دور جاری", "Current run"),
    "home.all_runs": ("همه دورها", "All runs"),
    "home.delivered": ("دلیوری", "Delivered"),
    "home.totals": (
        "همه دورها ({runs}): {handed} ارسال، {delivered} دلیور شده ({rate})، {pages} صفحه، {cost}",
        "All runs ({runs}): {handed} sent, {delivered} delivered ({rate}), {pages} pages, {cost}",
    ),
    "home.current": (
        "دور جاری: {delivered} دلیور شده ({rate})، {pages} صفحه، {cost}",
        "Current run: {delivered} delivered ({rate}), {pages} pages, {cost}",
    ),
    # --- schedules ------------------------------------------------------------------------------
    "schedule.when": ("ارسال در {when} (به وقت تهران)", "Sends at {when} (Tehran time)"),
    "schedule.year": ("سال", "Year"),
    "schedule.month": ("ماه", "Month"),
    "schedule.day": ("روز", "Day"),
    "schedule.hour": ("ساعت", "Hour"),
    "schedule.minute": ("دقیقه", "Minute"),
    "schedule.outside": (
        "این زمان خارج از بازه ارسال خط {sender} ({window}) است؛ ارسال تا {opens} صبر می‌کند.",
        "This time is outside line {sender}'s sending window ({window}): the send waits "
        "until {opens}.",
    ),
    "schedule.past": ("این زمان گذشته است.", "This time is in the past."),
    "cut.cancelled": (
        "زمانبندی «{title}» قطع شد و چیزی ارسال نشده بود؛ می‌توانید زمان تازه‌ای بگذارید یا "
        "از «امکانات» آن را «ارسال» کنید.",
        "The schedule of “{title}” was cut before anything was sent: set a new time, or "
        "choose Send in its Features menu.",
    ),
    "cut.unfinished": (
        "زمانبندی «{title}» قطع شد؛ دور جاری نا تمام ماند و با «بازسازی برنامه نا تمام» "
        "از همان جا ادامه می‌یابد.",
        "The schedule of “{title}” was cut; the current run is unfinished and "
        "“Rebuild unfinished” continues it from where it stopped.",
    ),
    "schedule.cut_db_only": (
        "سرور Prefect پاسخ نمی‌دهد؛ اجرای زمانبندی‌شده با راه‌اندازی «chapar up» لغو می‌شود.",
        "No Prefect server answers: its scheduled run is cancelled when `chapar up` starts.",
    ),
    "cut.stopping": (
        "«{title}» پس از دسته در حال ارسال متوقف می‌شود؛ سپس با «بازسازی برنامه نا تمام» "
        "ادامه می‌یابد.",
        "“{title}” stops after the batch in flight; then “Rebuild unfinished” continues it.",
    ),
    # --- tables, audit, ledger -----------------------------------------------------------------
    "audit.create": ("ساخت", "created"),
    "audit.edit": ("ویرایش", "edited"),
    "audit.status": ("تغییر وضعیت", "status changed"),
    "audit.reset": ("ریست", "reset"),
    "audit.archive": ("بایگانی", "archived"),
    "audit.unarchive": ("خروج از بایگانی", "unarchived"),
    "audit.cut": ("قطع زمانبندی", "schedule cut"),
    "audit.stop_requested": ("درخواست توقف", "stop requested"),
    "field.status": ("وضعیت", "Status"),
    "field.reset_count": ("تعداد ریست", "Resets"),
    "field.archived": ("بایگانی", "Archived"),
    "field.schedule": ("زمانبندی ارسال", "Send schedule"),
    "field.start_at": ("زمانبندی ارسال", "Send schedule"),
    "ledger.note.topup": ("افزایش اعتبار", "top-up"),
    "ledger.note.charge": ("هزینه دسته {batch}", "charge of batch {batch}"),
    "ledger.note.refund": ("بازگشت وجه پیام‌های لغو یا مسدود", "refund of cancelled or blocked"),
    "bl.source.import": ("ورود فایل", "file import"),
    "bl.source.provider": ("گزارش سرویس‌دهنده", "provider report"),
    "upload.drop": ("فایل را اینجا رها کنید یا انتخاب کنید", "Drop a file here or browse"),
    "upload.limit": ("حداکثر {size} مگابایت", "up to {size} MB"),
    "upload.button": ("انتخاب فایل", "Browse files"),
    "choose": ("انتخاب کنید", "Choose"),
    "no": ("خیر", "No"),
    "pager.prev": ("قبلی", "Previous"),
    "pager.next": ("بعدی", "Next"),
    "pager.page": ("صفحه", "Page"),
    "pager.of": ("صفحه {page} از {pages}", "Page {page} of {pages}"),
    "int.bad": ("«{value}» عدد صحیح نیست.", "“{value}” is not a whole number."),
    # --- exports -------------------------------------------------------------------------------
    "export.lang": ("زبان فایل", "Language of the file"),
    "export.prepare": ("آماده‌سازی {fmt}", "Prepare {fmt}"),
    "export.progress": ("{done} از {total} ردیف", "{done} of {total} rows"),
    "export.ready": ("دریافت {name}", "Download {name}"),
    "export.failed": ("خروجی ساخته نشد: {error}", "The export failed: {error}"),
    "export.note": (
        "شماره‌ها به شکل ۰۹…، زمان‌ها به وقت تهران؛ عنوان و متن برنامه در سطرهای اول فایل.",
        "Numbers as 09…, times in Tehran time; the program's title and text in the first rows.",
    ),
    "export.excel_refused": (
        "{n} ردیف برای Excel زیاد است (حداکثر {max})؛ CSV را دریافت کنید.",
        "{n} rows are too many for Excel (at most {max}): download the CSV.",
    ),
    # --- first render (issue 11, point 8): the numbers table drawn when opened -----------------
    "rep.show_numbers": ("جدول شماره‌ها", "Table of numbers"),
}
LABELS.update(TRUST_LABELS)

JALALI_MONTHS: Final[tuple[str, ...]] = (
    "فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور",
    "مهر", "آبان", "آذر", "دی", "بهمن", "اسفند",
)  # fmt: skip
GREGORIAN_MONTHS: Final[tuple[str, ...]] = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip

_RTL_RANGES = ((0x0590, 0x08FF), (0xFB1D, 0xFDFF), (0xFE70, 0xFEFF))
_FSI, _PDI = "\u2068", "\u2069"


def _first_strong_rtl(text: str) -> bool | None:
    """True if the text's first strongly directional letter is right-to-left, False if
    left-to-right, None when it has none (digits, punctuation)."""
    for ch in text:
        code = ord(ch)
        if any(lo <= code <= hi for lo, hi in _RTL_RANGES):
            if ch.isalpha():
                return True
        elif ch.isalpha():
            return False
    return None


def isolate(text: str) -> str:
    """A user's text (a title, a list name) that runs against the page's direction, wrapped
    in Unicode isolates (FSI … PDI, what ``<bdi>`` does) so it cannot reorder what surrounds it:
    a Persian title in the English page, a Latin one in the Persian page."""
    rtl = _first_strong_rtl(text)
    if rtl is None or rtl == is_rtl():
        return text
    return f"{_FSI}{text}{_PDI}"


def rate(part: int, whole: int) -> str:
    """A share as a percentage with one decimal: "97.5%" / "۹۷٫۵٪"."""
    share = 0.0 if whole <= 0 else 100 * part / whole
    text = f"{share:.1f}".rstrip("0").rstrip(".")
    if lang() == "fa":
        return text.translate(str.maketrans("0123456789.", "۰۱۲۳۴۵۶۷۸۹٫")) + "٪"
    return f"{text}%"


def parse_int(text: str | None) -> int | None:
    """A whole number typed with Persian, Arabic or Latin digits and any separators; None
    for an empty field. Raises ValueError for anything else."""
    if text is None or not text.strip():
        return None
    cleaned = text.strip().translate(_TO_LATIN)
    for sep in (",", "٬", "،", " ", "_", "\u066b", "\u200c"):
        cleaned = cleaned.replace(sep, "")
    if not cleaned.isdigit():
        raise ValueError(text)
    return int(cleaned)


_TO_LATIN = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")


def hhmm(value: datetime) -> str:
    """Tehran wall-clock time, 24-hour, in the session's digits."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return digits(value.astimezone(tz()).strftime("%H:%M"))


def local_number(number: object) -> str:
    """A stored 98… number as people write it, 09…; anything else (an invalid line's raw
    text) as it is."""
    text = "" if number is None else str(number)
    if len(text) == 12 and text.startswith("98") and text.isdigit():
        text = "0" + text[2:]
    return text


def audit_action(action: str) -> str:
    key = f"audit.{action}"
    return t(key) if key in LABELS else action


def audit_field(field: str | None) -> str:
    if not field:
        return ""
    if f"field.{field}" in LABELS:
        return t(f"field.{field}")
    return field_name(field)


def audit_value(field: str | None, value: str | None) -> str:
    """An old or new value of the audit trail, stored as text, read back in the session's
    language: statuses by their label (with the reason in brackets), times in Jalali/Tehran,
    yes/no, numbers in the session's digits."""
    if value is None or value == "" or value == "None":
        return t("none")
    if field == "status" or (field == "schedule" and value in LABELS_STATUS):
        status, why = read_audit_status(value)
        text = campaign_status(status)
        return f"{text} ({reason(why)})" if why else text
    if value == "stop requested":
        return t("audit.stop_requested")
    if field in ("archived",) and value in ("True", "False", "true", "false"):
        return t("yes") if value.lower() == "true" else t("no")
    if field in ("start_at", "schedule"):
        try:
            return when(datetime.fromisoformat(value))
        except ValueError:
            return value
    if field in ("send_count", "reset_count") and value.isdigit():
        return num(int(value))
    return value


LABELS_STATUS: Final[frozenset[str]] = frozenset(
    {"draft", "scheduled", "sending", "completed", "unfinished", "cancelled"}
)


def actor(name: str) -> str:
    """Who did it: "root (dashboard)" reads "root (پیشخوان)" in Persian."""
    head, sep, _ = name.rpartition(" (dashboard)")
    if sep and lang() == "fa":
        return f"{head} ({t('nav.home')})"
    return name


def ledger_note(kind: str, note: str | None, run_no: int | None, batch_no: int | None) -> str:
    """A ledger entry's note: the user's own note for a top-up, else what the engine did,
    said from the entry's kind and keys (the engine's own notes are English)."""
    if kind == "topup":
        return note or ""
    if kind == "charge" and run_no is None:  # a test send's charge: a campaign's, never a run's
        kind = "test_send"
    key = f"ledger.note.{kind}"
    if key in LABELS:
        return t(key, batch=num(batch_no) if batch_no is not None else t("none"))
    return note or ""


def blacklist_source(source: str | None) -> str:
    """Where a blacklisted number came from ("import", "provider", …) in words."""
    if not source:
        return t("none")
    key = f"bl.source.{source}"
    return t(key) if key in LABELS else source


# ================================================================================================
# --- issue 12 in the dashboard (journey12): the preview on the sender line, defer capped,
# --- run kinds, the program blacklist's reasons ---
# ================================================================================================

BEYOND_LABELS: Final[dict[str, tuple[str, str]]] = {
    # --- the new-campaign preview on the sender line ---------------------------------------
    "bq.as_sent": ("متن همان‌طور که ارسال می‌شود", "The text as sent"),
    "bq.footer": (
        "پانویس لغو خط «{footer}» به انتهای هر پیام افزوده می‌شود و در صفحه و هزینه حساب است.",
        "The line's opt-out footer “{footer}” ends every message and counts in pages and cost.",
    ),
    "bq.pages_range": (
        "صفحه‌های هر گیرنده: کمینه {min}، بیشینه {max}",
        "Pages per recipient: fewest {min}, most {max}",
    ),
    "bq.samples": ("نمونه‌ی متن چند گیرنده", "Samples of recipients' texts"),
    "bq.sample": ("نمونه {n}", "Sample {n}"),
    "bq.opted_out": ("لغو عضویت در این خط", "Opted out on this line"),
    "bq.capped": ("در سقف ارسال", "At the frequency cap"),
    "bq.cap_rule": (
        "سقف ارسال این خط: حداکثر {n} پیام در {days} روز (به وقت تهران)",
        "This line's cap: at most {n} messages in {days} Tehran day(s)",
    ),
    "bq.cap_skips": (
        "{n} شماره هم‌اکنون در سقف ارسال است و پیامی نمی‌گیرد.",
        "{n} numbers are at the cap now and would be skipped.",
    ),
    "bq.cap_defers": (
        "{n} شماره هم‌اکنون در سقف ارسال است و وقتی سقفش آزاد شود ارسال می‌شود "
        "(هزینه‌اش در این پیش‌نمایش نیست).",
        "{n} numbers are at the cap now and are sent later, when their cap frees "
        "(not in this price).",
    ),
    "bq.no_sender": (
        "شماره خط ارسال را بنویسید تا پانویس لغو، لغوها و سقف ارسال آن خط در پیش‌نمایش حساب شود.",
        "Enter the sender line to count its opt-out footer, opt-outs and cap in the preview.",
    ),
    "bq.refused": (
        "این متن با این فهرست ساخته نمی‌شود: {reason}",
        "This text cannot be sent: {reason}",
    ),
    # --- the sender line's footer and cap ---------------------------------------------------
    "bq.line": ("پانویس لغو و سقف ارسال خط", "The line's opt-out footer and cap"),
    "bq.line_footer_on": ("افزودن پانویس لغو", "Add an opt-out footer"),
    "bq.line_footer_text": ("متن پانویس", "Footer text"),
    "bq.line_cap": ("سقف ارسال خط", "The line's frequency cap"),
    "bq.line_cap.default": ("پیش‌فرض تنظیمات", "The settings' default"),
    "bq.line_cap.none": ("بدون سقف", "No cap"),
    "bq.line_cap.own": ("سقف خود خط", "Its own cap"),
    "bq.line_cap_n": ("حداکثر پیام", "At most messages"),
    "bq.line_cap_days": ("در چند روز", "In days"),
    "bq.line_save": ("ذخیره تنظیمات خط", "Save the line's settings"),
    "bq.line_saved": ("تنظیمات خط {sender} ذخیره شد.", "Line {sender} saved."),
    "bq.line_now": ("اکنون: {footer}؛ {cap}", "Now: {footer}; {cap}"),
    "bq.line_no_footer": ("بدون پانویس", "no footer"),
    # --- defer capped ------------------------------------------------------------------------
    "bq.defer": (
        "ارسال بعدی به شماره‌های در سقف (وقتی سقف آزاد شود)",
        "Send capped numbers later (when their cap frees)",
    ),
    "bq.defer_help": (
        "بدون این گزینه، شماره‌های در سقف ارسال کنار گذاشته و شمرده می‌شوند؛ با آن، در ادامه‌ی "
        "همان دور وقتی سقفشان آزاد شود یک بار ارسال می‌شوند. از دور بعدی اعمال می‌شود.",
        "Without it, numbers at the cap are skipped and counted; with it, the same run sends "
        "them once, when their cap frees. Applies from the next run planned.",
    ),
    "bq.defer_saved": ("گزینه‌ی ارسال بعدی به شماره‌های در سقف ذخیره شد.", "Defer capped saved."),
    "field.defer_capped": ("ارسال بعدی به شماره‌های در سقف", "defer capped"),
    # --- run kinds -----------------------------------------------------------------------------
    "kind.run.send": ("ارسال نخست", "first send"),
    "kind.run.reset": ("ریست (همه از نو)", "reset (everyone again)"),
    "kind.run.resend": ("ارسال مجدد به نرسیده‌ها", "resend to undelivered"),
    "bq.run_with_kind": ("{run} — {kind}", "{run} — {kind}"),
    "bq.run_kind": ("نوع دور: {kind}", "Run kind: {kind}"),
    # --- the program blacklist's reasons ---------------------------------------------------------
    "pbl.reason.blacklisted": ("لیست سیاه مخابراتی", "Telecom blacklist"),
    "pbl.reason.blocked": ("مسدود توسط سرویس‌دهنده", "Blocked by the provider"),
    "pbl.reason.opted_out": ("لغو عضویت", "Opted out"),
    "pbl.reason.suppressed": ("مسدود دستی", "Added by hand"),
    "pbl.reason.capped": ("سقف ارسال", "Frequency cap"),
    "pbl.how.capped": (
        "در سقف ارسال؛ ارسال نشد",
        "at the frequency cap: not sent",
    ),
    # --- test sends in the ledger and the audit trail -------------------------------------------
    "audit.test_send": ("ارسال آزمایشی", "test send"),
    "field.numbers": ("شماره‌ها", "numbers"),
    "ledger.note.test_send": ("ارسال آزمایشی", "test send"),
}
LABELS.update(BEYOND_LABELS)


def run_kind(kind: str | None) -> str:
    """A run's kind (send, reset, resend) in words; an unknown one as it is."""
    key = f"kind.run.{kind or 'send'}"
    return t(key) if key in LABELS else str(kind)
