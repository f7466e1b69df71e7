"""``python -m streamtui.testing [--host H] [--port P]``: run the mock provider server."""

from __future__ import annotations

import argparse

from streamtui.testing.server import serve


def main(argv: list[str] | None = None) -> None:
    """Parse the few options and serve until Ctrl-C."""
    parser = argparse.ArgumentParser(prog="python -m streamtui.testing", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="loopback address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 = any)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each response")
    parser.add_argument(
        "--jitter", type=float, default=0.0, help="max random seconds between deltas"
    )
    args = parser.parse_args(argv)
    try:
        serve(args.host, args.port, latency=args.latency, jitter=args.jitter)
    except ValueError as exc:
        parser.error(str(exc))


if __name__ == "__main__":
    main()
