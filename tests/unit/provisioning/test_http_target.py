"""The HTTP consumer contract, client side: an answer of another shape, or ids that do not come in
ascending order after ``start``, is the consumer's fault (ConsumerError: the run ends FEILET with
the reason at once) and never an error that the workflow retries and then reports as unknown."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from vegskriv.provisioning.targets import ConsumerError, HttpTarget


@pytest.fixture()
def consumer() -> Iterator[tuple[HttpTarget, dict[str, Any]]]:
    """A consumer that gives ``answers[path]`` (path without the query) to every request."""
    answers: dict[str, Any] = {}

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            if self.command == "POST":
                self.rfile.read(int(self.headers["Content-Length"]))
            body = json.dumps(answers[self.path.split("?")[0]]).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, *_: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield HttpTarget(f"http://127.0.0.1:{server.server_address[1]}"), answers
    server.shutdown()
    server.server_close()


def test_a_contract_answer_reads(consumer) -> None:
    target, answers = consumer
    answers["/objekter"] = {"objekter": [{"id": 3, "hash": "a"}, {"id": 7, "hash": "b"}], "neste": "7"}
    assert target.held(2, 2) == ([(3, "a"), (7, "b")], 7)
    answers["/endringer"] = {"resultat": [{"id": 3, "ok": True}, {"id": 7, "ok": False, "melding": "nei"}]}
    changes = [{"handling": "DELETE", "id": i} for i in (3, 7, 9)]
    assert target.apply(changes) == {3: None, 7: "nei", 9: "ikke bekreftet av konsumenten"}


@pytest.mark.parametrize("answer", [
    [{"id": 1, "hash": "a"}],  # a list, not {"objekter": ...}
    {"objekter": {"id": 1}},
    {"objekter": [{"id": "én", "hash": "a"}]},
    {"objekter": [{"hash": "a"}]},
    {"objekter": [{"id": 5, "hash": "a"}, {"id": 4, "hash": "b"}]},  # not ascending
    {"objekter": [{"id": 1, "hash": "a"}]},  # not after start (2): the consumer ignored it
])
def test_an_id_list_of_another_shape_is_the_consumers_fault(consumer, answer: Any) -> None:
    target, answers = consumer
    answers["/objekter"] = answer
    with pytest.raises(ConsumerError):
        target.held(2, 10)


@pytest.mark.parametrize("answer", [["ok"], {"resultat": [{"ok": True}]}, {"resultat": "alt ok"}])
def test_a_change_answer_of_another_shape_is_the_consumers_fault(consumer, answer: Any) -> None:
    target, answers = consumer
    answers["/endringer"] = answer
    with pytest.raises(ConsumerError):
        target.apply([{"handling": "DELETE", "id": 1}])
