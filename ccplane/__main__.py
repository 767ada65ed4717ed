"""ccplane command line.

    ccplane serve [--host H] [--port P]
    ccplane db upgrade | downgrade [REV] | current
    ccplane sandbox up | down | status [--json] | cli "<command>"
    ccplane render [--check]
    ccplane user create --root USER [--password-stdin]
    ccplane audit verify --domain SLUG
    ccplane demo [--rate CALLS_PER_MIN] [--agents N] [--duration S] [--seed N] [--profile P]
"""
from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from typing import Any, Sequence

from .errors import CcplaneError, SettingsError
from .settings import Settings, load_settings


def _fail(message: str, code: int = 1) -> int:
    print(f"ccplane: error: {message}", file=sys.stderr)
    return code


# -- db ---------------------------------------------------------------------
def cmd_db(settings: Settings, args: argparse.Namespace) -> int:
    from alembic import command

    from .db.session import alembic_config
    cfg = alembic_config(settings.database.url)
    if args.action == "upgrade":
        command.upgrade(cfg, args.revision or "head")
    elif args.action == "downgrade":
        command.downgrade(cfg, args.revision or "base")
    else:
        command.current(cfg, verbose=False)
    return 0


async def _schema_problem(settings: Settings) -> str | None:
    from .db.session import create_engine, current_revision, head_revision
    engine = create_engine(settings.database.url)
    try:
        current = await current_revision(engine)
    finally:
        await engine.dispose()
    head = head_revision(settings.database.url)
    if current != head:
        return (f"database schema is at {current or 'empty'}, this ccplane needs {head}; "
                "run `ccplane db upgrade` first")
    return None


# -- serve ------------------------------------------------------------------
async def _freeze_heap(_app: object) -> None:
    """Everything alive once started (modules, mappers, compiled statements, the
    rebuilt boards) moves to the collector's permanent generation: a full collection
    under load then scans only what came after (measured: 109 ms pauses of the event
    loop without it, bench/sip_load.py --stalls)."""
    import gc
    gc.collect()
    gc.freeze()


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    problem = asyncio.run(_schema_problem(settings))
    if problem:
        return _fail(problem)
    from aiohttp import web

    from .app import create_app
    from .web.keys import SERVICES
    app = create_app(settings, exit_on_demotion=True)
    app.on_startup.append(_freeze_heap)  # after the telephony start (cleanup_ctx runs first)
    host = args.host or settings.server.host
    port = args.port or settings.server.port
    print(f"ccplane serving on http://{host}:{port}/api/v1/health", file=sys.stderr)
    web.run_app(app, host=host, port=port, print=None, access_log=None)
    if app[SERVICES].leadership.role == "demoted":
        return _fail("another replica leads now; this one stopped acting (restart it to stand by)", 75)
    return 0


# -- sandbox ----------------------------------------------------------------
def _sandbox_settings(settings: Settings, args: argparse.Namespace) -> Settings:
    changes: dict[str, Any] = {k: getattr(args, k) for k in ("name", "ami_port", "http_port", "sip_port")
                               if getattr(args, k, None) is not None}
    if not changes:
        return settings
    import dataclasses
    return settings.replace(sandbox=dataclasses.replace(settings.sandbox, **changes))


def cmd_sandbox(settings: Settings, args: argparse.Namespace) -> int:
    from .asterisk.sandbox import Sandbox
    settings = _sandbox_settings(settings, args)
    sandbox = Sandbox(settings.sandbox, progress=lambda m: print(m, file=sys.stderr, flush=True))
    if args.action == "up":
        state = sandbox.up()
        print(f"sandbox '{state.name}' running: AMI 127.0.0.1:{state.ami_port}, ARI {state.ari_url}, "
              f"SIP 127.0.0.1:{state.sip_port}, config {state.config_dir}")
    elif args.action == "down":
        print("stopped" if sandbox.down() else "not running")
    elif args.action == "status":
        st = sandbox.status()
        if args.json:
            print(json.dumps(st, indent=2))
        else:
            for key in ("name", "running", "pid", "version", "ami", "ari", "ami_port", "http_port",
                        "sip_port", "config_dir"):
                print(f"{key:>10}: {st.get(key)}")
        return 0 if st.get("running") else 3
    elif args.action == "cli":
        print(sandbox.cli(" ".join(args.command)), end="")
    return 0


# -- render -----------------------------------------------------------------
async def _render(settings: Settings, check: bool) -> int:
    from .app import render_contributions
    from .asterisk.connection import resolve_target
    from .asterisk.render import NotOwner, Renderer
    from .db.identity import deployment_id
    from .db.session import create_engine, session_factory
    problem = await _schema_problem(settings)
    if problem:
        return _fail(problem)
    target = resolve_target(settings)
    engine = create_engine(settings.database.url)
    try:
        a = settings.asterisk
        # the same model serve renders (a different one would flap the files on every start)
        renderer = Renderer(session_factory(engine), target.config_dir, contributions=render_contributions(),
                            qualify_frequency=a.qualify_frequency, ari_app=a.ari_app,
                            unknown_did_delay=a.unknown_did_delay, admission=settings.admission)
        renderer.owner, renderer.take_over = await deployment_id(session_factory(engine)), a.take_over
        if check:
            changed = await renderer.check()
            print("\n".join(f"would change: {renderer.out_dir / n}" for n in changed) or "up to date")
            return 1 if changed else 0
        try:
            result = await renderer.apply()
        except NotOwner as exc:
            return _fail(str(exc))
        print("\n".join(f"wrote: {renderer.out_dir / n}" for n in result.changed) or "up to date")
        if result.changed:
            print("(a running `ccplane serve` reloads Asterisk itself; otherwise run "
                  "`ccplane sandbox cli 'core reload'`)")
        return 0
    finally:
        await engine.dispose()


