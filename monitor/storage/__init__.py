"""Storage: tables, engine and repository over SQLite and PostgreSQL."""
