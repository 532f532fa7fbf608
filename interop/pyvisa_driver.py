"""PyVISA (pyvisa-py backend) as a client of a socket-oneline server, for interop/pyvisa_test.ts.

    python3 pyvisa_driver.py SCENARIO PORT [WRITE_TERMINATION READ_TERMINATION]

Each step prints one JSON array, [name, value], on its own line; the test compares the
transcript. A scenario that needs the test to act prints a step and waits for a line on
stdin. Terminations are named: lf, crlf or cr.
"""

import json
import sys
import time

import pyvisa
from pyvisa.constants import StatusCode

TERMINATIONS = {"lf": "\n", "crlf": "\r\n", "cr": "\r"}
manager = pyvisa.ResourceManager("@py")


def step(name, value):
    print(json.dumps([name, value]), flush=True)


# Every wait bounded well under the 5 s a test may take on Bun.
def session(port, write="lf", read="lf", timeout=2000):
    return manager.open_resource(
        f"TCPIP0::127.0.0.1::{port}::SOCKET",
        write_termination=TERMINATIONS[write],
        read_termination=TERMINATIONS[read],
        timeout=timeout,
    )


def elapsed_ms(since):
    return round((time.monotonic() - since) * 1000)


def basic(port):
    """query, write + read, a write that is not answered, query_ascii_values."""
    instrument = session(port)
    step("query", instrument.query("*IDN?"))
    instrument.write("CONF:VOLT 10")
    instrument.write("MEAS:VOLT?")
    step("read", instrument.read())
    step("ascii", instrument.query_ascii_values("VALUES?"))
    instrument.close()


def binary(port):
    """IEEE 488.2 definite-length blocks of float32 and float64, then a plain query."""
    instrument = session(port)
    step("float32", instrument.query_binary_values("CURVE32?", datatype="f"))
    step("float64", instrument.query_binary_values("CURVE64?", datatype="d"))
    step("query", instrument.query("*IDN?"))
    instrument.close()


def timeout(port):
    """A query that times out, a ping fence that drops its late answer, the next query."""
    instrument = session(port, timeout=300)
    try:
        step("slow", instrument.query("SLOW?"))
    except pyvisa.errors.VisaIOError as error:
        step("timeout", error.error_code == StatusCode.error_timeout)
    instrument.timeout = 2000
    instrument.write("ping")
    dropped = []
    while (line := instrument.read()) != "pong":
        dropped.append(line)
    step("dropped", dropped)
    step("query", instrument.query("*IDN?"))
    instrument.close()


def sessions(port):
    """50 sessions that close without disconnect, then a 51st."""
    answers = []
    for n in range(50):
        instrument = session(port)
        answers.append(instrument.query(f"SESSION {n}"))
        instrument.close()
    step("answers", answers)
    instrument = session(port)
    start = time.monotonic()
    step("last", instrument.query("SESSION 50"))
    step("ms", elapsed_ms(start))
    instrument.close()


def turn(port):
    """A second session waits while the first is served, and is served once it closes."""
    first = session(port)
    step("first", first.query("FIRST 1"))
    second = session(port)
    second.write("SECOND")
    step("second", "written")
    sys.stdin.readline()
    step("first", first.query("FIRST 2"))
    first.close()
    start = time.monotonic()
    step("second", second.read())
    step("ms", elapsed_ms(start))
    second.close()


def terminations(port, write, read):
    """Two queries with these terminations: nothing is left between them."""
    instrument = session(port, write, read)
    step("query", instrument.query("*IDN?"))
    step("query", instrument.query("MEAS:VOLT?"))
    instrument.close()


SCENARIOS = {f.__name__: f for f in (basic, binary, timeout, sessions, turn, terminations)}

if __name__ == "__main__":
    scenario, port, *rest = sys.argv[1:]
    SCENARIOS[scenario](int(port), *rest)
