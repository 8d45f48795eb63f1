"""outbox wake-ups: NOTIFY monitor_outbox after rows are inserted (PostgreSQL)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 22:00:00

A statement-level trigger, so a transaction storing many alerts sends one notification
(PostgreSQL folds identical ones within a transaction anyway), delivered to listeners when
it commits: the rows are visible by then. Workers LISTEN (`monitor.storage.listen`) and
deliver at once. Nothing on SQLite, which has no LISTEN.
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        """
        CREATE OR REPLACE FUNCTION monitor_outbox_notify() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('monitor_outbox', '');
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
        FOR EACH STATEMENT EXECUTE FUNCTION monitor_outbox_notify()
        """
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS outbox_notify ON outbox")
    op.execute("DROP FUNCTION IF EXISTS monitor_outbox_notify()")
