"""SQLAlchemy 2 models. Every schema change here needs an Alembic migration in migrations/versions."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


class Person(Base):
    """A member of the office's roster: a village liaison or an office admin."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    userid: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    village: Mapped[str] = mapped_column(String(128), nullable=False, default="")
    role: Mapped[str] = mapped_column(String(16), nullable=False, default="liaison")  # liaison | admin
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=utcnow, onupdate=utcnow
    )

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class InboundMessage(Base):
    """The inbound message log: one row per distinct WeCom message (unique msg_key)."""

    __tablename__ = "inbound_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    msg_key: Mapped[str] = mapped_column(String(160), unique=True, nullable=False)
    userid: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    msg_type: Mapped[str] = mapped_column(String(16), nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False, default="")
    reply: Mapped[str | None] = mapped_column(Text, nullable=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)


class Task(Base):
    """A recurring or one-off obligation from the plan, with a target count per period."""

    __tablename__ = "tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    title: Mapped[str] = mapped_column(String(128), nullable=False)
    keywords: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    # weekly | semimonthly | monthly | quarterly | half-yearly | yearly | once
    cadence: Mapped[str] = mapped_column(String(16), nullable=False)
    target: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    due_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    # day of the period's last month by which the count is due; None: the period's last day
    deadline_day: Mapped[int | None] = mapped_column(Integer, nullable=True)
    audience: Mapped[str] = mapped_column(String(16), nullable=False, default="liaisons")  # liaisons | office | other
    audience_filter: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    reminder_stages: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    source_doc: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    source_section: Mapped[str] = mapped_column(String(512), nullable=False, default="")
    source_text: Mapped[str] = mapped_column(Text, nullable=False, default="")
    source_file: Mapped[str] = mapped_column(String(255), nullable=False, default="", server_default="")
    # proposed (read from a plan, not yet approved) | active | inactive; `active` is status == "active"
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="active", server_default="active")
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=utcnow, onupdate=utcnow
    )


class Report(Base):
    """One activity a liaison reported through chat."""

    __tablename__ = "reports"
    __table_args__ = (Index("ix_reports_user_date", "userid", "activity_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    userid: Mapped[str] = mapped_column(String(64), nullable=False)
    village: Mapped[str] = mapped_column(String(128), nullable=False, default="")
    activity_date: Mapped[date] = mapped_column(Date, nullable=False)
    activity: Mapped[str] = mapped_column(Text, nullable=False)
    participants: Mapped[int | None] = mapped_column(Integer, nullable=True)
    participants_text: Mapped[str | None] = mapped_column(String(64), nullable=True)  # 十五六个人, as written
    summary: Mapped[str | None] = mapped_column(String(255), nullable=True)  # <= 200 chars of the activity
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"), nullable=True, index=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="active")  # active | withdrawn
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)  # for 恢复
    source_msg_key: Mapped[str | None] = mapped_column(String(160), unique=True, nullable=True)
    raw_text: Mapped[str] = mapped_column(Text, nullable=False, default="")  # the whole message
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=utcnow, onupdate=utcnow
    )

    task: Mapped[Task | None] = relationship(lazy="joined")
    photos: Mapped[list[ReportPhoto]] = relationship(back_populates="report", order_by="ReportPhoto.id")


class ReportPhoto(Base):
    """A photo attached to a report; fetched from WeCom's media API in the background."""

    __tablename__ = "report_photos"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"), nullable=False, index=True)
    media_id: Mapped[str] = mapped_column(String(255), nullable=False)
    msg_key: Mapped[str] = mapped_column(String(160), unique=True, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")  # pending|fetched|failed
    path: Mapped[str | None] = mapped_column(String(512), nullable=True)
    content_type: Mapped[str | None] = mapped_column(String(64), nullable=True)
    size: Mapped[int | None] = mapped_column(Integer, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    fetched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    report: Mapped[Report] = relationship(back_populates="photos")


class ReportAudit(Base):
    """Audit trail of report creation, corrections and withdrawals."""

    __tablename__ = "report_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"), nullable=False, index=True)
    userid: Mapped[str] = mapped_column(String(64), nullable=False)
    action: Mapped[str] = mapped_column(String(16), nullable=False)  # create | update | withdraw
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)


