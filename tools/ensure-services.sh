#!/usr/bin/env bash
# Make sure the services the functional tests use answer on their loopback ports,
# starting each one that does not with the command this machine documents:
#   RabbitMQ   127.0.0.1:5672  (guest/guest)
#   PostgreSQL 127.0.0.1:5432  (trust)
#   MariaDB    127.0.0.1:3306  (root, no password)
#   libvirt    qemu:///system  (virtlogd -d; libvirtd -d), for tests/guest/
# Exits non-zero, naming the service, if one still does not answer in time.
# Run as root (the start commands need it). Used by .ci/run; developers may run it too.
#   tools/ensure-services.sh            all of them
#   tools/ensure-services.sh libvirt    only libvirt (make test, make libvirt)
set -euo pipefail

WAIT_SECONDS=${WAIT_SECONDS:-60}

# port_open PORT: true if something accepts a TCP connection on 127.0.0.1:PORT.
port_open() {
    timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# wait_port NAME PORT: wait up to WAIT_SECONDS for the port to answer.
wait_port() {
    local name=$1 port=$2 deadline=$((SECONDS + WAIT_SECONDS))
    until port_open "$port"; do
        if ((SECONDS >= deadline)); then
            echo "ensure-services: $name does not answer on 127.0.0.1:$port after ${WAIT_SECONDS}s" >&2
            return 1
        fi
        sleep 1
    done
}

start_postgresql() {
    # shellcheck disable=SC2046  # one word per installed PostgreSQL version, as documented
    pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start
}

start_rabbitmq() {
    rabbitmq-server -detached
}

start_mariadb() {
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
}

# ensure NAME PORT START_FUNCTION
ensure() {
    local name=$1 port=$2 start=$3
    if port_open "$port"; then
        echo "ensure-services: $name answers on 127.0.0.1:$port"
        return 0
    fi
    echo "ensure-services: $name is not answering on 127.0.0.1:$port; starting it"
    if ! "$start"; then
        echo "ensure-services: starting $name failed" >&2
        return 1
    fi
    # (set -e does not apply inside a function called from `ensure ... ||`)
    wait_port "$name" "$port" || return 1
    echo "ensure-services: $name started"
}

libvirt_answers() {
    timeout 10 virsh -c qemu:///system version >/dev/null 2>&1
}

# No systemd here: start the daemons themselves, each only if it is not running.
ensure_libvirt() {
    if libvirt_answers; then
        echo "ensure-services: libvirt answers at qemu:///system"
        return 0
    fi
    if ! command -v libvirtd >/dev/null; then
        echo "ensure-services: libvirtd is not installed (apt-get install libvirt-daemon-system qemu-system-x86 qemu-utils)" >&2
        return 1
    fi
    echo "ensure-services: libvirt is not answering at qemu:///system; starting it"
    pgrep -x virtlogd >/dev/null || virtlogd -d
    pgrep -x libvirtd >/dev/null || libvirtd -d
    local deadline=$((SECONDS + WAIT_SECONDS))
    until libvirt_answers; do
        if ((SECONDS >= deadline)); then
            echo "ensure-services: libvirt does not answer at qemu:///system after ${WAIT_SECONDS}s" >&2
            return 1
        fi
        sleep 1
    done
    echo "ensure-services: libvirt started"
}

if [[ "${1:-all}" == libvirt ]]; then
    ensure_libvirt
    exit
fi

failed=0
ensure PostgreSQL 5432 start_postgresql || failed=1
ensure RabbitMQ 5672 start_rabbitmq || failed=1
ensure MariaDB 3306 start_mariadb || failed=1
ensure_libvirt || failed=1

# RabbitMQ opens its AMQP port late in its boot, but let it finish booting all
# the same (plugins, definitions) before tests create vhosts through rabbitmqctl.
if ((failed == 0)) && command -v rabbitmqctl >/dev/null; then
    timeout "$WAIT_SECONDS" rabbitmqctl -q await_startup >/dev/null 2>&1 ||
        echo "ensure-services: warning: 'rabbitmqctl await_startup' did not confirm RabbitMQ" >&2
fi

exit "$failed"
