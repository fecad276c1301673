"""Command line: ``python -m dashboard <command>`` (DESIGN §11)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time

from dashboard.config import load_settings
from dashboard.db import ROOT

log = logging.getLogger("dashboard")


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def _runtime(args):
    from dashboard.runtime import Runtime

    return Runtime.create(load_settings())


def cmd_run(args) -> int:
    """The web app is built by app.py, the composition root above the core (which never
    imports it): run that program in this process."""
    load_settings()  # bad settings are reported here, as for every command
    entry = str(ROOT / "app.py")
    os.execv(sys.executable, [sys.executable, entry])


def cmd_migrate(args) -> int:
    rt = _runtime(args)
    progress(f"schema is current in {rt.settings.effective_database_url.split('@')[-1]}")
    rt.close()
    return 0


def cmd_seed_demo(args) -> int:
    from dashboard import demo

    rt = _runtime(args)
    try:
        if args.reset:
            progress("removing the existing data")
            reset_database(rt)
        demo.seed_demo(rt, days=args.days, per_day=args.per_day, seed=args.seed, progress=progress)
    except RuntimeError as exc:
        print(f"error: {exc} (use --reset to replace it)", file=sys.stderr)
        return 2
    finally:
        rt.close()
    return 0


def reset_database(rt) -> None:
    from dashboard.db import migrate
    from dashboard.models import Base

    Base.metadata.drop_all(rt.engine)
    with rt.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    migrate(rt.engine)
    rt.live.delete_all()


def cmd_create_user(args) -> int:
    from dashboard import auth

    rt = _runtime(args)
    try:
        with rt.sessions() as session, session.begin():
            user, password = auth.create_user(session, args.username, args.role, args.area)
    except auth.AccountError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        rt.close()
    print(f"user {user.username} ({user.role}) created; password (shown once): {password}")
    return 0


def cmd_create_token(args) -> int:
    from dashboard import auth

    rt = _runtime(args)
    try:
        with rt.sessions() as session, session.begin():
            token = auth.create_token(
                session, args.name or f"{args.source}-feed", "ingest", args.source
            )
    except auth.AccountError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        rt.close()
    print(f"token for source {args.source} (shown once; keep it secret):\n{token}")
    return 0


def cmd_revoke_token(args) -> int:
    from dashboard import auth

    rt = _runtime(args)
    with rt.sessions() as session, session.begin():
        n = auth.revoke_token(session, args.name)
    rt.close()
    print(f"revoked {n} token(s) named {args.name!r}")
    return 0 if n else 1


def cmd_create_display(args) -> int:
    from dashboard import auth

    rt = _runtime(args)
    with rt.sessions() as session, session.begin():
        token = auth.create_token(session, args.name, "display")
    base = display_base(rt.settings, args.base_url)
    rt.close()
    print(
        f"wall display {args.name!r} created; its URL (shown once):\n{base}/?kiosk=1&token={token}"
    )
    return 0


def display_base(settings, given: str | None) -> str:
    """The address a wall opens: the one given, else the one the running app serves on (it
    writes it into VAR_DIR), else HOST and PORT."""
    if given:
        return given.rstrip("/")
    try:
        recorded = settings.serving_file.read_text().strip()
    except OSError:
        recorded = ""
    return recorded or f"http://{settings.host}:{settings.port}"


def cmd_import(args) -> int:
    from dashboard import importer, roster

    if args.dry_run and args.kind not in roster.IMPORTERS:
        print("error: --dry-run is for staff, shifts and training files", file=sys.stderr)
        return 2
    rt = _runtime(args)
    try:
        if args.kind in roster.IMPORTERS:
            report = roster.import_file(rt, args.kind, args.file, progress, dry_run=args.dry_run)
        else:
            report = importer.import_file(
                rt, args.kind, args.file, source=args.source, progress=progress
            )
    except importer.ImportFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        rt.close()
    print(report.summary())
    for line in report.errors[: args.show_errors]:
        print(f"  row {line['row']}: {line['errors']}")
    if len(report.errors) > args.show_errors:
        print(f"  … {len(report.errors) - args.show_errors} more rows with errors")
    if report.error_file:
        print(f"row-level errors written to {report.error_file}")
    if args.dry_run:
        for line in report.preview.rows[: args.show_errors]:
            print("  " + "  ".join(f"{k}={v}" for k, v in line.items()))
    return 0 if not report.errors else 1


def cmd_report(args) -> int:
    """周例会: a week's workbook (its figures and its 通报, as edited if it was)."""
    from pathlib import Path

    from dashboard import reportpdf, weekly
    from dashboard.clock import utcnow
    from dashboard.schemas import InputError

    rt = _runtime(args)
    try:
        zone = rt.settings.zone
        now = utcnow()
        try:
            week = weekly.parse(args.week, zone) if args.week else weekly.last_week(now, zone)
        except InputError as exc:
            print(f"error: --week: {exc.errors['week']}", file=sys.stderr)
            return 2
        with rt.sessions() as session:
            try:
                f = weekly.figures(session, week, now, zone, rt.settings.staffing)
            except InputError as exc:
                print(f"error: --week: {exc.errors['week']}", file=sys.stderr)
                return 2
            text, edited = weekly.bulletin_text(
                session, week, weekly.bulletin(f, rt.settings.city_name)
            )
        folder = Path(args.out) if args.out else rt.settings.var_dir / "reports"
        folder.mkdir(parents=True, exist_ok=True)
        state = "as edited" if edited else "as generated"
        xlsx = folder / f"weekly-{week.label}.xlsx"
        xlsx.write_bytes(weekly.to_xlsx(f, text))
        progress(f"{week.label}: {xlsx} (通报 {state})")
        try:
            pdf = reportpdf.weekly_pdf(
                f, text, rt.settings.city_name, now, zone, rt.settings.report_font
            )
        except reportpdf.FontMissing as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        (folder / f"weekly-{week.label}.pdf").write_bytes(pdf)
        progress(f"{week.label}: {folder / f'weekly-{week.label}.pdf'} (通报 {state})")
        return 0
    finally:
        rt.close()


