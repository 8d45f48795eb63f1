"""Writing an alert's evidence as a WARC 1.1 file (ISO 28500) with warcio.

Per kept page: a request and a response record for every hop (redirects first), the
response payload being the body exactly as received (still content-encoded); a
`conversion` record with the extracted text as stored; a `metadata` record with the
article's metadata and digests. Then one `metadata` record with the alert payload and the
watchlist version. Block and payload digests are sha256 (base32), so a response record's
WARC-Payload-Digest is the payload's `response_sha256` in another spelling.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from typing import Any, BinaryIO

from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.utils import Digester
from warcio.warcwriter import WARCWriter

from monitor.config import VERSION

WARC_VERSION = "WARC/1.1"
# A body recorded without its chunked framing must not claim it still has it.
_REFRAMED = {"transfer-encoding": "X-Archive-Orig-Transfer-Encoding"}


@dataclass(frozen=True, slots=True)
class KeptPage:
    """One snapshot read back for export: its hops, the kept body and the stored text."""

    snapshot_id: int
    meta: Mapping[str, Any]
    exchanges: Sequence[Mapping[str, Any]]
    body: bytes
    body_sha256: str
    received_sha256: str | None
    received_bytes: int
    cut_note: str
    text: str
    text_sha256: str
    fetched_at: datetime

    def summary(self) -> dict[str, Any]:
        """The page's metadata record body (also the bundle manifest's page entry)."""
        return {
            "article": dict(self.meta),
            "fetched_at": self.fetched_at.isoformat(),
            "response_sha256": self.received_sha256,
            "received_bytes": self.received_bytes,
            "kept_body_sha256": self.body_sha256,
            "cut_note": self.cut_note,
            "text_sha256": self.text_sha256,
            "hops": [
                {"url": e["url"], "status": e["status"], "peer_ip": e["peer_ip"]}
                for e in self.exchanges
            ],
        }


class _Sha256Writer(WARCWriter):  # type: ignore[misc]
    """warcio's writer with sha256 block and payload digests instead of sha1."""

    @staticmethod
    def _create_digester() -> Digester:
        return Digester("sha256")


def sha256_label(hex_digest: str) -> str:
    """A hex sha256 in WARC's `sha256:BASE32` spelling."""
    return "sha256:" + base64.b32encode(bytes.fromhex(hex_digest)).decode("ascii")


def _date(value: datetime | str) -> str:
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    return str(datetime_to_iso_date(when.replace(tzinfo=None), use_micros=True))


class WarcExport:
    """Records appended to one WARC file, in order."""

    def __init__(self, stream: BinaryIO) -> None:
        self._writer = _Sha256Writer(stream, gzip=True, warc_version=WARC_VERSION)
        self.records = 0

    def _write(self, record: Any) -> str:
        self._writer.write_record(record)
        self.records += 1
        return str(record.rec_headers.get_header("WARC-Record-ID"))

    def warcinfo(self, filename: str, description: str) -> None:
        info = {
            "software": f"feed-monitor/{VERSION}",
            "format": "WARC File Format 1.1",
            "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
            "description": description,
        }
        self._write(self._writer.create_warcinfo_record(filename, info))

    def page(self, page: KeptPage) -> None:
        """The records of one kept page: its hops, its text and its metadata."""
        response_id = None
        for index, exchange in enumerate(page.exchanges):
            final = index == len(page.exchanges) - 1
            response_id = self._hop(exchange, page if final else None)
        target = str(page.meta.get("url", "")) if response_id is None else None
        uri = target or str(page.exchanges[-1]["url"])
        refers = {"WARC-Refers-To": response_id} if response_id else {}
        date = _date(page.fetched_at)
        self._write(
            self._writer.create_warc_record(
                uri,
                "conversion",
                payload=BytesIO(page.text.encode("utf-8")),
                warc_content_type="text/plain; charset=utf-8",
                warc_headers_dict={"WARC-Date": date, **refers},
            )
        )
        self.metadata(uri, page.summary(), date, refers)

    def _hop(self, exchange: Mapping[str, Any], final: KeptPage | None) -> str:
        date = _date(exchange["started_at"])
        peer = {"WARC-IP-Address": exchange["peer_ip"]} if exchange.get("peer_ip") else {}
        url = str(exchange["url"])
        request_id = self._write(self._request(url, exchange, date, peer))
        body = final.body if final is not None else b""
        response = self._response(url, exchange, body, {"WARC-Date": date, **peer})
        response.rec_headers.add_header("WARC-Concurrent-To", request_id)
        if final is not None and final.cut_note:
            response.rec_headers.add_header("WARC-Truncated", "length")
        return self._write(response)

    def _request(
        self, url: str, exchange: Mapping[str, Any], date: str, peer: Mapping[str, str]
    ) -> Any:
        path = url.split("://", 1)[-1].partition("/")
        target = "/" + path[2] if path[1] else "/"
        line = f"{exchange['method']} {target} {exchange['http_version']}"
        headers = StatusAndHeaders(
            line, [tuple(h) for h in exchange["request_headers"]], is_http_request=True
        )
        return self._writer.create_warc_record(
            url,
            "request",
            payload=BytesIO(b""),
            length=0,
            http_headers=headers,
            warc_headers_dict={"WARC-Date": date, **peer},
        )

    def _response(
        self, url: str, exchange: Mapping[str, Any], body: bytes, warc: Mapping[str, str]
    ) -> Any:
        headers = [
            (_REFRAMED.get(name.lower(), name), value)
            for name, value in exchange["response_headers"]
        ]
        status = f"{exchange['status']} {exchange['reason']}".strip()
        http = StatusAndHeaders(status, headers, protocol=exchange["http_version"])
        return self._writer.create_warc_record(
            url,
            "response",
            payload=BytesIO(body),
            length=len(body),
            http_headers=http,
            warc_headers_dict=dict(warc),
        )

    def metadata(
        self,
        uri: str,
        content: Mapping[str, Any],
        date: str,
        extra: Mapping[str, str] | None = None,
    ) -> None:
        data = json.dumps(content, ensure_ascii=False, indent=2, default=str).encode("utf-8")
        self._write(
            self._writer.create_warc_record(
                uri,
                "metadata",
                payload=BytesIO(data),
                length=len(data),
                warc_content_type="application/json",
                warc_headers_dict={"WARC-Date": date, **(extra or {})},
            )
        )


def write_warc(
    stream: BinaryIO,
    *,
    filename: str,
    alert: Mapping[str, Any],
    watchlist: Mapping[str, Any] | None,
    pages: Sequence[KeptPage],
    now: datetime,
) -> int:
    """Write the evidence of one alert to `stream` (gzip per record), the file to be named
    `filename`; return the record count."""
    export = WarcExport(stream)
    export.warcinfo(filename, f"evidence of alert {alert['id']} ({alert['watchlist']})")
    for page in pages:
        export.page(page)
    export.metadata(
        f"urn:feed-monitor:alert:{alert['id']}",
        {"alert": dict(alert), "watchlist_version": watchlist},
        _date(now),
    )
    return export.records