class ReminderDelivery(Base):
    """One reminder to one person for one task, period and stage: the exactly-once log."""

    __tablename__ = "reminder_deliveries"
    __table_args__ = (UniqueConstraint("task_id", "userid", "period_key", "stage", name="uq_reminder_once"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), nullable=False)
    userid: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    period_key: Mapped[str] = mapped_column(String(32), nullable=False)
    stage: Mapped[str] = mapped_column(String(32), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")  # pending|sent|failed|invalid
    done: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    target: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    batch_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)  # reminder_batches.id


class ReminderBatch(Base):
    """One send_text call as it will be (or was) made: recipients and text, so a crash mid-pass can be
    resolved by repeating the identical request, which WeCom's duplicate check turns into a no-op for
    anyone who already got it. Status: queued -> sending -> done (or recovering -> done)."""

    __tablename__ = "reminder_batches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="queued", index=True)
    users: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    duplicate_interval_s: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class UnansweredQuestion(Base):
    """A question the knowledge base could not answer, kept for the office to review."""

    __tablename__ = "unanswered_questions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    userid: Mapped[str] = mapped_column(String(64), nullable=False)
    question: Mapped[str] = mapped_column(Text, nullable=False)
    best_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    best_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)


class AnswerFeedback(Base):
    """A user's 有用/没用 on an answer."""

    __tablename__ = "answer_feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    userid: Mapped[str] = mapped_column(String(64), nullable=False)
    question: Mapped[str] = mapped_column(Text, nullable=False)
    doc: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    section: Mapped[str] = mapped_column(String(512), nullable=False, default="")
    answer_text: Mapped[str] = mapped_column(Text, nullable=False, default="")
    helpful: Mapped[bool] = mapped_column(Boolean, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)


class AdminAudit(Base):
    """One action an office admin took on the web console: who, what, on what, when."""

    __tablename__ = "admin_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor: Mapped[str] = mapped_column(String(64), nullable=False)
    action: Mapped[str] = mapped_column(String(48), nullable=False, index=True)
    target: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    client: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)


class CardFallbackUser(Base):
    """A member whose client rejected a template card (e.g. the WeChat plugin): sent text from then on."""

    __tablename__ = "card_fallback_users"

    userid: Mapped[str] = mapped_column(String(64), primary_key=True)
    errcode: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    since: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)


class ReminderSnooze(Base):
    """明天再提醒: one person's reminder for one task, period and stage, deferred once to `until`."""

    __tablename__ = "reminder_snoozes"
    __table_args__ = (UniqueConstraint("task_id", "userid", "period_key", "stage", name="uq_snooze_once"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), nullable=False)
    userid: Mapped[str] = mapped_column(String(64), nullable=False)
    period_key: Mapped[str] = mapped_column(String(32), nullable=False)
    stage: Mapped[str] = mapped_column(String(32), nullable=False)
    until: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AnswerLink(Base):
    """What the office and liaisons taught the knowledge base: a (normalised) question answered by one
    clause, or marked "not in our plans" (verdict `none`, no clause). The clause is named by document
    and text, so the link survives reloads and is re-found when a plan is edited (status `orphaned`,
    with a note, once its clause is gone). `weight` is the net of picks, 有用 (+1) and 没用 (-1); an
    office link starts high. One table shared by every process (see knowledge.learning)."""

    __tablename__ = "answer_links"
    __table_args__ = (UniqueConstraint("question_key", "verdict", "clause_key", name="uq_answer_links"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question_key: Mapped[str] = mapped_column(String(255), nullable=False, index=True)
    question: Mapped[str] = mapped_column(Text, nullable=False)
    verdict: Mapped[str] = mapped_column(String(16), nullable=False)  # clause | none
    doc: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    clause_text: Mapped[str] = mapped_column(Text, nullable=False, default="")
    clause_key: Mapped[str] = mapped_column(String(64), nullable=False, default="")  # sha1 of doc + text
    weight: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    source: Mapped[str] = mapped_column(String(16), nullable=False, default="user")  # user | office
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="active")  # active | orphaned
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
