"""The reference HTTP consumer: keeps its copy in SQLite and implements the consumer contract.

    vegskriv konsument --port 3200 --db /tmp/kopi.db

``GET /objekter?start=&antall=`` → ``{"objekter": [{"id", "hash"}], "neste": id|null}`` (ascending id);
``POST /endringer`` ``{"endringer": [{"handling": "UPSERT", "id", "hash", "data"} | {"handling": "DELETE",
"id"}]}`` → ``{"resultat": [{"id", "ok"} ...]}``; ``GET /objekter/{id}`` one object's data.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

MAX_CHANGES = 500


class Copy:
    def __init__(self, path: str):
        self.db = sqlite3.connect(path, check_same_thread=False)
        self.lock = threading.Lock()
        self.db.execute("CREATE TABLE IF NOT EXISTS objekt (id INTEGER PRIMARY KEY, hash TEXT NOT NULL, data TEXT)")
        self.db.commit()

    def page(self, start: int, antall: int) -> dict[str, Any]:
        with self.lock:
            rows = self.db.execute("SELECT id, hash FROM objekt WHERE id > ? ORDER BY id LIMIT ?",
                                   (start, antall + 1)).fetchall()
        page = [{"id": i, "hash": h} for i, h in rows[:antall]]
        return {"objekter": page, "neste": page[-1]["id"] if len(rows) > antall else None}

    def get(self, nvdb_id: int) -> Any:
        with self.lock:
            row = self.db.execute("SELECT data FROM objekt WHERE id = ?", (nvdb_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def apply(self, changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        results = []
        with self.lock:
            for change in changes:
                try:
                    if change["handling"] == "DELETE":
                        self.db.execute("DELETE FROM objekt WHERE id = ?", (int(change["id"]),))
                    else:
                        self.db.execute("INSERT OR REPLACE INTO objekt (id, hash, data) VALUES (?, ?, ?)",
                                        (int(change["id"]), str(change["hash"]), json.dumps(change["data"])))
                    results.append({"id": change["id"], "ok": True})
                except (KeyError, TypeError, ValueError, sqlite3.Error) as exc:
                    results.append({"id": change.get("id"), "ok": False, "melding": str(exc)})
            self.db.commit()
        return results


def make_server(host: str, port: int, copy: Copy) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def _send(self, status: int, body: Any) -> None:
            data = json.dumps(body, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            url = urlparse(self.path)
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            try:
                if url.path == "/objekter":
                    self._send(200, copy.page(int(query.get("start") or 0), min(int(query.get("antall") or 500), 1000)))
                elif url.path.startswith("/objekter/"):
                    found = copy.get(int(url.path.rsplit("/", 1)[1]))
                    self._send(200 if found is not None else 404, found or {"message": "finnes ikke"})
                else:
                    self._send(404, {"message": f"Ingen ressurs på {url.path}"})
            except ValueError as exc:
                self._send(400, {"message": str(exc)})

        def do_POST(self) -> None:
            if urlparse(self.path).path != "/endringer":
                self._send(404, {"message": f"Ingen ressurs på {self.path}"})
                return
            try:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                changes = body["endringer"]
            except (ValueError, KeyError, TypeError) as exc:
                self._send(400, {"message": f"Ugyldig JSON: {exc}"})
                return
            if not isinstance(changes, list) or len(changes) > MAX_CHANGES:
                self._send(400, {"message": f"endringer: en liste med høyst {MAX_CHANGES}"})
                return
            self._send(200, {"resultat": copy.apply(changes)})

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return ThreadingHTTPServer((host, port), Handler)


def serve(host: str, port: int, db: str) -> None:
    server = make_server(host, port, Copy(db))
    print(f"konsument på http://{host}:{server.server_address[1]} (SQLite {db}); Ctrl-C stopper")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def add_consumer_parser(sub: Any) -> None:
    parser = sub.add_parser("konsument", help="run the reference HTTP consumer (its copy in SQLite)")
    parser.add_argument("--port", type=int, default=3200)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--db", required=True, help="the SQLite file (created if missing)")
    parser.set_defaults(func=_cmd)


def _cmd(args: Any) -> int:
    serve(args.host, args.port, args.db)
    return 0
