"""A local API Gateway (REST, v1 proxy integration) in front of the in-process handlers.

Routes come from the OpenAPI body SAM made of the template's ``Api`` events. Each HTTP request becomes the
proxy event API Gateway would send; routes protected by the API's (default) Lambda TOKEN
authorizer run that authorizer first. The API is served at the root
(``http://127.0.0.1:3000/rest/v3/...``); the stage only appears in ``requestContext``.
"""

from __future__ import annotations

import base64
import fnmatch
import json
import logging
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from vegskriv.local.runtime import FunctionError, FunctionRuntime
from vegskriv.local.template import ApiRouteSpec, AuthorizerSpec, Template

log = logging.getLogger("vegskriv_local.api")

MAX_PAYLOAD_BYTES = 10 * 1024 * 1024  # API Gateway REST limit
MISSING_TOKEN = (403, {"message": "Missing Authentication Token"})
UNAUTHORIZED = (401, {"message": "Unauthorized"})
ACCESS_DENIED = (403, {"message": "User is not authorized to access this resource"})
INTERNAL_ERROR = (502, {"message": "Internal server error"})
API_METHODS = frozenset({"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"})


@dataclass
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


@dataclass
class _Route:
    spec: ApiRouteSpec
    segments: list[str]
    stage: str
    authorizer: AuthorizerSpec | None
    binary_media_types: tuple[str, ...] = ()

    def match(self, parts: list[str]) -> tuple[tuple[int, ...], dict[str, str]] | None:
        """(rank, path parameters) when this resource matches the path segments."""
        params: dict[str, str] = {}
        rank: list[int] = []
        for i, seg in enumerate(self.segments):
            if seg.startswith("{") and seg.endswith("+}"):
                rest = parts[i:]
                if not rest or rest == [""]:
                    return None
                params[seg[1:-2]] = "/".join(rest)
                rank.append(2)
                return tuple(rank), params
            if i >= len(parts):
                return None
            if seg.startswith("{") and seg.endswith("}"):
                if parts[i] == "":
                    return None
                params[seg[1:-1]] = parts[i]
                rank.append(1)
            elif seg == parts[i]:
                rank.append(0)
            else:
                return None
        if len(parts) != len(self.segments):
            return None
        return tuple(rank), params


