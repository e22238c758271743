"""The simulator's HTTP/1.1 server, spoken to with raw sockets and curl-like requests: what
any real client may send must work (keep-alive, chunked bodies, 100-continue, GET)."""

from __future__ import annotations

import json
import socket
from typing import Any
from urllib.parse import quote_plus, unquote_plus, unquote_to_bytes, urlencode

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chapar.simulator.process import SimulatorProcess
from chapar.simulator.server import parse_form, unquote_form

pytestmark = pytest.mark.integration


def exchange(port: int, *requests: bytes, read_until_close: bool = False) -> bytes:
    """Send raw requests on one connection; return everything read back."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        for request in requests:
            conn.sendall(request)
        chunks = []
        conn.settimeout(0.5 if not read_until_close else 5)
        try:
            while chunk := conn.recv(65536):
                chunks.append(chunk)
        except TimeoutError:
            pass
        return b"".join(chunks)


def post(path: str, form: dict[str, str], extra: str = "") -> bytes:
    body = urlencode(form).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n{extra}\r\n"
    )
    return head.encode() + body


def bodies(raw: bytes) -> list[Any]:
    """The JSON bodies of the responses in ``raw`` (Content-Length framed)."""
    out = []
    while raw:
        head, _, rest = raw.partition(b"\r\n\r\n")
        if head.startswith(b"HTTP/1.1 100"):
            raw = rest
            continue
        length = next(
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        )
        out.append(json.loads(rest[:length]))
        raw = rest[length:]
    return out


def test_two_requests_share_one_keep_alive_connection(simulator: SimulatorProcess):
    info = b"GET /v1/k/account/info.json HTTP/1.1\r\nHost: x\r\n\r\n"
    raw = exchange(simulator.port, info, info)
    answers = bodies(raw)
    assert len(answers) == 2
    assert all(a["return"]["status"] == 200 for a in answers)


def test_a_get_with_a_query_string_sends_like_a_post(simulator: SimulatorProcess):
    query = urlencode({"receptor": "09121234567", "message": "سلام", "localid": "77"})
    raw = exchange(simulator.port, f"GET /v1/k/sms/send.json?{query} HTTP/1.1\r\n\r\n".encode())
    (answer,) = bodies(raw)
    assert answer["entries"][0]["message"] == "سلام"
    assert simulator.receptor("989121234567")["local_ids"] == ["77"]


def test_a_chunked_body_is_read(simulator: SimulatorProcess):
    body = urlencode(
        {"receptor": '["989121234567"]', "sender": '["1000"]', "message": '["chunked"]'}
    ).encode()
    chunked = (
        b"".join(
            b"%x\r\n%s\r\n" % (len(body[i : i + 10]), body[i : i + 10])
            for i in range(0, len(body), 10)
        )
        + b"0\r\n\r\n"
    )
    head = b"POST /v1/k/sms/sendarray.json HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
    (answer,) = bodies(exchange(simulator.port, head + chunked))
    assert answer["entries"][0]["message"] == "chunked"


def test_expect_100_continue_is_answered_before_the_body(simulator: SimulatorProcess):
    request = post(
        "/v1/k/sms/sendarray.json",
        {"receptor": '["989121234567"]', "sender": '["1000"]', "message": '["x"]'},
        extra="Expect: 100-continue\r\n",
    )
    head, _, body = request.partition(b"\r\n\r\n")
    with socket.create_connection(("127.0.0.1", simulator.port), timeout=5) as conn:
        conn.sendall(head + b"\r\n\r\n")
        assert conn.recv(100).startswith(b"HTTP/1.1 100 Continue")
        conn.sendall(body)
        assert conn.recv(65536).startswith(b"HTTP/1.1 200 OK")


def test_connection_close_is_honoured(simulator: SimulatorProcess):
    raw = exchange(
        simulator.port,
        b"GET /v1/k/account/info.json HTTP/1.1\r\nConnection: close\r\n\r\n",
        read_until_close=True,
    )
    assert b"Connection: close" in raw and len(bodies(raw)) == 1


def test_a_malformed_request_gets_400_and_the_connection_closes(simulator: SimulatorProcess):
    raw = exchange(simulator.port, b"NONSENSE\r\n\r\n", read_until_close=True)
    assert raw.startswith(b"HTTP/1.1 400")


def test_errors_carry_the_code_in_both_the_http_status_and_the_envelope(
    simulator: SimulatorProcess,
):
    response = httpx.post(
        f"{simulator.base_url}/k/sms/sendarray.json",
        data={"receptor": '["1"]', "sender": '["1000"]', "message": '["x"]'},
    )
    assert response.status_code == 411
    assert response.json()["return"]["status"] == 411
    assert httpx.delete(f"{simulator.base_url}/k/account/info.json").status_code == 405


def test_control_endpoints_refuse_bad_faults_with_400(simulator: SimulatorProcess):
    for body in ({"error_rate": 5}, {"no_such_fault": 1}, [1, 2]):
        response = httpx.post(f"{simulator.root_url}/_simulator/faults", json=body)
        assert response.status_code == 400
    assert httpx.get(f"{simulator.root_url}/_simulator/nothing").status_code == 404
    assert httpx.get(f"{simulator.root_url}/").status_code == 404


def test_faults_credit_state_and_outbox_round_trip(simulator: SimulatorProcess):
    assert simulator.set_faults(latency_ms=5, error_status=409)["error_status"] == 409
    simulator.set_credit(12345)
    state = simulator.state()
    assert state["credit"] == 12345 and state["faults"]["latency_ms"] == 5
    assert state["cpu_s"] > 0
    assert simulator.outbox("09120000000") == {
        "receptors": {},
        "total_accepted": 0,
        "total_submissions": 0,
    }


# --- the fast form decoder -------------------------------------------------------------------


@given(st.text())
def test_the_fast_form_decoder_agrees_with_unquote_plus_on_encoded_text(text: str):
    assert unquote_form(quote_plus(text).encode()) == text


@given(st.text(alphabet=st.sampled_from("%+=&abcF0\r\n\u0633 ")))
def test_the_fast_form_decoder_agrees_with_the_exact_decoding_on_raw_garbage(raw: str):
    data = raw.encode()
    exact = unquote_to_bytes(data.replace(b"+", b" ")).decode("utf-8", "replace")
    assert unquote_form(data) == exact
    if raw.isascii():
        assert unquote_form(data) == unquote_plus(raw, errors="replace")


def test_form_fields_split_on_ampersands_and_the_first_equals_sign():
    assert parse_form(b"a=1&b=x%3Dy&&c=&d") == {"a": "1", "b": "x=y", "c": "", "d": ""}


# --- the inbox control endpoint ----------------------------------------------------------------


def test_replies_injected_over_http_are_read_by_sms_receive(simulator: SimulatorProcess):
    root = simulator.root_url
    injected = httpx.post(
        f"{root}/_simulator/inbox",
        json=[
            {"sender": "09121234567", "text": "لغو ۱۱", "receptor": "10004346"},
            {"sender": "989351234567", "text": "12", "receptor": "10004346"},
        ],
    )
    assert injected.status_code == 200
    ids = [r["messageid"] for r in injected.json()]
    raw = exchange(
        simulator.port,
        post("/v1/key/sms/receive.json", {"linenumber": "10004346", "isread": "0"}),
        post("/v1/key/sms/receive.json", {"linenumber": "10004346", "isread": "0"}),
    )
    first, second = bodies(raw)
    assert [e["messageid"] for e in first["entries"]] == ids
    assert [e["message"] for e in first["entries"]] == ["لغو ۱۱", "12"]
    assert second["entries"] == []
    assert [r["read"] for r in httpx.get(f"{root}/_simulator/inbox").json()] == [True, True]


def test_a_bad_reply_is_refused_with_400_and_none_of_its_batch_is_added(
    simulator: SimulatorProcess,
):
    for body in (
        {"sender": "09121234567"},
        [{"sender": "09121234567", "text": "11"}, {"sender": "123", "text": "11"}],
        {"sender": "09121234567", "text": "11", "colour": "red"},
    ):
        response = httpx.post(f"{simulator.root_url}/_simulator/inbox", json=body)
        assert response.status_code == 400
    assert simulator.inbox() == []
