"""The simulation helper process: ``python -m deskpilot.demo.helper``.

Large demo runs simulate tickets here while the parent writes them (see
``generator._simulated_elsewhere``). Simulating is pure Python, so a thread would only take
turns with the writer under the GIL; a second process uses the second core.

A plain subprocess rather than ``multiprocessing``: multiprocessing's spawn re-imports the
parent's main script, which breaks under any caller without a ``__main__`` guard, and fork would
copy the parent's open database connection. The protocol is pickles over pipes: stdin carries
one ``(Simulator, slices)`` pair, stdout returns one ``Batch`` per slice, in order, or a
``SimulationFailed``. The pipe's small buffer keeps the helper about one batch ahead.
"""

from __future__ import annotations

import gc
import pickle
import signal
import sys
import traceback

from deskpilot.demo.simulate import SimulationFailed


def main() -> int:
    # Ctrl-C reaches the whole process group; the parent decides when the helper stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    gc.disable()  # the rows hold no reference cycles (see generator._no_cyclic_gc)
    out = sys.stdout.buffer
    try:
        simulator, slices = pickle.load(sys.stdin.buffer)  # noqa: S301 - our own parent wrote it
        for arrivals in slices:
            pickle.dump(simulator.batch(arrivals), out, protocol=pickle.HIGHEST_PROTOCOL)
            out.flush()
    except BrokenPipeError:
        return 0  # the parent stopped reading: it is done or gone
    except BaseException:  # reported to the parent, which raises it there
        pickle.dump(SimulationFailed(traceback.format_exc()), out)
        out.flush()
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
