"""Photos attached to reports: recorded at once, fetched from WeCom's media API in the background.

A WeCom media_id lives three days, so a fetch that fails is retried (by `retry_photos`) until it
works, or the id has expired.
"""

from __future__ import annotations

import logging
import mimetypes
import os
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import and_, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bot.db.models import Report, ReportPhoto

if TYPE_CHECKING:
    from bot.context import Services

log = logging.getLogger(__name__)
PHOTO_WINDOW = timedelta(minutes=10)
MEDIA_LIFETIME = timedelta(days=3)
MAX_ATTEMPTS = 20
STALE_PENDING = timedelta(minutes=2)
EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp"}


def recent_report(session: Session, userid: str, now: datetime) -> Report | None:
    """The user's latest active report created within the photo window."""
    return session.scalar(
        select(Report).where(Report.userid == userid, Report.status == "active",
                             Report.created_at >= now - PHOTO_WINDOW)
        .order_by(Report.created_at.desc(), Report.id.desc()).limit(1)
    )


def attach_photo(session: Session, report: Report, media_id: str, msg_key: str,
                 now: datetime) -> tuple[ReportPhoto, bool]:
    """Record the photo once per message (unique msg_key); returns (photo, created)."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(ReportPhoto).values(report_id=report.id, media_id=media_id, msg_key=msg_key, status="pending",
                                      attempts=0, created_at=now).on_conflict_do_nothing(index_elements=["msg_key"])
    new_id = session.execute(stmt.returning(ReportPhoto.id)).scalar()
    photo = session.get(ReportPhoto, new_id) if new_id is not None else session.scalar(
        select(ReportPhoto).where(ReportPhoto.msg_key == msg_key))
    assert photo is not None
    return photo, new_id is not None


def photo_count(session: Session, report_id: int) -> int:
    return len(session.scalars(select(ReportPhoto.id).where(ReportPhoto.report_id == report_id)).all())


def photos_dir(services: Services) -> Path:
    return Path(services.settings.data_dir) / "photos"


_in_flight: set[int] = set()
_in_flight_lock = threading.Lock()


def fetch_photo(services: Services, photo_id: int) -> bool:
    """Download one photo with the sender and keep it under data_dir/photos; True when stored.

    One fetch per photo at a time in this process; a failure never overwrites a stored photo.
    """
    with _in_flight_lock:
        if photo_id in _in_flight:
            return False
        _in_flight.add(photo_id)
    try:
        return _fetch(services, photo_id)
    finally:
        with _in_flight_lock:
            _in_flight.discard(photo_id)


def _fetch(services: Services, photo_id: int) -> bool:
    from bot.wecom.sender import MediaError

    db = services.db
    with db.session() as session:
        photo = session.get(ReportPhoto, photo_id)
        if photo is None or photo.status == "fetched":
            return photo is not None
        media_id, report_id = photo.media_id, photo.report_id
    try:
        content, content_type = services.sender.get_media(media_id)
    except (MediaError, OSError) as exc:
        with db.session() as session:
            photo = session.get(ReportPhoto, photo_id)
            if photo is not None and photo.status != "fetched":  # another process may have stored it meanwhile
                photo.attempts += 1
                photo.status = "failed"
                photo.error = f"{exc.__class__.__name__}: {exc}"[:500]
        log.warning("photo %s (media %s) fetch failed: %s", photo_id, media_id, exc)
        return False
    ext = EXTENSIONS.get(content_type) or mimetypes.guess_extension(content_type or "") or ".bin"
    now = services.clock.now()
    target = photos_dir(services) / now.strftime("%Y-%m") / f"report{report_id}-photo{photo_id}{ext}"
    _write_durably(target, content)
    with db.session() as session:
        photo = session.get(ReportPhoto, photo_id)
        if photo is not None:
            photo.attempts += 1
            photo.status = "fetched"
            photo.path = str(target)
            photo.content_type = content_type
            photo.size = len(content)
            photo.error = None
            photo.fetched_at = now
    return True


def _write_durably(target: Path, content: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(target.suffix + ".part")
    with open(tmp, "wb") as f:
        f.write(content)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, target)


def fetch_then_retry(services: Services, photo_id: int) -> None:
    """The background job after a new photo: fetch it, then give earlier failures another go."""
    fetch_photo(services, photo_id)
    retry_photos(services)


def retry_photos(services: Services) -> tuple[int, int]:
    """Fetch photos still pending or failed whose media id has not expired; returns (stored, still failing)."""
    now = services.clock.now()
    with services.db.session() as session:
        ids = session.scalars(
            select(ReportPhoto.id).where(
                # a fresh pending photo is being fetched by its own job; only stale ones are retried here
                or_(ReportPhoto.status == "failed",
                    and_(ReportPhoto.status == "pending", ReportPhoto.created_at < now - STALE_PENDING)),
                ReportPhoto.attempts < MAX_ATTEMPTS,
                ReportPhoto.created_at >= now - MEDIA_LIFETIME,
            ).order_by(ReportPhoto.id)
        ).all()
    ok = sum(1 for pid in ids if fetch_photo(services, pid))
    return ok, len(ids) - ok
