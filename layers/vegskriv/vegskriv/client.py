"""A typed client for the changeset API of vegskriv (and NVDB API Skriv v3), stdlib HTTP only.

    from vegskriv.client import VegskrivClient
    client = VegskrivClient("http://127.0.0.1:3000", token)      # or VegskrivClient.login(url, user, pw)
    changeset_id = client.register(document)                      # dict, JSON text or bytes
    client.start(changeset_id)
    status = client.follow(changeset_id)                          # obeys Retry-After
    print(status.fremdrift, [o.nvdbId for o in status.resultat.vegobjekter])

Answers are the API's own models (:mod:`vegskriv.changesets.models`), so a client cannot drift
from what the server writes. Nothing here needs AWS: it runs from any venv against a local stack
or a deployed URL.
"""

from __future__ import annotations

import gzip
import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from vegskriv import __version__
from vegskriv.changesets.models import TERMINAL, Avvistårsak, Fremdrift, Status, Venteårsak
from vegskriv.provisioning.model import Kjøring

DEFAULT_URL = "http://127.0.0.1:3000"
ENDRINGSSETT = "/rest/v3/endringssett"
LOGIN = "/rest/v1/oidc/authenticate"
KONSUMENTER = "/rest/v1/konsumenter"
# Committed (UTFØRT) is an outcome too: the result and the new nvdbIds are final; only the read side lags.
SETTLED = TERMINAL | {Fremdrift.UTFØRT}
# Documents from this size are sent gzipped (Content-Encoding: gzip): the API bounds what is sent
# (MAX_BODY_BYTES, 6 MB), and a changeset's JSON shrinks about tenfold.
GZIP_FROM_BYTES = 1_000_000
# Documents this large as sent (gzipped) go through the two-step upload (S3) instead: on AWS a body
# passes base64-encoded through Lambda's 6 MB, so about 4.4 MB is the most one request carries.
UPLOAD_FROM_BYTES = 4_000_000


class ClientError(Exception):
    """The request got no usable answer (connection refused, timeout, not JSON)."""


class ApiError(ClientError):
    """The API answered with an error status; ``message`` is its ``{"message"}`` (or the raw body)."""

    def __init__(self, method: str, url: str, status: int, message: str, reason: str | None = None):
        self.method, self.url, self.status, self.message, self.reason = method, url, status, message, reason
        super().__init__(f"{method} {url} → {status}: {message}" + (f" ({reason})" if reason else ""))


class Timeout(ClientError):
    """:meth:`VegskrivClient.follow` gave up; ``progress`` is the last answer."""

    def __init__(self, changeset_id: str, progress: Progress):
        self.changeset_id, self.progress = changeset_id, progress
        super().__init__(f"endringssett {changeset_id} er fortsatt {progress.fremdrift}")


@dataclass(frozen=True)
class Progress:
    """One answer of ``fremdrift``: the code and how long the API asks us to wait before asking again."""

    fremdrift: Fremdrift
    retry_after: float | None


class RunTimeout(ClientError):
    """:meth:`VegskrivClient.follow_run` gave up; ``run`` is the last report."""

    def __init__(self, run: Kjøring):
        self.run = run
        super().__init__(f"kjøring {run.id} for konsument {run.konsumentId} er fortsatt {run.status}")


class TreffStatus(BaseModel):
    fremdrift: Fremdrift
    mottatt: str
    eier: str
    klient: str | None = None
    venteårsak: Venteårsak | None = None
    avvistårsak: Avvistårsak | None = None


class Treff(BaseModel):
    id: str
    status: TreffStatus


class Søkeresultat(BaseModel):
    antallTotalt: int
    endringssett: list[Treff]


def _reason(header: str | None) -> str | None:
    """error_description of an RFC 6750 ``WWW-Authenticate`` header (the local gateway sets it)."""
    if not header or "error_description=" not in header:
        return None
    return header.split("error_description=", 1)[1].strip().strip('"') or None


def _as_bytes(document: dict[str, Any] | str | bytes) -> bytes:
    if isinstance(document, bytes):
        return document
    return document.encode("utf-8") if isinstance(document, str) else json.dumps(document, ensure_ascii=False).encode()