class LocalApiGateway:
    def __init__(self, template: Template, runtime: FunctionRuntime, *, host: str = "127.0.0.1",
                 port: int = 3000) -> None:
        self.template = template
        self.runtime = runtime
        self.host = host
        self.requested_port = port
        self.routes: list[_Route] = []
        for spec in template.api_routes():
            authorizers = template.authorizers(spec.api_logical_id)
            authorizer = None
            if spec.authorizer is not None:
                if spec.authorizer not in authorizers:
                    raise ValueError(f"{spec.function.logical_id} {spec.method} {spec.path}: authorizer "
                                     f"{spec.authorizer} is not a Lambda authorizer of the API")
                authorizer = authorizers[spec.authorizer]
            segments = [s for s in spec.path.split("/")[1:]] if spec.path != "/" else []
            # As in the template: "application~1json" is application/json (SAM escapes the slash).
            binary = tuple(str(t).replace("~1", "/").lower()
                           for t in template.api_properties(spec.api_logical_id).get("BinaryMediaTypes") or ())
            self.routes.append(_Route(spec, segments, template.stage_name(spec.api_logical_id),
                                      authorizer, binary))
        self._auth_cache: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}
        self._auth_lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ server lifecycle

    @property
    def port(self) -> int:
        assert self._server is not None, "API not started"
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        gateway = self

        class Handler(_RequestHandler):
            api = gateway

        self._server = _Server((self.host, self.requested_port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="vegskriv-api",
                                        kwargs={"poll_interval": 0.2}, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    # ------------------------------------------------------------------ request → event

    def find_route(self, method: str, path: str) -> tuple[_Route, dict[str, str]] | None:
        parts = path.split("/")[1:] if path != "/" else []
        best: tuple[tuple[Any, ...], _Route, dict[str, str]] | None = None
        for route in self.routes:
            if route.spec.method not in ("ANY", method):
                continue
            matched = route.match(parts)
            if matched is None:
                continue
            rank = (matched[0], route.spec.method == "ANY")
            if best is None or rank < best[0]:
                best = (rank, route, matched[1])
        return None if best is None else (best[1], best[2])

    def handle(self, method: str, raw_target: str, headers: list[tuple[str, str]], body: bytes,
               source_ip: str = "127.0.0.1") -> HttpResponse:
        request_id = _header(headers, "X-Request-ID") or str(uuid.uuid4())
        split = urlsplit(raw_target)
        path = unquote(split.path) if split.path else "/"
        if len(body) > MAX_PAYLOAD_BYTES:
            return self._json(413, {"message": "Request Too Long"}, request_id)
        found = self.find_route(method, path) if method in API_METHODS else None
        if found is None:
            return self._json(*MISSING_TOKEN, request_id)
        route, path_params = found

        authorizer_context: dict[str, Any] = {}
        if route.authorizer is not None:
            outcome = self._authorize(route, method, path, headers)
            if isinstance(outcome, HttpResponse):
                return self._with_request_id(outcome, request_id)
            authorizer_context = outcome

        event = self._proxy_event(route, method, path, split.query, headers, body, path_params,
                                  request_id, source_ip, authorizer_context)
        try:
            result = self.runtime.invoke(route.spec.function, event)
        except FunctionError as err:
            log.error("%s failed: %s", route.spec.function.logical_id, err)
            return self._json(*INTERNAL_ERROR, request_id)
        return self._proxy_response(result, request_id, route)

    def _proxy_event(self, route: _Route, method: str, path: str, query: str,
                     headers: list[tuple[str, str]], body: bytes, path_params: dict[str, str],
                     request_id: str, source_ip: str, authorizer: dict[str, Any]) -> dict[str, Any]:
        single_headers: dict[str, str] = {}
        multi_headers: dict[str, list[str]] = {}
        for name, value in headers:
            single_headers[name] = value
            multi_headers.setdefault(name, []).append(value)
        single_query: dict[str, str] = {}
        multi_query: dict[str, list[str]] = {}
        for name, value in parse_qsl(query, keep_blank_values=True):
            single_query[name] = value
            multi_query.setdefault(name, []).append(value)
        body_text: str | None
        is_base64 = False
        media = (_header(headers, "Content-Type") or "").split(";", 1)[0].strip().lower()
        if not body:
            body_text = None
        elif any(fnmatch.fnmatchcase(media, pattern) for pattern in route.binary_media_types):
            # API Gateway hands a binary media type's body (a gzip one, say) to Lambda as base64.
            body_text = base64.b64encode(body).decode("ascii")
            is_base64 = True
        else:
            try:
                body_text = body.decode("utf-8")
            except UnicodeDecodeError:
                body_text = base64.b64encode(body).decode("ascii")
                is_base64 = True
        now = datetime.now(UTC)
        host = _header(headers, "Host") or f"{self.host}:{self.port}"
        request_context: dict[str, Any] = {
            "accountId": self.template.account,
            "apiId": "local",
            "domainName": host,
            "domainPrefix": host.split(".")[0],
            "extendedRequestId": request_id,
            "httpMethod": method,
            "identity": {
                "accessKey": None, "accountId": None, "caller": None, "cognitoIdentityId": None,
                "cognitoIdentityPoolId": None, "principalOrgId": None, "sourceIp": source_ip,
                "user": None, "userAgent": _header(headers, "User-Agent"), "userArn": None,
            },
            "path": f"/{route.stage}{path}",
            "protocol": "HTTP/1.1",
            "requestId": request_id,
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "resourceId": "local",
            "resourcePath": route.spec.path,
            "stage": route.stage,
        }
        if authorizer:
            request_context["authorizer"] = authorizer
        return {
            "resource": route.spec.path,
            "path": path,
            "httpMethod": method,
            "headers": single_headers or None,
            "multiValueHeaders": multi_headers or None,
            "queryStringParameters": single_query or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": path_params or None,
            "stageVariables": None,
            "requestContext": request_context,
            "body": body_text,
            "isBase64Encoded": is_base64,
        }

    # ------------------------------------------------------------------ authorizer

    def _authorize(self, route: _Route, method: str, path: str,
                   headers: list[tuple[str, str]]) -> dict[str, Any] | HttpResponse:
        spec = route.authorizer
        assert spec is not None
        token = _header(headers, spec.header)
        if not token:
            return self._refused(f"{spec.header}-header mangler")
        method_arn = (f"arn:aws:execute-api:{self.template.region}:{self.template.account}:local/"
                      f"{route.stage}/{method}{path}")
        cache_key = (spec.name, token)
        now = time.monotonic()
        with self._auth_lock:
            cached = self._auth_cache.get(cache_key)
        if cached is not None and cached[0] > now:
            result = cached[1]
        else:
            function = self.runtime.functions.get(spec.function_logical_id)
            if function is None:
                raise ValueError(f"authorizer function {spec.function_logical_id} is not in the template")
            event = {"type": "TOKEN", "authorizationToken": token, "methodArn": method_arn}
            try:
                result = self.runtime.invoke(function, event)
            except FunctionError as err:
                if err.payload.get("errorMessage") == "Unauthorized":
                    # The authorizer raises Unauthorized from the reason; API Gateway drops it, we need not.
                    detail = err.__cause__.__cause__ if err.__cause__ else None
                    return self._refused(f"tokenet ble avvist: {detail}" if detail else None)
                log.error("authorizer %s failed: %s", spec.name, err)
                return self._json(500, {"message": None}, "")
            if not isinstance(result, dict) or "policyDocument" not in result:
                log.error("authorizer %s returned no policy: %r", spec.name, result)
                return self._json(500, {"message": None}, "")
            if spec.ttl_seconds > 0:
                with self._auth_lock:
                    self._auth_cache[cache_key] = (now + spec.ttl_seconds, result)
        if not _policy_allows(result.get("policyDocument") or {}, method_arn):
            return self._json(*ACCESS_DENIED, "")
        context = {k: _stringify(v) for k, v in (result.get("context") or {}).items()}
        context["principalId"] = result.get("principalId")
        context["integrationLatency"] = 0
        return context

    # ------------------------------------------------------------------ responses

    def _proxy_response(self, result: Any, request_id: str, route: _Route) -> HttpResponse:
        if not isinstance(result, dict) or not isinstance(result.get("statusCode"), int | str):
            log.error("%s returned a malformed proxy response: %r", route.spec.function.logical_id,
                      result)
            return self._json(*INTERNAL_ERROR, request_id)
        headers: list[tuple[str, str]] = []
        seen: set[str] = set()
        for name, values in (result.get("multiValueHeaders") or {}).items():
            seen.add(name.lower())
            headers.extend((name, str(v)) for v in values)
        for name, value in (result.get("headers") or {}).items():
            if name.lower() not in seen:
                headers.append((name, str(value)))
        body = result.get("body") or ""
        raw = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode("utf-8")
        return self._with_request_id(HttpResponse(int(result["statusCode"]), headers, raw), request_id)

    def _refused(self, reason: str | None) -> HttpResponse:
        """API Gateway's 401, plus (locally only) why, as RFC 6750's WWW-Authenticate error_description."""
        response = self._json(*UNAUTHORIZED, "")
        if reason:
            text = reason.replace('"', "'").encode("ascii", "replace").decode("ascii")
            response.headers.append(("WWW-Authenticate", f'Bearer error="invalid_token", error_description="{text}"'))
        return response

    def _json(self, status: int, payload: Any, request_id: str) -> HttpResponse:
        response = HttpResponse(status, [("Content-Type", "application/json")],
                                json.dumps(payload).encode("utf-8"))
        return self._with_request_id(response, request_id) if request_id else response

    @staticmethod
    def _with_request_id(response: HttpResponse, request_id: str) -> HttpResponse:
        names = {name.lower() for name, _ in response.headers}
        if request_id:
            if "x-amzn-requestid" not in names:
                response.headers.append(("x-amzn-RequestId", request_id))
            if "x-request-id" not in names:
                response.headers.append(("X-Request-ID", request_id))
        return response


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # API Gateway takes bursts; socketserver's default backlog of 5 reset connections of a burst of 30.
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that drops its kept-alive connection is not an error of the stack: socketserver
        # would print a traceback for it in the `make run` terminal.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class _RequestHandler(BaseHTTPRequestHandler):
    api: LocalApiGateway
    protocol_version = "HTTP/1.1"
    server_version = "vegskriv-local"
    # Headers and body go out in two writes; without this, Nagle + delayed ACK add ~40 ms per request.
    disable_nagle_algorithm = True

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = [(k, v) for k, v in self.headers.items()]
        try:
            response = self.api.handle(self.command, self.path, headers, body, self.client_address[0])
        except Exception:
            log.exception("local API failure")
            response = HttpResponse(500, [("Content-Type", "application/json")],
                                    b'{"message": "Internal server error"}')
        self.send_response(response.status)
        for name, value in response.headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _handle

    def __getattr__(self, name: str) -> Any:
        # Any other method (TRACE, ...) gets API Gateway's answer, not http.server's 501.
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s - %s", self.address_string(), format % args)


def _header(headers: list[tuple[str, str]], name: str) -> str | None:
    lname = name.lower()
    found = None
    for key, value in headers:
        if key.lower() == lname:
            found = value
    return found


def _stringify(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value) if isinstance(value, list | dict) \
        else str(value)


def _policy_allows(policy: dict[str, Any], method_arn: str) -> bool:
    statements = policy.get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    allowed = False
    for statement in statements:
        actions = statement.get("Action") or []
        actions = [actions] if isinstance(actions, str) else actions
        if not any(fnmatch.fnmatchcase("execute-api:Invoke", a) for a in actions):
            continue
        resources = statement.get("Resource") or []
        resources = [resources] if isinstance(resources, str) else resources
        if not any(fnmatch.fnmatchcase(method_arn, r) for r in resources):
            continue
        if statement.get("Effect") == "Deny":
            return False
        if statement.get("Effect") == "Allow":
            allowed = True
    return allowed
