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

from tests.unit.provisioning.test_run import FakeProvider, FakeStore, objects, run_all
from tests.unit.provisioning.test_run import consumer as konsument_of
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


@pytest.mark.parametrize("answer", [
    {},  # no "objekter": read as "I hold nothing"
    {"message": "Internal error"},  # an error body with 200
    {"objekter": None, "neste": None},
    {"objekter": [], "neste": 17},  # "there is more" with an empty page: read as the end of the list
])
def test_an_id_list_without_the_contracts_shape_is_the_consumers_fault(consumer: Any, answer: Any) -> None:
    target, answers = consumer
    answers["/objekter"] = answer
    with pytest.raises(ConsumerError):
        target.held(2, 10)


@pytest.mark.parametrize("ok", ["false", "nei"])
def test_only_ok_true_confirms_a_change(consumer: Any, ok: Any) -> None:
    target, answers = consumer
    answers["/endringer"] = {"resultat": [{"id": 3, "ok": ok, "melding": "avvist"}]}
    try:
        answer = target.apply([{"handling": "DELETE", "id": 3}])
    except ConsumerError:
        return  # refusing the answer is as good
    assert answer[3] is not None, f'"ok": {ok!r} counted as applied'


def test_an_error_body_from_the_consumer_does_not_lose_tonights_deletes(consumer: Any) -> None:
    target, answers = consumer
    answers["/objekter"] = {"message": "database is locked"}  # HTTP 200, not the contract's shape
    answers["/endringer"] = {"resultat": []}
    provider, store = FakeProvider(objects(10)), FakeStore()
    konsument = konsument_of()
    konsument.vannmerke = provider.watermark()  # the consumer holds 1..10 from earlier runs
    provider.change(3, None)  # removed at the provider today
    try:
        run = run_all(provider, target, store, konsument, modus="DELTA")
    except ConsumerError:
        run = None  # jobs.run_step ends the run FEILET with the reason
    assert store.watermark is None, f"the watermark moved past a delete never sent: {run}"
