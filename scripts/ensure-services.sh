#!/usr/bin/env bash
# Make PostgreSQL (127.0.0.1:5432, user postgres, trust auth) and RabbitMQ (127.0.0.1:5672,
# guest/guest) reachable for `make test` on a Debian 12 machine (DESIGN.md §8).
#
#   TEST_DATABASE_URL / TEST_AMQP_URL  when set, that service is not managed, only awaited.
#   ENSURE_SERVICES_TIMEOUT            seconds to wait for each service (default 60).
#
# Never reconfigures an existing PostgreSQL cluster: pg_hba.conf is only edited on a cluster
# this script has just installed.
set -euo pipefail

# pg_ctlcluster's helpers and rabbitmq-server live in sbin, often missing from a user's PATH.
PATH="$PATH:/usr/sbin:/sbin"
TIMEOUT="${ENSURE_SERVICES_TIMEOUT:-60}"
PG_HOST=127.0.0.1
PG_PORT=5432
MQ_HOST=127.0.0.1
MQ_PORT=5672
APT_UPDATED=0

say() { printf 'ensure-services: %s\n' "$*"; }
# die FIRST_LINE [MORE_LINES...]
die() {
    printf 'ensure-services: ERROR: %s\n' "$1" >&2
    shift
    if (($#)); then printf '%s\n' "$@" >&2; fi
    exit 1
}
is_root() { [[ "$(id -u)" == 0 ]]; }
is_user() { [[ "$(id -un)" == "$1" ]]; }

# True if host:port accepts a TCP connection; `timeout` bounds hosts that drop packets.
port_open() {
    # shellcheck disable=SC2016  # $0/$1 are expanded by the inner bash, on purpose
    timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null
}

# pg_isready also waits out "the database system is starting up"; /dev/tcp when not installed.
pg_answers() {
    if command -v pg_isready >/dev/null; then
        pg_isready -q -h "$1" -p "$2" -t 3
    else
        port_open "$1" "$2"
    fi
}

# Print "host|port" of scheme://[user[:password]@]host[:port][/path][?query]; $2 = default port.
url_host_port() {
    local authority=${1#*://} host port
    authority=${authority%%[/?#]*}
    authority=${authority##*@}
    local ipv6='^\[([^]]*)\](:([0-9]*))?$' plain='^([^:]*)(:([0-9]*))?$'
    if [[ $authority =~ $ipv6 || $authority =~ $plain ]]; then
        host=${BASH_REMATCH[1]}
        port=${BASH_REMATCH[3]}
    else
        return 1
    fi
    printf '%s|%s\n' "$host" "${port:-$2}"
}

# wait_until CHECK HOST PORT: poll CHECK for up to $TIMEOUT seconds.
wait_until() {
    local deadline=$((SECONDS + TIMEOUT))
    until "$1" "$2" "$3"; do
        ((SECONDS < deadline)) || return 1
        sleep 1
    done
}

apt_install() {
    if ((APT_UPDATED == 0)); then
        apt-get update
        APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y "$@"
}

# --- PostgreSQL --------------------------------------------------------------------------------

# Newest configured cluster version, e.g. "15"; empty when no cluster exists.
pg_version() {
    [[ -d /etc/postgresql ]] || return 0
    find /etc/postgresql -mindepth 1 -maxdepth 1 -type d -printf '%f\n' 2>/dev/null | sort -V | tail -1
}

pg_running() { pg_ctlcluster "$1" main status >/dev/null 2>&1; }

# Start the newest cluster; sets PG_DID.
pg_start() {
    local ver
    ver=$(pg_version)
    if [[ -d /etc/postgresql/$ver/main ]] && command -v pg_ctlcluster >/dev/null; then
        if pg_running "$ver"; then
            # Up but not answering yet (starting up, or on another port): the wait below tells.
            PG_DID="cluster $ver/main already running"
            return 0
        fi
        PG_DID="started cluster $ver/main"
        pg_ctlcluster --skip-systemctl-redirect "$ver" main start && return 0
    fi
    PG_DID="started with 'service postgresql start'"
    service postgresql start
}

# Prepend trust lines for local TCP; only ever called on a cluster this script created.
pg_trust_local_tcp() {
    local hba=/etc/postgresql/$1/main/pg_hba.conf tmp
    grep -q '^# Added by ensure-services.sh' "$hba" && return 0
    tmp=$(mktemp)
    {
        echo '# Added by ensure-services.sh: test machine, local TCP needs no password (DESIGN.md §8).'
        echo 'host all all 127.0.0.1/32 trust'
        echo 'host all all ::1/128 trust'
        cat "$hba"
    } >"$tmp"
    cat "$tmp" >"$hba" # rewrite in place: keeps the file's owner and mode
    rm -f "$tmp"
}

pg_install() {
    local ver
    apt_install postgresql
    ver=$(pg_version)
    if [[ -z $ver || ! -d /etc/postgresql/$ver/main ]]; then
        # postgresql-common may be set not to create a cluster (create_main_cluster = false).
        ver=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort -V | tail -1)
        pg_createcluster "$ver" main
    fi
    pg_trust_local_tcp "$ver"
    if pg_running "$ver"; then
        pg_ctlcluster "$ver" main reload
    else
        pg_ctlcluster --skip-systemctl-redirect "$ver" main start
    fi
    PG_DID="installed PostgreSQL $ver (cluster $ver/main, trust auth for local TCP)"
}

# --- RabbitMQ ----------------------------------------------------------------------------------

mq_installed() { command -v rabbitmq-server >/dev/null; }

# A node already booting (RabbitMQ needs ~10 s before it listens) must not be started twice.
mq_booting() {
    command -v pgrep >/dev/null && pgrep -f 'beam.* -s rabbit boot' >/dev/null
}

mq_start() {
    mq_booting || rabbitmq-server -detached
}

# True if an AMQP 0-9-1 server completes the first step of a handshake: to the protocol header it
# answers a method frame (type 1, Connection.Start). A listening port alone is not enough: a node
# that is overloaded or wedged accepts TCP connections and never answers them.
mq_answers() {
    # shellcheck disable=SC2016  # $0/$1 are expanded by the inner bash, on purpose
    timeout 10 bash -c 'exec 3<>"/dev/tcp/$0/$1" && printf "AMQP\0\0\x09\x01" >&3 && head -c 1 <&3' \
        "$1" "$2" 2>/dev/null | od -An -tx1 | grep -q 01
}

# Stop a local node that listens but does not answer, then start it again (root or rabbitmq only).
mq_restart() {
    timeout 30 rabbitmqctl stop >/dev/null 2>&1 || pkill -f 'beam.*-s rabbit' || true
    local deadline=$((SECONDS + 30))
    while port_open "$MQ_HOST" "$MQ_PORT" && ((SECONDS < deadline)); do sleep 1; done
    rabbitmq-server -detached
}

# --- plan --------------------------------------------------------------------------------------

# Each service gets one of: url (TEST_*_URL, only awaited), running, booting, start, install.
PG_PLAN=running
PG_CHECK_HOST=$PG_HOST
PG_CHECK_PORT=$PG_PORT
if [[ -n ${TEST_DATABASE_URL:-} ]]; then
    PG_PLAN=url
    IFS='|' read -r PG_CHECK_HOST PG_CHECK_PORT < <(url_host_port "$TEST_DATABASE_URL" 5432) ||
        die "cannot parse host/port from TEST_DATABASE_URL"
elif port_open "$PG_HOST" "$PG_PORT"; then
    PG_PLAN=running # possibly still starting up: the wait below uses pg_isready
elif [[ -n $(pg_version) ]]; then
    PG_PLAN=start
else
    PG_PLAN=install
fi

MQ_PLAN=running
MQ_CHECK_HOST=$MQ_HOST
MQ_CHECK_PORT=$MQ_PORT
if [[ -n ${TEST_AMQP_URL:-} ]]; then
    MQ_PLAN=url
    mq_default_port=5672
    [[ $TEST_AMQP_URL == amqps://* ]] && mq_default_port=5671
    IFS='|' read -r MQ_CHECK_HOST MQ_CHECK_PORT < <(url_host_port "$TEST_AMQP_URL" "$mq_default_port") ||
        die "cannot parse host/port from TEST_AMQP_URL"
elif port_open "$MQ_HOST" "$MQ_PORT"; then
    MQ_PLAN=running
elif mq_booting; then
    MQ_PLAN=booting
elif mq_installed; then
    MQ_PLAN=start
else
    MQ_PLAN=install
fi

# Without root (or the service's own account) nothing can be installed or started: say what to run.
needs=()
if [[ $PG_PLAN == start ]] && ! is_root && ! is_user postgres; then
    needs+=("sudo pg_ctlcluster --skip-systemctl-redirect $(pg_version) main start")
fi
if [[ $MQ_PLAN == start ]] && ! is_root && ! is_user rabbitmq; then
    needs+=("sudo rabbitmq-server -detached")
fi
missing=()
[[ $PG_PLAN == install ]] && missing+=(postgresql)
[[ $MQ_PLAN == install ]] && missing+=(rabbitmq-server)
if ((${#missing[@]})) && ! is_root; then
    what="apt-get update; apt-get install -y ${missing[*]}; starts them"
    if [[ $PG_PLAN == install ]]; then what+="; trusts local TCP logins on the new PostgreSQL cluster"; fi
    needs+=("sudo $0    # runs: $what")
fi
if ((${#needs[@]})); then
    die "PostgreSQL/RabbitMQ for the tests are not running and starting them needs root. Run:" \
        "${needs[@]/#/    }" \
        "or set TEST_DATABASE_URL / TEST_AMQP_URL to servers that are running."
fi

# --- act ---------------------------------------------------------------------------------------

if ((${#missing[@]})); then
    apt_install "${missing[@]}"
fi

PG_DID=""
case $PG_PLAN in
    url) PG_DID="TEST_DATABASE_URL set: not managed" ;;
    running) PG_DID="already running" ;;
    start)
        pg_start || die "could not start PostgreSQL; see /var/log/postgresql/"
        ;;
    install) pg_install ;;
esac

MQ_DID=""
case $MQ_PLAN in
    url) MQ_DID="TEST_AMQP_URL set: not managed" ;;
    running) MQ_DID="already running" ;;
    booting) MQ_DID="already booting" ;;
    start | install)
        # The Debian package's postinst may already have started it.
        if ! port_open "$MQ_HOST" "$MQ_PORT"; then
            mq_start || die "could not start RabbitMQ; see /var/log/rabbitmq/"
        fi
        if [[ $MQ_PLAN == install ]]; then MQ_DID="installed and started"; else MQ_DID="started"; fi
        ;;
esac

# --- wait --------------------------------------------------------------------------------------

if [[ -z $PG_CHECK_HOST ]]; then
    say "PostgreSQL: $PG_DID; URL has no TCP host (Unix socket?), not checked"
elif wait_until pg_answers "$PG_CHECK_HOST" "$PG_CHECK_PORT"; then
    say "PostgreSQL: $PG_DID; answering on $PG_CHECK_HOST:$PG_CHECK_PORT"
else
    hint="Check: pg_lsclusters (port, status) and /var/log/postgresql/."
    [[ $PG_PLAN == url ]] && hint="Check TEST_DATABASE_URL and that server."
    die "PostgreSQL ($PG_DID) does not answer on $PG_CHECK_HOST:$PG_CHECK_PORT after ${TIMEOUT}s." "$hint"
fi

if [[ -z $MQ_CHECK_HOST ]]; then
    say "RabbitMQ: $MQ_DID; URL has no host, not checked"
elif wait_until mq_answers "$MQ_CHECK_HOST" "$MQ_CHECK_PORT"; then
    say "RabbitMQ: $MQ_DID; answering AMQP on $MQ_CHECK_HOST:$MQ_CHECK_PORT"
elif [[ $MQ_PLAN != url ]] && mq_installed && (is_root || is_user rabbitmq) &&
    port_open "$MQ_CHECK_HOST" "$MQ_CHECK_PORT"; then
    say "RabbitMQ: $MQ_DID but it accepts connections without answering AMQP: restarting it"
    mq_restart || die "could not restart RabbitMQ; see /var/log/rabbitmq/"
    wait_until mq_answers "$MQ_CHECK_HOST" "$MQ_CHECK_PORT" ||
        die "RabbitMQ does not answer AMQP on $MQ_CHECK_HOST:$MQ_CHECK_PORT even after a restart." \
            "Check: /var/log/rabbitmq/ (startup_err, rabbit@<host>.log)."
    say "RabbitMQ: restarted; answering AMQP on $MQ_CHECK_HOST:$MQ_CHECK_PORT"
else
    hint="Check: /var/log/rabbitmq/ (startup_err, rabbit@<host>.log)."
    [[ $MQ_PLAN == url ]] && hint="Check TEST_AMQP_URL and that server."
    die "RabbitMQ ($MQ_DID) does not answer on $MQ_CHECK_HOST:$MQ_CHECK_PORT after ${TIMEOUT}s." "$hint"
fi

# --- Redis (the gateway's rate limits shared by its workers) -----------------------------------

REDIS_SPEC=$(url_host_port "${TEST_REDIS_URL:-redis://127.0.0.1:6379/15}" 6379) || die "cannot read TEST_REDIS_URL"
REDIS_HOST=${REDIS_SPEC%%|*}
REDIS_PORT=${REDIS_SPEC##*|}
redis_start() {
    redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no \
        --logfile /tmp/achats-redis.log
}
if port_open "$REDIS_HOST" "$REDIS_PORT"; then
    REDIS_DID="already running"
elif [[ -n ${TEST_REDIS_URL:-} ]]; then
    REDIS_DID="TEST_REDIS_URL set: not managed"
elif command -v redis-server >/dev/null; then
    redis_start || die "could not start Redis; see /tmp/achats-redis.log"
    REDIS_DID="started"
elif is_root; then
    apt_install redis-server
    port_open "$REDIS_HOST" "$REDIS_PORT" || redis_start || die "could not start Redis"
    REDIS_DID="installed and started"
else
    die "Redis for the tests is not running and installing it needs root. Run:" \
        "    sudo apt-get install -y redis-server && redis-server --daemonize yes --save ''" \
        "or set TEST_REDIS_URL to a server that is running."
fi
if wait_until port_open "$REDIS_HOST" "$REDIS_PORT"; then
    say "Redis: $REDIS_DID; answering on $REDIS_HOST:$REDIS_PORT"
else
    die "Redis ($REDIS_DID) does not answer on $REDIS_HOST:$REDIS_PORT after ${TIMEOUT}s."
fi

# --- Tools of the signature tests (independent producers and checkers of signatures) ------------

ensure_signature_tools() {
    local missing=()
    command -v pdfsig >/dev/null && command -v pdftotext >/dev/null || missing+=(poppler-utils)
    command -v certutil >/dev/null && command -v pk12util >/dev/null || missing+=(libnss3-tools)
    command -v openssl >/dev/null || missing+=(openssl)
    ((${#missing[@]})) || { say "signature tools: pdfsig, certutil, openssl available"; return 0; }
    if is_root; then
        say "installing ${missing[*]} (signature tests)"
        apt_install "${missing[@]}"
    else
        die "the signature tests need ${missing[*]}" "Run: sudo apt-get install -y ${missing[*]}"
    fi
}
ensure_signature_tools

# --- The signing assistant's token for tests (SoftHSM2, a real PKCS#11 module) -------------------

ensure_assistant_tools() {
    if command -v softhsm2-util >/dev/null && [[ -f /usr/lib/softhsm/libsofthsm2.so ]]; then
        say "assistant tools: SoftHSM2 available"
        return 0
    fi
    if is_root; then
        say "installing softhsm2 (assistant tests)"
        apt_install softhsm2
    else
        die "the assistant tests need SoftHSM2" "Run: sudo apt-get install -y softhsm2"
    fi
}
ensure_assistant_tools
