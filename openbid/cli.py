"""The ``openbid`` command: serve, worker, demo and Django's management commands.

openbid serve [--demo] [--port N] [--host H] [--no-worker]
openbid worker
openbid demo
openbid escrow create|check ...   (a tender's key escrow, made off the platform)
openbid draw verify <id> | --file draw.json   (recompute a verifiable draw)
openbid manage <django management command> ...
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from collections.abc import Sequence


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openbid.settings")
    import django

    django.setup()


def serve(args: argparse.Namespace) -> int:
    """Migrate, optionally load demo data, then run the web server and the worker together."""
    _setup()
    from django.conf import settings
    from django.core.management import call_command
    from waitress import serve as waitress_serve

    from openbid.wsgi import application

    settings.MEDIA_ROOT.mkdir(parents=True, exist_ok=True)
    call_command("migrate", interactive=False, verbosity=0)
    if args.demo:
        call_command("demo", skip_if_present=True)

    worker: subprocess.Popen[bytes] | None = None
    if not args.no_worker:
        worker = subprocess.Popen([sys.executable, "-m", "openbid.cli", "worker"])

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    url = f"http://{args.host}:{args.port}/"
    print(f"openbid is running at {url}  (API docs: {url}api/docs)", flush=True)
    try:
        waitress_serve(
            application,
            host=args.host,
            port=args.port,
            threads=args.threads,
            ident="openbid",
            clear_untrusted_proxy_headers=True,
        )
    except KeyboardInterrupt:
        pass
    finally:
        if worker is not None:
            worker.terminate()
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()
    return 0


def worker(args: argparse.Namespace) -> int:
    """Run the background task worker and the statutory clock loop (production: beside the web)."""
    _setup()
    from openbid.core.worker import run_worker

    run_worker()
    return 0


def demo(args: argparse.Namespace) -> int:
    _setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    call_command("demo")
    return 0


def manage(argv: Sequence[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openbid.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["openbid manage", *argv])
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "manage":
        return manage(argv[1:])
    if argv and argv[0] == "ledger":
        return manage(["ledger", *argv[1:]])
    if argv and argv[0] == "draw":
        return manage(["draw", *argv[1:]])
    if argv and argv[0] == "escrow":
        from openbid.crypto.escrow_cli import main as escrow_main

        return escrow_main(argv[1:])

    parser = argparse.ArgumentParser(prog="openbid", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_serve = sub.add_parser("serve", help="run the platform (web server and worker)")
    p_serve.add_argument("--demo", action="store_true", help="load demo organisations and users")
    p_serve.add_argument("--host", default=os.environ.get("OPENBID_HOST", "127.0.0.1"))
    p_serve.add_argument("--port", type=int, default=int(os.environ.get("OPENBID_PORT", "8000")))
    p_serve.add_argument("--threads", type=int, default=8)
    p_serve.add_argument("--no-worker", action="store_true", help="do not start the worker")
    p_serve.set_defaults(func=serve)
    sub.add_parser("worker", help="run the background worker and clock loop").set_defaults(
        func=worker
    )
    sub.add_parser("demo", help="create a fresh demo scenario through the services").set_defaults(
        func=demo
    )
    sub.add_parser("ledger", help="verify the ledger (openbid ledger verify --help)")
    sub.add_parser("draw", help="verify a random draw (openbid draw verify --help)")
    sub.add_parser("escrow", help="make a tender's key escrow (openbid escrow create --help)")
    sub.add_parser("manage", help="Django's management commands")
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
