"""The simulator as a child process, driven through its control endpoints.

Tests, benchmarks and the one-machine launcher all need the same thing: start
``python -m chapar.simulator`` on a free port, know when it answers, change its faults and
credit, read its outbox, stop it. A separate process (rather than a thread) keeps the
simulator's CPU apart from the client's, as with a real provider.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from types import TracebackType
from typing import Any

import httpx

#: fault values that mean "no fault" (see SimulatorConfig)
NO_FAULTS: dict[str, Any] = {
    "latency_ms": 0.0,
    "error_rate": 0.0,
    "error_status": 503,
    "timeout_rate": 0.0,
    "drop_rate": 0.0,
    "credit_stop_after": None,
    "fault_scope": "send",
    "seed": 0,
}


class SimulatorProcess:
    """``with SimulatorProcess(credit=…) as sim: sim.base_url …``.

    ``base_url`` is what a Kavenegar adapter takes (``http://127.0.0.1:PORT/v1``).
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        credit: int = 10**12,
        delivery_delay_s: float = 0.5,
        reply_rate: float = 0.01,
        reply_delay_s: float = 3.0,
        args: tuple[str, ...] = (),
        ready_timeout_s: float = 15.0,
    ) -> None:
        self.host = host
        self.credit = credit
        self.delivery_delay_s = delivery_delay_s
        self.reply_rate = reply_rate
        self.reply_delay_s = reply_delay_s
        self._argv = [
            sys.executable,
            "-m",
            "chapar.simulator",
            "--host",
            host,
            "--port",
            str(port),
            "--credit",
            str(credit),
            "--delivery-delay-s",
            str(delivery_delay_s),
            "--reply-rate",
            str(reply_rate),
            "--reply-delay-s",
            str(reply_delay_s),
            *args,
        ]
        self._ready_timeout_s = ready_timeout_s
        self._process: subprocess.Popen[str] | None = None
        self._http: httpx.Client | None = None
        self.port = port

    # --- lifecycle -----------------------------------------------------------------------

    def start(self) -> SimulatorProcess:
        # stderr goes to a file the child keeps; read here only if start-up fails.
        with tempfile.TemporaryFile(mode="w+") as stderr:
            self._process = subprocess.Popen(
                self._argv,
                stdout=subprocess.PIPE,
                stderr=stderr,
                stdin=subprocess.DEVNULL,
                text=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
            line = self._first_line()
            if "listening on" not in line:
                self.stop()
                stderr.seek(0)
                raise RuntimeError(f"simulator did not start: {line!r} {stderr.read()[-2000:]}")
        self.port = int(line.rsplit(":", 1)[1].split("/", 1)[0])
        self._http = httpx.Client(base_url=self.root_url, timeout=10.0, trust_env=False)
        deadline = time.monotonic() + self._ready_timeout_s
        while True:
            try:
                self.state()
                return self
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise
                time.sleep(0.02)

    def _first_line(self) -> str:
        """The "listening on" line, or "" if none came within the ready timeout."""
        assert self._process is not None and self._process.stdout is not None
        stdout = self._process.stdout
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.append(stdout.readline()), daemon=True)
        reader.start()
        reader.join(self._ready_timeout_s)
        return lines[0].strip() if lines else ""

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it lingers. Only this object's own child is signalled."""
        if self._http is not None:
            self._http.close()
            self._http = None
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        if process.stdout is not None:
            process.stdout.close()

    def __enter__(self) -> SimulatorProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def pid(self) -> int:
        assert self._process is not None, "not started"
        return self._process.pid

    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/v1"

    # --- control -------------------------------------------------------------------------

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        assert self._http is not None, "not started"
        response = self._http.request(method, f"/_simulator/{path}", json=body)
        response.raise_for_status()
        return response.json()

    def state(self) -> dict[str, Any]:
        return dict(self._call("GET", "state"))

    def outbox(self, receptor: str | None = None) -> dict[str, Any]:
        return dict(self._call("GET", "outbox" + (f"?receptor={receptor}" if receptor else "")))

    def receptor(self, number: str) -> dict[str, Any]:
        """One number's outbox line (zeros if it never received anything)."""
        line = self.outbox(number)["receptors"].get(number)
        return line or {"accepted": 0, "submissions": 0, "local_ids": []}

    def set_faults(self, **faults: Any) -> dict[str, Any]:
        return dict(self._call("POST", "faults", faults))

    def clear_faults(self) -> None:
        self.set_faults(
            **NO_FAULTS,
            delivery_delay_s=self.delivery_delay_s,
            reply_rate=self.reply_rate,
            reply_delay_s=self.reply_delay_s,
        )

    def set_credit(self, credit: int) -> None:
        self._call("POST", "credit", {"credit": credit})

    def inbox(self) -> list[dict[str, Any]]:
        """Every reply in the simulator's inbox, read or not (``read`` says which)."""
        return list(self._call("GET", "inbox"))

    def inject(self, sender: str, text: str, receptor: str | None = None) -> dict[str, Any]:
        """A reply from ``sender`` to our line ``receptor`` (default: the line that last
        messaged it), as ``sms/receive`` will return it."""
        reply = {"sender": sender, "text": text}
        if receptor is not None:
            reply["receptor"] = receptor
        return dict(self._call("POST", "inbox", reply)[0])

    def reset(self) -> None:
        """Empty outbox and inbox, no faults, the starting credit, delivery delay and reply
        settings."""
        self._call("POST", "reset")
        self.clear_faults()
        self.set_credit(self.credit)

    def cpu_seconds(self) -> float:
        """CPU the simulator process has used so far."""
        return float(self.state()["cpu_s"])
