# Sourced by .ci/start_postgres and .ci/stop_postgres: where the throwaway cluster lives and how
# to run PostgreSQL's programs (as the postgres user when run as root, which initdb requires).
DIR="${CDS_CI_PG_DIR:-/tmp/lenalidomide-cds-pg}"
PORT="${CDS_CI_PG_PORT:-54329}"

find_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

if [ "$(id -u)" = 0 ]; then
  as_pg() { runuser -u postgres -- "$@"; }
else
  as_pg() { "$@"; }
fi
