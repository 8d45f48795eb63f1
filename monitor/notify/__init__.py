"""Alert delivery: notifiers (log, email, webhook) and the outbox worker."""