def cmd_rollup(args) -> int:
    from dashboard import jobs

    rt = _runtime(args)
    progress("rebuilding the summary tables" if args.rebuild else "rolling up new transitions")
    result = jobs.rollup(rt, rebuild=args.rebuild)
    rt.close()
    progress(f"done: {result}")
    return 0


def cmd_reconcile(args) -> int:
    from dashboard import reconcile

    rt = _runtime(args)
    drift = reconcile.reconcile(rt, repair=not args.check)
    rt.close()
    for d in drift[:50]:
        print(f"  {d['key']} {d['field']}: redis={d['redis']} sql={d['sql']}")
    print(f"{len(drift)} field(s) drifted" + ("" if args.check else " and were repaired"))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m dashboard", description="市域社会治理综合指挥平台")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="start the web app (and scheduler, simulator)").set_defaults(
        func=cmd_run
    )
    sub.add_parser("migrate", help="bring the database schema up to date").set_defaults(
        func=cmd_migrate
    )
    s = sub.add_parser("seed-demo", help="create the demo city with its history")
    s.add_argument("--days", type=int, default=90)
    s.add_argument("--per-day", type=float, default=2900.0, help="events per weekday (average)")
    s.add_argument("--seed", type=int, default=20261126)
    s.add_argument("--reset", action="store_true", help="drop all data first")
    s.set_defaults(func=cmd_seed_demo)
    s = sub.add_parser("create-user", help="create a user; prints a generated password")
    s.add_argument("--username", required=True)
    s.add_argument("--role", required=True)
    s.add_argument("--area", help="area code (required for district_officer)")
    s.set_defaults(func=cmd_create_user)
    s = sub.add_parser("create-token", help="create an ingest API token for one source")
    s.add_argument("--source", required=True)
    s.add_argument("--name")
    s.set_defaults(func=cmd_create_token)
    s = sub.add_parser("revoke-token", help="revoke the tokens of a name")
    s.add_argument("--name", required=True)
    s.set_defaults(func=cmd_revoke_token)
    s = sub.add_parser("create-display", help="create a wall display; prints its URL")
    s.add_argument("--name", required=True)
    s.add_argument(
        "--base-url",
        help="the address walls open, e.g. https://cc.example.gov.cn (default: the running app's)",
    )
    s.set_defaults(func=cmd_create_display)
    s = sub.add_parser(
        "import",
        help="import events, areas, the staff roster, duty shifts or training records "
        "from CSV/XLSX/GeoJSON",
    )
    s.add_argument("kind", choices=["events", "areas", "staff", "shifts", "training"])
    s.add_argument("file")
    s.add_argument("--source", help="default source for event rows without one")
    s.add_argument(
        "--dry-run",
        action="store_true",
        help="staff, shifts, training: check the file and say what it would change; write nothing",
    )
    s.add_argument("--show-errors", type=int, default=20)
    s.set_defaults(func=cmd_import)
    s = sub.add_parser("report", help="周例会: write a week's report (XLSX and PDF)")
    s.add_argument("kind", choices=["weekly"])
    s.add_argument("--week", help="an ISO week such as 2026-W47 (default: last week)")
    s.add_argument("--out", help="the folder to write to (default: VAR_DIR/reports)")
    s.set_defaults(func=cmd_report)
    s = sub.add_parser("rollup", help="roll up new transitions into the summary tables")
    s.add_argument("--rebuild", action="store_true", help="recompute everything from scratch")
    s.set_defaults(func=cmd_rollup)
    s = sub.add_parser("reconcile", help="rebuild the Redis live state from SQL, report drift")
    s.add_argument("--check", action="store_true", help="report only, do not repair")
    s.set_defaults(func=cmd_reconcile)
    return p


def configure_logging() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # Every job run and every wall refresh would otherwise be a line in the log.
    for noisy in ("apscheduler", "werkzeug"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    configure_logging()
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ValueError as exc:  # bad settings
        print(f"error: {exc}", file=sys.stderr)
        return 2