class VegskrivClient:
    def __init__(self, url: str = DEFAULT_URL, token: str | None = None, *, client_name: str = "vegskriv-cli",
                 timeout: float = 30.0, gzip_from_bytes: int | None = GZIP_FROM_BYTES,
                 upload_from_bytes: int | None = UPLOAD_FROM_BYTES):
        """``gzip_from_bytes``: documents of at least this many bytes are sent gzipped (0: all, None: none);
        ``upload_from_bytes``: changesets this large as sent are registered by the two-step upload."""
        self.url = url.rstrip("/")
        self.gzip_from_bytes = gzip_from_bytes
        self.upload_from_bytes = upload_from_bytes
        self.token = token
        self.client_name = client_name
        self.timeout = timeout

    @classmethod
    def login(cls, url: str, user: str, password: str, *, realm: str = "EMPLOYEE", **kwargs: Any) -> VegskrivClient:
        """Log in as NVDB clients do (``POST /rest/v1/oidc/authenticate``) and use the ``idToken``."""
        client = cls(url, None, **kwargs)
        answer = client._call("POST", LOGIN, {"username": user, "password": password, "realm": realm})
        token = answer.get("idToken") if isinstance(answer, dict) else None
        if not isinstance(token, str):
            raise ClientError(f"POST {client.url}{LOGIN} svarte uten idToken")
        client.token = token
        return client

    # ------------------------------------------------------------------ HTTP

    def _request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
                 *, document: bool = False) -> tuple[bytes, Any]:
        url = self.url + urllib.parse.quote(path, safe="/?=&%+")
        if isinstance(body, str):
            body = body.encode("utf-8")
        elif body is not None and not isinstance(body, bytes):
            body = json.dumps(body, ensure_ascii=False).encode("utf-8")
        sent = {"Accept": "application/json", "X-Client": self.client_name,
                "User-Agent": f"vegskriv-client/{__version__}", **(headers or {})}
        if body is not None:
            sent["Content-Type"] = "application/json"
            if document and self.gzip_from_bytes is not None and len(body) >= self.gzip_from_bytes:
                body = gzip.compress(body, 6)
                sent["Content-Encoding"] = "gzip"
        if self.token:
            sent["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(url, data=body, method=method, headers=sent)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.read(), response.headers
        except urllib.error.HTTPError as err:
            text = err.read().decode("utf-8", "replace")
            try:
                message = json.loads(text)["message"]
            except (ValueError, KeyError, TypeError):
                message = text or err.reason
            raise ApiError(method, url, err.code, str(message), _reason(err.headers.get("WWW-Authenticate"))) from err
        except (urllib.error.URLError, OSError) as err:
            raise ClientError(f"{method} {url}: {getattr(err, 'reason', err)}") from err

    def _call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
              *, document: bool = False) -> Any:
        raw, _ = self._request(method, path, body, headers, document=document)
        try:
            return json.loads(raw) if raw else None
        except ValueError as err:
            raise ClientError(f"{method} {self.url}{path}: svaret er ikke JSON") from err

    # ------------------------------------------------------------------ the changeset API

    def register(self, document: dict[str, Any] | str | bytes, *, dryrun: bool = False, delay: int | None = None,
                 tjeneste: str | None = None, upload: bool = False) -> str:
        """Register a changeset; its id. ``tjeneste`` = ``EIER/KODE/UTGAVE`` sends it through that edition;
        ``upload`` (or a document of ``upload_from_bytes`` as sent) goes through the two-step upload."""
        headers = {"X-NVDB-DryRun": "true"} if dryrun else {}
        if delay is not None:
            headers["X-NVDB-Delay"] = str(delay)
        if tjeneste:
            headers["X-NVDB-Tjeneste"] = tjeneste
        raw = _as_bytes(document)
        packed = raw
        if self.gzip_from_bytes is not None and len(raw) >= self.gzip_from_bytes:
            packed = gzip.compress(raw, 6)
            headers["Content-Encoding"] = "gzip"
        if upload or (self.upload_from_bytes is not None and len(packed) >= self.upload_from_bytes):
            form = self._call("POST", f"{ENDRINGSSETT}/opplasting")
            self._post_form(form["url"], form["felter"], packed)
            headers.pop("Content-Encoding", None)  # the server knows gzip by its magic bytes
            links = self._call("POST", f"{ENDRINGSSETT}/opplasting/{form['id']}/registrer", None, headers)
        else:
            links = self._call("POST", ENDRINGSSETT, packed, headers)
        self_link = next(link["src"] for link in links if link["rel"] == "self")
        return str(self_link).rsplit("/", 1)[1]

    def _post_form(self, url: str, fields: dict[str, str], content: bytes) -> None:
        """The presigned S3 POST: its fields, then the file (multipart/form-data, no token)."""
        boundary = uuid.uuid4().hex
        parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
                 for name, value in fields.items()]
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="endringssett"\r\n'
                     "Content-Type: application/octet-stream\r\n\r\n".encode() + content + b"\r\n")
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        request = urllib.request.Request(url, data=body, method="POST",
                                         headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read()
        except urllib.error.HTTPError as err:
            raise ApiError("POST", url, err.code, err.read().decode("utf-8", "replace") or str(err.reason)) from err
        except (urllib.error.URLError, OSError) as err:
            raise ClientError(f"POST {url}: {getattr(err, 'reason', err)}") from err

    def start(self, changeset_id: str) -> None:
        self._call("POST", f"{ENDRINGSSETT}/{changeset_id}/start")

    def cancel(self, changeset_id: str) -> None:
        self._call("POST", f"{ENDRINGSSETT}/{changeset_id}/kanseller")

    def fremdrift(self, changeset_id: str) -> Progress:
        raw, headers = self._request("GET", f"{ENDRINGSSETT}/{changeset_id}/fremdrift")
        wait = headers.get("Retry-After")
        return Progress(Fremdrift(json.loads(raw)), float(wait) if wait else None)

    def status(self, changeset_id: str, *, resultat: bool = True, varsler: bool = True) -> Status:
        query = f"inkluderResultat={'JA' if resultat else 'NEI'}&inkluderVarsler={'JA' if varsler else 'NEI'}"
        return Status.model_validate(self._call("GET", f"{ENDRINGSSETT}/{changeset_id}/status?{query}"))

    def validate(self, document: dict[str, Any] | str | bytes) -> Status:
        """The synchronous catalog checks of ``/validator``: nothing is stored."""
        return Status.model_validate(self._call("POST", f"{ENDRINGSSETT}/validator", document,
                                                 document=True))

    def search(self, *, antall: int = 100, start: int = 1, stigende: bool = False, fra_epoch_ms: int | None = None,
               til_epoch_ms: int | None = None, status: str | None = None, årsak: str | None = None,
               bruker_eller_klient: str | None = None) -> Søkeresultat:
        query: dict[str, Any] = {"antall": antall, "start": start, "sorterStigende": str(stigende).lower(),
                                 "fraEpochMs": fra_epoch_ms, "tilEpochMs": til_epoch_ms, "status": status,
                                 "årsak": årsak, "brukernavnEllerKlient": bruker_eller_klient}
        encoded = urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
        return Søkeresultat.model_validate(self._call("GET", f"{ENDRINGSSETT}?{encoded}"))

    def follow(self, changeset_id: str, *, timeout: float = 600.0, until: frozenset[Fremdrift] = SETTLED,
               on_progress: Callable[[Progress, float], None] | None = None,
               sleep: Callable[[float], None] = time.sleep) -> Status:
        """Poll ``fremdrift`` until a state in ``until`` and return the status.

        Waits as long as ``Retry-After`` says (never less than 0.2 s, never past ``timeout``); without
        one, a non-final state is asked again after a second. A dry run ends at UTFØRT without
        ``Retry-After``; that ends the wait whatever ``until`` says. Raises :class:`Timeout`.
        """
        began = time.monotonic()
        while True:
            progress = self.fremdrift(changeset_id)
            elapsed = time.monotonic() - began
            if on_progress:
                on_progress(progress, elapsed)
            done = progress.fremdrift == Fremdrift.UTFØRT and progress.retry_after is None
            if progress.fremdrift in until or done:
                return self.status(changeset_id)
            if elapsed >= timeout:
                raise Timeout(changeset_id, progress)
            wait = progress.retry_after if progress.retry_after is not None else 1.0
            sleep(max(0.2, min(wait, timeout - elapsed)))

    # ------------------------------------------------------------------ provisioning (/rest/v1/konsumenter)

    def _runs(self, konsument_id: str) -> str:
        return f"{KONSUMENTER}/{urllib.parse.quote(konsument_id, safe='')}/kjøringer"

    def start_run(self, konsument_id: str, *, full: bool = False, dry_run: bool = False) -> Kjøring:
        """Start a provisioning run now (202): the run as created, status PÅGÅR."""
        body = {"modus": "FULL" if full else "DELTA", "tørrkjøring": dry_run}
        return Kjøring.model_validate(self._call("POST", self._runs(konsument_id), body))

    def run_report(self, konsument_id: str, run_id: str) -> Kjøring:
        return Kjøring.model_validate(self._call("GET", f"{self._runs(konsument_id)}/{run_id}"))

    def runs(self, konsument_id: str, antall: int = 100) -> list[Kjøring]:
        """Newest first."""
        answer = self._call("GET", f"{self._runs(konsument_id)}?antall={antall}")
        return [Kjøring.model_validate(r) for r in answer["kjøringer"]]

    def run_log(self, konsument_id: str, run_id: str, *, start: int | None = None,
                antall: int = 100) -> tuple[list[dict[str, Any]], int | None]:
        """One page of the per-object log and the ``start`` of the next page (None: the last)."""
        query = urllib.parse.urlencode({"antall": antall, **({"start": start} if start is not None else {})})
        answer = self._call("GET", f"{self._runs(konsument_id)}/{run_id}/logg?{query}")
        neste = (answer.get("metadata") or {}).get("neste")
        return list(answer["logg"]), int(neste["start"]) if neste else None

    def approve_run(self, konsument_id: str, run_id: str) -> Kjøring:
        """Release a run in KARANTENE: its deletes are applied (the run goes on, PÅGÅR)."""
        return Kjøring.model_validate(self._call("POST", f"{self._runs(konsument_id)}/{run_id}/godkjenn"))

    def follow_run(self, konsument_id: str, run_id: str, *, timeout: float = 3600.0, interval: float = 0.5,
                   on_progress: Callable[[Kjøring, float], None] | None = None,
                   sleep: Callable[[float], None] = time.sleep) -> Kjøring:
        """Poll the run's report every ``interval`` s until it is no longer PÅGÅR. Raises :class:`RunTimeout`."""
        began = time.monotonic()
        while True:
            run = self.run_report(konsument_id, run_id)
            elapsed = time.monotonic() - began
            if on_progress:
                on_progress(run, elapsed)
            if run.status != "PÅGÅR":
                return run
            if elapsed >= timeout:
                raise RunTimeout(run)
            sleep(max(0.05, min(interval, timeout - elapsed)))
