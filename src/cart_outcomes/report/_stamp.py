"""Time stamps of written documents, reproducible by default (the reproducible-builds ``SOURCE_DATE_EPOCH`` rule).

Reruns of the same plan on the same data give byte-identical files, so no output carries the clock time. The
generation time is stated once: the plan's ``report.date`` when given, else ``SOURCE_DATE_EPOCH`` (seconds since
1970-01-01 UTC) when set, else none (the footer says how to record one). Documents that must hold a time inside
(xlsx/docx properties, zip entries) get that time, or :data:`FIXED_TIME` when there is none.
"""

from __future__ import annotations

import datetime as dt
import os
import zipfile
from pathlib import Path

from cart_outcomes.errors import InputError

__all__ = ["FIXED_TIME", "document_time", "generation_time", "normalise_zip"]

#: Time written inside documents when no generation time is stated (the earliest a zip entry can record).
FIXED_TIME = dt.datetime(1980, 1, 1, tzinfo=dt.UTC)


def generation_time(stated: dt.date | None = None) -> dt.datetime | None:
    """The generation time: ``stated`` (midnight UTC of the plan's ``report.date``), else ``SOURCE_DATE_EPOCH``,
    else ``None``. A ``SOURCE_DATE_EPOCH`` that is not a whole number of seconds is an
    :class:`~cart_outcomes.errors.InputError`."""
    if isinstance(stated, dt.datetime):
        return stated if stated.tzinfo else stated.replace(tzinfo=dt.UTC)
    if isinstance(stated, dt.date):
        return dt.datetime(stated.year, stated.month, stated.day, tzinfo=dt.UTC)
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is None or not epoch.strip():
        return None
    try:
        return dt.datetime.fromtimestamp(int(epoch.strip()), dt.UTC)
    except (ValueError, OverflowError, OSError):
        raise InputError(f"SOURCE_DATE_EPOCH must be a whole number of seconds since 1970-01-01, got {epoch!r}") \
            from None


def document_time(stated: dt.date | None = None) -> dt.datetime:
    """The time to write inside a document: :func:`generation_time`, or :data:`FIXED_TIME`."""
    return max(generation_time(stated) or FIXED_TIME, FIXED_TIME)


_COMPRESSED = (".png", ".jpeg", ".jpg", ".gif")


def normalise_zip(path: str | Path, when: dt.datetime) -> Path:
    """Rewrite a zip container (docx, xlsx) with every entry stamped ``when``, in the same order, deflated (images at
    the fastest level: they are compressed already, level 1 gains as much on them as the default, in 80% of the
    time)."""
    path = Path(path)
    stamp = when.astimezone(dt.UTC).timetuple()[:6]
    with zipfile.ZipFile(path) as src:
        entries = [(info.filename, src.read(info)) for info in src.infolist()]
    with zipfile.ZipFile(path, "w") as dst:
        for name, data in entries:
            info = zipfile.ZipInfo(name, stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            dst.writestr(info, data, compresslevel=1 if name.endswith(_COMPRESSED) else None)
    return path
