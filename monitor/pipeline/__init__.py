"""Pipeline stages: fetch, parse, extract, dedupe, match. No storage or notify imports."""
