"""accounts, audit log and alert triage

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 07:00:00

Users (argon2 password hashes), API tokens and console sessions (only the SHA-256 of the
random secret is stored), the audit log of every change made through a face, and the
triage state of each alert (new | acknowledged | dismissed | false_positive, with who, when
and a note). Existing alerts start as `new`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from monitor.storage.tables import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(
            sa.Column("triage_state", sa.String(16), nullable=False, server_default="new")
        )
        batch.add_column(sa.Column("triage_note", sa.Text))
        batch.add_column(sa.Column("triage_by", sa.Text))
        batch.add_column(sa.Column("triage_at", UTCDateTime))
        batch.create_index("ix_alerts_triage_state", ["triage_state", "created_at"])
    op.create_table(
        "users",
        _id(),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("password_changed_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("name", name="uq_users_name"),
    )
    _create_credentials()
    op.create_table(
        "audit_log",
        _id(),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("before", sa.JSON),
        sa.Column("after", sa.JSON),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_target", "audit_log", ["target", "at"])


def _create_credentials() -> None:
    user_id = sa.Column(
        "user_id",
        sa.BigInteger,
        sa.ForeignKey("users.id", ondelete="CASCADE", name="fk_credentials_user_id_users"),
        nullable=False,
    )
    op.create_table(
        "api_tokens",
        _id(),
        user_id,
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime),
        sa.Column("revoked_at", UTCDateTime),
        sa.Column("last_used_at", UTCDateTime),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
    )
    op.create_table(
        "sessions",
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sa.Column(
            "user_id",
            sa.BigInteger,
            sa.ForeignKey("users.id", ondelete="CASCADE", name="fk_sessions_user_id_users"),
            nullable=False,
        ),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_sessions_user_id", "sessions", ["user_id"])


def downgrade() -> None:
    op.drop_table("audit_log")
    op.drop_table("sessions")
    op.drop_table("api_tokens")
    op.drop_table("users")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_index("ix_alerts_triage_state")
        for column in ("triage_at", "triage_by", "triage_note", "triage_state"):
            batch.drop_column(column)
