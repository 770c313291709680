#!/bin/bash
# SPDX-License-Identifier: MIT
# By hand, as root, on a machine you may disturb: what only a real service
# manager can show. Boots systemd as PID 1 of a private PID and mount
# namespace, with the installed dmad.service and dmad.socket (plus a
# drop-in: no default dependencies, so nothing but dmad starts; a 2 s
# watchdog), and checks, in TAP:
#   socket activation, READY=1 and STATUS= as systemctl shows them, the
#   capability set, seccomp and no_new_privs in force, a client copying
#   under the full sandbox, `systemctl reload`, a stopped worker thread
#   ending in Result=watchdog and a restart, a crash (SIGSEGV) restarted,
#   a SIGKILL under a copying client that Restart=on-failure restarts
#   with the session (the fd store's journal, handover_live.h), and a
#   clean stop.
# Not in the meson suite: systemd as PID 1 creates cgroups in the host's
# hierarchy. Usage: manual-pid1.sh BUILDDIR
set -u
. "$(dirname "$0")/tap.sh"
build=$(realpath "${1:?usage: manual-pid1.sh BUILDDIR}")
[ "$(id -u)" = 0 ] || skip_all "needs root"

T=$(mktemp -d /tmp/dmad-pid1.XXXXXX)
unshare_pid='' sd=''
cleanup() {
	[ -n "$sd" ] && kill -KILL "$sd" 2>/dev/null
	[ -n "$unshare_pid" ] && wait "$unshare_pid" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

# The installed tree: PrivateTmp= hides /tmp from the service, so it is
# bound over /usr/local inside the namespace.
meson install -C "$build" --no-rebuild --quiet --destdir "$T/stage" >/dev/null ||
	bail "meson install failed"
prefix=$(meson introspect --buildoptions "$build" | python3 -c \
	'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"][0])')
[ "$prefix" = /usr/local ] || skip_all "configure with the default prefix /usr/local"
unit=$(find "$T/stage" -name dmad.service | head -n 1)
mkdir -p "$T/units/dmad.service.d" "$T/units/dmad.socket.d"
cp "$unit" "$(dirname "$unit")/dmad.socket" "$T/units/"
printf '[Unit]\nDefaultDependencies=no\n[Service]\nWatchdogSec=2s\nRestartSec=1s\nStandardOutput=append:/run/dmad-test.log\nStandardError=inherit\n' \
	>"$T/units/dmad.service.d/test.conf"
printf '[Unit]\nDefaultDependencies=no\n' >"$T/units/dmad.socket.d/test.conf"
printf '[Unit]\nDefaultDependencies=no\nWants=dmad.socket dmad.service\n' >"$T/units/dmad-test.target"
cp /etc/group "$T/group"
grep -q '^dma:' "$T/group" || echo 'dma:x:990:' >>"$T/group"
cat >"$T/inner.sh" <<INNER
mount --make-rprivate /
mount -t tmpfs tmpfs /run
mkdir -p /run/systemd/system
cp -r $T/units/* /run/systemd/system/
mount --bind $T/group /etc/group
mount --bind $T/stage/usr/local /usr/local
mount -t proc proc /proc
exec env -i container=dmad-test PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	/lib/systemd/systemd --system --unit=dmad-test.target
INNER
setsid unshare --pid --fork --mount sh "$T/inner.sh" >"$T/console.log" 2>&1 &
unshare_pid=$!
sleep 2
sd=$(ps -o pid= --ppid "$unshare_pid" | tr -d ' ')
[ -n "$sd" ] || bail "systemd did not start: $(cat "$T/console.log")"
ns() { nsenter -t "$sd" -p -m "$@"; }
show() { ns systemctl show -p "$2" --value "$1"; }
until_state() { # UNIT PROPERTY VALUE SECONDS
	for _ in $(seq $(($4 * 10))); do
		[ "$(show "$1" "$2")" = "$3" ] && return 0
		sleep 0.1
	done
	return 1
}

until_state dmad.service SubState running 30
ok $? "dmad.service runs (READY=1 reached systemd)"
[ "$(show dmad.service StatusText)" = "2 device(s) online, 0 client(s), 0 channel(s)" ]
ok $? "STATUS=: $(show dmad.service StatusText)"
pid=$(show dmad.service MainPID)
ns grep -E '^(CapEff|NoNewPrivs|Seccomp):' "/proc/$pid/status" | tr -s '\t' ' ' >"$T/creds"
diag <"$T/creds"
grep -q 'CapEff: 0000008000207000' "$T/creds" && grep -q 'NoNewPrivs: 1' "$T/creds" &&
	grep -q 'Seccomp: 2' "$T/creds"
ok $? "only CAP_IPC_LOCK, CAP_NET_ADMIN, CAP_NET_RAW, CAP_BPF, CAP_SYS_ADMIN; no_new_privs; seccomp"
ns "$build/examples/dmac-copy" --seconds 1 >"$T/copy.out" 2>&1
ok $? "a client copies under the sandbox: $(tail -n 1 "$T/copy.out")"
ns systemctl reload dmad.service && ns grep -q 'reloaded' /run/dmad-test.log
ok $? "systemctl reload: dmad re-read its settings"

worker=$(ns sh -c "grep -l rte-worker /proc/$pid/task/*/comm" | head -n 1 | cut -d/ -f5)
cat >"$T/stop.c" <<'C'
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	pid_t t = atoi(argv[1]);
	int st;

	if (ptrace(PTRACE_SEIZE, t, 0, 0) || ptrace(PTRACE_INTERRUPT, t, 0, 0))
		return 1;
	waitpid(t, &st, __WALL);
	sleep(atoi(argv[2]));
	return ptrace(PTRACE_DETACH, t, 0, 0) != 0;
}
C
cc -o "$T/stop" "$T/stop.c" || bail "cannot build the thread stopper"
ns "$T/stop" "$worker" 5 &
stopper=$!
until_state dmad.service Result watchdog 10
ok $? "a worker thread stopped for 5 s: Result=watchdog"
wait "$stopper"
until_state dmad.service SubState running 15 && [ "$(show dmad.service NRestarts)" = 1 ] &&
	[ "$(show dmad.service MainPID)" != "$pid" ]
ok $? "and Restart=on-failure started a new dmad"

pid=$(show dmad.service MainPID)
ns kill -SEGV "$pid"
sleep 2
until_state dmad.service SubState running 15 && [ "$(show dmad.service NRestarts)" = 2 ]
ok $? "a crash (SIGSEGV) is restarted too"

ns "$build/examples/dmac-copy" --seconds 6 >"$T/crash-copy.out" 2>&1 &
copier=$!
sleep 2
pid=$(show dmad.service MainPID)
ns kill -KILL "$pid"
until_state dmad.service SubState running 15 && [ "$(show dmad.service NRestarts)" = 3 ]
ok $? "SIGKILL under a copying client: Restart=on-failure starts a new dmad"
wait "$copier"
ok $? "the client copied on through the crash: $(tail -n 1 "$T/crash-copy.out")"
ns grep -q 'taking the sessions back from its journal' /run/dmad-test.log
ok $? "the new dmad took the session from the fd store's journal"

ns systemctl stop dmad.service
[ "$(show dmad.service Result)" = success ] && [ "$(show dmad.service ExecMainStatus)" = 0 ]
ok $? "systemctl stop: exit 0, Result=success"
ns "$build/examples/dmac-copy" --seconds 1 >"$T/copy.out" 2>&1 &&
	until_state dmad.service SubState running 15
ok $? "after a stop, a client's connection starts dmad again through the socket"
tap_done
