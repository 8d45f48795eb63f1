"""The REST API under `/api/v1`: one router per resource, each route one use-case call."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1")
