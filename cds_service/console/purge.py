"""``lenalidomide-cds purge``: delete stored rows older than their retention setting.

Run it from the deployment's scheduler (a cron job, a Kubernetes CronJob) with the service's own
environment: it reads the same database settings (``CDS_DATABASE_URL`` / ``CDS_FEEDBACK_DB``) and the
retention settings (``CDS_AUDIT_RETENTION_DAYS``; ``CDS_DTR_CONTEXT_DAYS``, default 30, for the DTR
judgements; see ``storage/retention.py``). A table whose setting
is unset is kept whole. Safe while the service runs: deletions go in small transactions.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from sqlalchemy.exc import SQLAlchemyError

from ..storage import Store
from ..storage.retention import purge
from ..web import config


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "purge",
        help="delete audit, feedback and DTR rows older than their retention (CDS_AUDIT_RETENTION_DAYS, ...)",
        description=__doc__.split("\n", 1)[0].strip("`"),
    )
    parser.add_argument("--dry-run", action="store_true", help="count the rows that would go; delete nothing")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        settings = config.load()
    except config.ConfigurationError as exc:
        sys.stderr.write(f"lenalidomide-cds purge: {exc}\n")
        return 2
    # The schema must be the service's own: never migrate from here (the service does at start).
    store = Store.open(settings, upgrade=False)
    try:
        results = purge(store, settings, datetime.now(UTC), dry_run=args.dry_run)
    except SQLAlchemyError as exc:
        sys.stderr.write(f"lenalidomide-cds purge: the database cannot be purged: {type(exc).__name__}\n")
        return 1
    finally:
        store.close()
    verb = "would delete" if args.dry_run else "deleted"
    for result in results:
        if result.days is None:
            print(f"{result.table}: kept whole ({result.setting} is not set)")
        else:
            print(
                f"{result.table}: {verb} {result.rows} rows older than "
                f"{result.cutoff:%Y-%m-%dT%H:%M:%SZ} ({result.setting}={result.days})"
            )
    return 0
