"""Article extraction on real pages: the 60-page corpus through the real process pool, the
bundled demo pages (body kept, boilerplate dropped), windows-1256 pages, empty pages."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import trafilatura

from monitor.demo_server import file_for, load_manifest
from monitor.errors import ExtractError
from monitor.pipeline.extract import extract_article
from monitor.pipeline.extractor import Extractor

CORPUS = Path(__file__).parent.parent / "fixtures" / "corpus"
DEMO = Path(__file__).parent.parent.parent / "monitor" / "demo_data"
BASE = "http://127.0.0.1:8765"
ROOT = Path(__file__).resolve().parents[2]
_TOKEN = re.compile(r"\w+")


def token_f1(truth: str, predicted: str) -> float:
    """Bag-of-words F1 between the ground-truth body and the extracted text."""
    expected = Counter(_TOKEN.findall(truth.lower()))
    got = Counter(_TOKEN.findall(predicted.lower()))
    overlap = sum((expected & got).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(got.values()), overlap / sum(expected.values())
    return 2 * precision * recall / (precision + recall)


def corpus() -> list[tuple[str, bytes, dict[str, str]]]:
    truth = json.loads((CORPUS / "ground-truth.json").read_text("utf-8"))
    pages = sorted(CORPUS.glob("*.html.gz"))
    return [
        (p.name.split(".")[0], gzip.decompress(p.read_bytes()), truth[p.name.split(".")[0]])
        for p in pages
    ]


async def test_corpus_f1_through_the_process_pool() -> None:
    pages = corpus()
    assert len(pages) == 60
    async with Extractor(workers=2) as extractor:
        results = await asyncio.gather(
            *(extractor.extract(html, url=gt["url"]) for _, html, gt in pages)
        )
    scores = [
        token_f1(gt["articleBody"], got.text)
        for (_, _, gt), got in zip(pages, results, strict=True)
    ]
    assert statistics.mean(scores) >= 0.93
    assert sum(1 for got in results if got.title) == 60


def test_our_processing_loses_nothing_against_trafilatura_alone() -> None:
    for page_id, html, gt in corpus():
        ours = extract_article(html, url=gt["url"]).text
        plain = trafilatura.extract(html.decode("utf-8"), fast=True, include_comments=False) or ""
        truth = gt["articleBody"]
        assert token_f1(truth, ours) >= token_f1(truth, plain) - 1e-9, page_id


def demo_pages() -> list[dict[str, Any]]:
    return list(load_manifest()["pages"])


def serve_demo_page(page: dict[str, Any]) -> tuple[bytes, str | None]:
    body = (DEMO / file_for(page["path"])).read_bytes().replace(b"{{BASE}}", BASE.encode())
    charset = page["content_type"].partition("charset=")[2] or None
    return body, charset


def squeeze(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("page", demo_pages(), ids=lambda p: p["path"])
def test_demo_page_keeps_the_body_and_drops_the_boilerplate(page: dict[str, Any]) -> None:
    html, charset = serve_demo_page(page)
    got = extract_article(html, url=f"{BASE}/{page['path']}", charset=charset)
    text = squeeze(got.text)
    for phrase in page["body_phrases"]:
        assert phrase in text
    for phrase in page["boilerplate"]:
        assert phrase not in text
    assert got.title == page["title"]
    assert got.language == page["language"]
    assert got.published_at is not None
    assert got.published_at.date().isoformat() == page["published_at"][:10]


def test_demo_canonical_url_drops_the_feeds_tracking_params() -> None:
    page = next(p for p in demo_pages() if "utm_" in p["link"])
    html, charset = serve_demo_page(page)
    got = extract_article(html, url=f"{BASE}/{page['link']}", charset=charset)
    assert got.canonical_url == f"{BASE}/{page['path']}"


ARABIC = [
    "اتهم وزير خارجية طالبان ثلاث دول مجاورة لأفغانستان بالمساعدة في توسع تنظيم داعش خراسان، "
    "من دون أن يسمي هذه الدول، وقال إن إحداها توفر الأفراد وأخرى تسهل الاتصالات.",
    "وأضاف أن معالجة هذه القضايا ضرورية لضمان الاستقرار في أفغانستان والمنطقة بأسرها، "
    "مؤكدا أن نسبة كبيرة من الهجمات في البلاد يتم التخطيط لها من الخارج.",
]


def arabic_page(meta: bool) -> bytes:
    head = (
        '<meta http-equiv="Content-Type" content="text/html; charset=windows-1256">' if meta else ""
    )
    body = "".join(f"<p>{p}</p>" for p in ARABIC)
    html = (
        f"<html dir=rtl><head>{head}<title>المشرق</title></head><body>"
        f"<div class=menu><a href=/>الرئيسية</a> | <a href=/p>سياسة</a></div>"
        f"<div class=article><h1>الأمم المتحدة وداعش خراسان</h1>{body}</div>"
        f"<div class=footer>جميع الحقوق محفوظة</div></body></html>"
    )
    return html.encode("windows-1256")


@pytest.mark.parametrize(
    ("meta", "header"),
    [(True, None), (False, "windows-1256"), (True, "utf-8"), (True, "windows-1256")],
    ids=["meta-only", "header-only", "header-wrongly-utf8", "both"],
)
def test_windows_1256_page_decodes(meta: bool, header: str | None) -> None:
    got = extract_article(arabic_page(meta), url=f"{BASE}/ar/1", charset=header)
    assert got.text.split("\n") == ARABIC
    assert got.language == "ar"
    assert "جميع الحقوق محفوظة" not in got.text


@pytest.mark.parametrize(
    "html",
    [b"", b"   \n", b"<html></html>", b"<html><body><p></p></body></html>"],
    ids=["empty", "blank", "no-body", "empty-paragraph"],
)
def test_page_without_text_raises(html: bytes) -> None:
    with pytest.raises(ExtractError):
        extract_article(html, url=f"{BASE}/empty")


def test_menu_only_page_raises() -> None:
    html = (
        "<html><head><title>Khyber Post</title></head><body><nav><ul>"
        "<li><a href=/a>Politics</a></li><li><a href=/b>Sport</a></li>"
        "<li><a href=/c>Business news from the region</a></li></ul></nav>"
        "<div id=app></div><footer><a href=/about>About us</a></footer></body></html>"
    )
    with pytest.raises(ExtractError):
        extract_article(html, url=f"{BASE}/shell")


async def test_pool_returns_results_and_errors_across_processes() -> None:
    async with Extractor(workers=1, max_tasks_per_child=2) as extractor:
        arabic = await extractor.extract(arabic_page(True), url=f"{BASE}/ar/1")
        with pytest.raises(ExtractError):
            await extractor.extract(b"", url=f"{BASE}/empty")
        again = await extractor.extract(arabic_page(False), url=f"{BASE}/ar/2", charset="cp1256")
    assert arabic.text.split("\n") == ARABIC
    assert again.text == arabic.text


async def test_pool_recovers_when_a_worker_is_killed() -> None:
    html = arabic_page(True)
    async with Extractor(workers=1) as extractor:
        await extractor.extract(html, url=f"{BASE}/ar/1")
        pool = extractor._pool
        assert pool is not None
        for pid in list(pool._processes):  # the pool's worker processes
            os.kill(pid, signal.SIGKILL)
        with pytest.raises(ExtractError, match="worker died"):
            await extractor.extract(html, url=f"{BASE}/ar/1")
        recovered = await extractor.extract(html, url=f"{BASE}/ar/1")
    assert recovered.text.split("\n") == ARABIC


async def test_workers_are_recycled_by_swapping_the_pool() -> None:
    html = arabic_page(True)
    pools: list[ProcessPoolExecutor] = []

    class Recording(Extractor):
        def _new_pool(self) -> ProcessPoolExecutor:
            # No retiring pool beside the new one: every older pool's workers have exited.
            assert all(p._processes is None for p in pools)
            pools.append(super()._new_pool())
            return pools[-1]

    async with Recording(workers=1, max_tasks_per_child=2) as extractor:
        results = await asyncio.gather(
            *(extractor.extract(html, url=f"{BASE}/ar/{i}") for i in range(7))
        )
        last = await extractor.extract(html, url=f"{BASE}/ar/last")
    assert len(pools) == 4  # swapped after every 2 pages: 8 pages, 4 pools
    assert all(r.text == last.text for r in results)


async def test_the_pool_detects_the_language_of_feed_text() -> None:
    async with Extractor(workers=1) as extractor:
        text = "Die Regierung hat am Montag neue Maßnahmen gegen die Inflation angekündigt."
        assert await extractor.detect_language(text * 40, limit=1000) == "de"
        assert await extractor.detect_language("ok", limit=1000) == ""


async def test_texts_asked_together_go_to_the_pool_as_one_job() -> None:
    """A poll's entries ask for their languages at once: one pool job answers them all, each
    with its own text's language (a job each cost a round trip and, every few hundred, a
    pool replacement)."""
    texts = {
        "de": "Die Regierung hat am Montag neue Maßnahmen gegen die Inflation angekündigt. ",
        "fr": "Le gouvernement a annoncé lundi de nouvelles mesures contre l'inflation. ",
        "en": "The government announced new measures against inflation on Monday. ",
        "": "ok",
    }
    pools: list[Any] = []

    class Counting(Extractor):
        def _new_pool(self) -> Any:
            pools.append(super()._new_pool())
            return pools[-1]

    async with Counting(workers=1, max_tasks_per_child=2) as extractor:
        found = await asyncio.gather(
            *(
                extractor.detect_language(text * (20 if language else 1), limit=1000)
                for language, text in texts.items()
                for _ in "xyz"
            )
        )
        assert found == [language for language in texts for _ in "xyz"]
        assert len(pools) == 1  # 12 texts, one job: the pool was never due for replacement


def _models_loaded_before_any_detection() -> bool:
    """Run in a pool worker: whether it started with the language models in memory."""
    from monitor.pipeline import language

    return language._base_identifier.cache_info().currsize == 1


async def test_workers_start_with_the_language_models_loaded_by_the_forkserver() -> None:
    # Loaded once in the forkserver and shared copy-on-write, not once per worker.
    async with Extractor(workers=1) as extractor:
        pool = extractor._pool
        assert pool is not None
        loop = asyncio.get_running_loop()
        assert await loop.run_in_executor(pool, _models_loaded_before_any_detection)


KILLED_SERVICE = """
import asyncio, json, os, signal, sys
from multiprocessing import forkserver
from monitor.pipeline.extractor import Extractor

async def main() -> None:
    async with Extractor(workers=2) as extractor:
        html = sys.stdin.buffer.read()
        await asyncio.gather(*(extractor.extract(html, url=f"{sys.argv[1]}/{i}") for i in range(4)))
        pool = extractor._pool
        pids = [*pool._processes, forkserver._forkserver._forkserver_pid]
        print(json.dumps(pids), flush=True)
        os.kill(os.getpid(), signal.SIGKILL)

if __name__ == "__main__":
    asyncio.run(main())
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"  # a zombie is gone
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_killed_service_leaves_no_pool_process_behind(tmp_path: Path) -> None:
    script = tmp_path / "service.py"
    script.write_text(KILLED_SERVICE, encoding="utf-8")
    # Output to files: a pool left behind would hold a pipe open and hang the test.
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        done = subprocess.run(
            [sys.executable, str(script), BASE],
            input=arabic_page(True),
            stdout=stdout,
            stderr=stderr,
            timeout=120,
            cwd=ROOT,
        )
    assert done.returncode == -signal.SIGKILL, err.read_text()[-2000:]
    pids = json.loads(out.read_text().splitlines()[-1])
    assert len(pids) == 3  # two workers and their forkserver
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [p for p in pids if _alive(p)] == []