# -- user -------------------------------------------------------------------
async def _create_root(settings: Settings, username: str, password: str) -> int:
    from .db.session import create_engine, session_factory
    from .features.auth.services import AuthService
    problem = await _schema_problem(settings)
    if problem:
        return _fail(problem)
    engine = create_engine(settings.database.url)
    try:
        await AuthService(session_factory(engine), settings.auth).create_root(username, password)
    finally:
        await engine.dispose()
    print(f"root user {username} created")
    return 0


def cmd_user(settings: Settings, args: argparse.Namespace) -> int:
    if not args.root:
        return _fail("only `user create --root USER` exists on the command line; "
                     "create domain users through the API", 2)
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            return _fail("passwords differ", 2)
    if len(password) < 8:
        return _fail("password must have at least 8 characters", 2)
    return asyncio.run(_create_root(settings, args.root, password))


# -- audit -----------------------------------------------------------------
async def _verify_audit(settings: Settings, slug: str) -> int:
    from .db.session import create_engine, session_factory
    from .features.alerts.services import verify_domain_chain
    engine = create_engine(settings.database.url)
    try:
        ok, message = await verify_domain_chain(session_factory(engine), slug)
    finally:
        await engine.dispose()
    print(f"audit chain of {slug}: {'OK' if ok else 'BROKEN'}: {message}")
    return 0 if ok else 1


def cmd_audit(settings: Settings, args: argparse.Namespace) -> int:
    return asyncio.run(_verify_audit(settings, args.domain))


# -- demo ------------------------------------------------------------------
def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from alembic import command

    from .db.session import alembic_config
    from .demo.runner import DemoOptions, run_demo
    command.upgrade(alembic_config(settings.database.url), "head")
    options = DemoOptions(rate=args.rate, agents=args.agents, duration=args.duration, seed=args.seed,
                          profile=args.profile, host=args.host, port=args.port, report=args.report,
                          credentials=args.credentials)
    return run_demo(settings, options)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ccplane", description="Contact-center control plane for Asterisk")
    p.add_argument("--config", help="config file (default config/ccplane.toml or $CCPLANE_CONFIG)")
    sub = p.add_subparsers(dest="cmd", required=True)

    s = sub.add_parser("serve", help="run the API and the Asterisk control loop")
    s.add_argument("--host")
    s.add_argument("--port", type=int)

    d = sub.add_parser("db", help="database schema (Alembic)")
    d.add_argument("action", choices=["upgrade", "downgrade", "current"])
    d.add_argument("revision", nargs="?")

    sb = sub.add_parser("sandbox", help="local Asterisk 22 sandbox (Debian sid chroot)")
    sb.add_argument("action", choices=["up", "down", "status", "cli"])
    sb.add_argument("command", nargs="*", help="for cli: the Asterisk CLI command")
    sb.add_argument("--json", action="store_true", help="status as JSON (with AMI/ARI credentials)")
    sb.add_argument("--name", help="instance name (several sandboxes can run side by side)")
    sb.add_argument("--ami-port", type=int)
    sb.add_argument("--http-port", type=int)
    sb.add_argument("--sip-port", type=int)

    r = sub.add_parser("render", help="render the database into Asterisk config")
    r.add_argument("--check", action="store_true", help="only show what would change (exit 1 if anything)")

    a = sub.add_parser("audit", help="verify the alert audit log's hash chain")
    a.add_argument("action", choices=["verify"])
    a.add_argument("--domain", required=True, help="domain slug")

    u = sub.add_parser("user", help="bootstrap accounts")
    u.add_argument("action", choices=["create"])
    u.add_argument("--root", metavar="USER", help="create the global root administrator USER")
    u.add_argument("--password-stdin", action="store_true")

    dm = sub.add_parser("demo", help="a living contact center: sandboxes, agents on SIP phones, real traffic")
    dm.add_argument("--rate", type=float, default=10.0, help="calls per minute (default 10)")
    dm.add_argument("--agents", type=int, default=5, choices=range(1, 41), metavar="N",
                    help="simulated queue agents, 1-40 (default 5; two monitoring attendants besides)")
    dm.add_argument("--duration", type=float, default=0.0,
                    help="seconds of traffic, then the report and serving on (default 0: until Ctrl-C)")
    dm.add_argument("--seed", type=int, default=1)
    dm.add_argument("--profile", choices=["steady", "spike", "alert-storm"], default="steady")
    dm.add_argument("--host")
    dm.add_argument("--port", type=int)
    dm.add_argument("--report", metavar="FILE", help="also write the generator's JSON report to FILE")
    dm.add_argument("--credentials", default="ccplane-demo.json", metavar="FILE",
                    help="where the demo accounts' passwords are kept (default ./ccplane-demo.json)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(args.config)
        from .logs import setup_logging
        setup_logging(settings.log.level, settings.log.format)
        handler = {"serve": cmd_serve, "db": cmd_db, "sandbox": cmd_sandbox,
                   "render": cmd_render, "user": cmd_user, "audit": cmd_audit,
                   "demo": cmd_demo}[args.cmd]
        return handler(settings, args)
    except SettingsError as exc:
        return _fail(f"invalid configuration: {exc}", 2)
    except CcplaneError as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        return 130


def cmd_render(settings: Settings, args: argparse.Namespace) -> int:
    return asyncio.run(_render(settings, args.check))


if __name__ == "__main__":
    sys.exit(main())
