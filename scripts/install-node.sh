#!/usr/bin/env bash
# Installs ordo on a Debian or Ubuntu machine: containerd and runc from the
# distribution, the ordo binaries, systemd units for ordo-agent and
# ordo-scheduler, and their configuration files.
#
#   scripts/install-node.sh [options]
#
#   --bin DIR            directory holding ordo, ordo-agent, ordo-scheduler (default <repo>/bin)
#   --role ROLE          agent | scheduler | both (default agent)
#   --scheduler ADDR     scheduler address for the agent, host:port or unix:///path (agent.env ORDO_SCHEDULER)
#   --node-name NAME     node name (agent.env ORDO_NODE_NAME; default: the host name)
#   --labels K=V,...     node labels (agent.env ORDO_LABELS)
#   --address IP         address the node announces (agent.env ORDO_ADDRESS; default: all non-loopback addresses)
#   --listen ADDR        scheduler listen address, repeatable (scheduler.env ORDO_LISTEN;
#                        default unix:///run/ordo/ordo.sock and 0.0.0.0:7070)
#   --data-dir DIR       scheduler data directory (scheduler.env ORDO_DATA_DIR; default /var/lib/ordo)
#   --image TAR          OCI archive imported into containerd (namespace ordo) before the agent starts
#   --no-apt             do not install packages (they must be present)
#   --no-start           enable the units but do not start them (for building images)
#
# Existing /etc/ordo/*.env files are kept unless an option for them is given.
# The agent and the scheduler have no authentication yet: anyone who can reach
# the scheduler's TCP port can register a node or change workloads. Keep that
# port on a private network.
set -euo pipefail

SELF="$(readlink -f "${BASH_SOURCE[0]}")"
REPO="$(cd "$(dirname "$SELF")/.." && pwd)"

BIN_SRC="$REPO/bin"
ROLE=agent
SCHEDULER="" NODE_NAME="" LABELS="" ADDRESS="" DATA_DIR="" IMAGE=""
LISTEN=()
APT=yes START=yes
AGENT_SET=no SCHED_SET=no

die() { echo "install-node: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
	case "$1" in
	--bin) BIN_SRC="$2"; shift 2 ;;
	--role) ROLE="$2"; shift 2 ;;
	--scheduler) SCHEDULER="$2"; AGENT_SET=yes; shift 2 ;;
	--node-name) NODE_NAME="$2"; AGENT_SET=yes; shift 2 ;;
	--labels) LABELS="$2"; AGENT_SET=yes; shift 2 ;;
	--address) ADDRESS="$2"; AGENT_SET=yes; shift 2 ;;
	--listen) LISTEN+=("$2"); SCHED_SET=yes; shift 2 ;;
	--data-dir) DATA_DIR="$2"; SCHED_SET=yes; shift 2 ;;
	--image) IMAGE="$2"; shift 2 ;;
	--no-apt) APT=no; shift ;;
	--no-start) START=no; shift ;;
	-h | --help) sed -n '2,/^set -euo/p' "$SELF" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown option $1 (see --help)" ;;
	esac
done

case "$ROLE" in agent | scheduler | both) ;; *) die "--role must be agent, scheduler or both" ;; esac
[ "$(id -u)" -eq 0 ] || die "must run as root"
for b in ordo ordo-agent ordo-scheduler; do
	[ -x "$BIN_SRC/$b" ] || die "$BIN_SRC/$b missing (run 'make build' or pass --bin)"
done

if [ "$APT" = yes ]; then
	missing=()
	for p in containerd runc; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	if [ "${#missing[@]}" -gt 0 ]; then
		export DEBIAN_FRONTEND=noninteractive
		apt-get update
		apt-get install -y --no-install-recommends "${missing[@]}"
	fi
fi
command -v containerd >/dev/null && command -v runc >/dev/null || die "containerd and runc must be installed"

install -d /usr/local/bin /usr/local/lib/ordo /etc/ordo
for b in ordo ordo-agent ordo-scheduler; do
	# Replace atomically: the running binary may be busy.
	install -m 0755 "$BIN_SRC/$b" "/usr/local/bin/.$b.new"
	mv -f "/usr/local/bin/.$b.new" "/usr/local/bin/$b"
done

# Wrappers turn the env files into flags, leaving out empty settings.
cat >/usr/local/lib/ordo/agent-start <<'EOF'
#!/bin/sh
# Starts ordo-agent from the settings in /etc/ordo/agent.env.
set -e
set -- --scheduler "${ORDO_SCHEDULER:?ORDO_SCHEDULER is not set in /etc/ordo/agent.env}"
[ -z "$ORDO_NODE_NAME" ] || set -- "$@" --node-name "$ORDO_NODE_NAME"
[ -z "$ORDO_LABELS" ] || set -- "$@" --labels "$ORDO_LABELS"
for a in $ORDO_ADDRESS; do set -- "$@" --address "$a"; done
exec /usr/local/bin/ordo-agent "$@" $ORDO_AGENT_ARGS
EOF
cat >/usr/local/lib/ordo/scheduler-start <<'EOF'
#!/bin/sh
# Starts ordo-scheduler from the settings in /etc/ordo/scheduler.env.
set -e
set -- --data-dir "${ORDO_DATA_DIR:-/var/lib/ordo}"
for l in ${ORDO_LISTEN:-unix:///run/ordo/ordo.sock 0.0.0.0:7070}; do set -- "$@" --listen "$l"; done
exec /usr/local/bin/ordo-scheduler "$@" $ORDO_SCHEDULER_ARGS
EOF
cat >/usr/local/lib/ordo/import-images <<'EOF'
#!/bin/sh
# Imports every OCI archive in /var/lib/ordo/images into containerd (namespace ordo).
set -e
for t in /var/lib/ordo/images/*.tar; do
	[ -e "$t" ] || continue
	ctr -n ordo images import "$t" >/dev/null
done
EOF
chmod 0755 /usr/local/lib/ordo/agent-start /usr/local/lib/ordo/scheduler-start /usr/local/lib/ordo/import-images

if [ -n "$IMAGE" ]; then
	install -d /var/lib/ordo/images
	install -m 0644 "$IMAGE" "/var/lib/ordo/images/$(basename "$IMAGE")"
fi

if [ "$AGENT_SET" = yes ] || [ ! -e /etc/ordo/agent.env ]; then
	cat >/etc/ordo/agent.env <<EOF
# ordo-agent settings (read by ordo-agent.service).
# Scheduler address: host:port or unix:///path/ordo.sock.
ORDO_SCHEDULER=$SCHEDULER
# Node name; empty means the host name.
ORDO_NODE_NAME=$NODE_NAME
# Node labels, k=v,k2=v2.
ORDO_LABELS=$LABELS
# Addresses the node announces, space separated; empty means all non-loopback addresses.
ORDO_ADDRESS=$ADDRESS
# Extra flags for ordo-agent.
ORDO_AGENT_ARGS=
EOF
fi

if [ "$SCHED_SET" = yes ] || [ ! -e /etc/ordo/scheduler.env ]; then
	[ "${#LISTEN[@]}" -gt 0 ] || LISTEN=(unix:///run/ordo/ordo.sock 0.0.0.0:7070)
	cat >/etc/ordo/scheduler.env <<EOF
# ordo-scheduler settings (read by ordo-scheduler.service).
# Listen addresses, space separated: unix:///path/ordo.sock or host:port.
ORDO_LISTEN=${LISTEN[*]}
# Directory of the store (ordo.db).
ORDO_DATA_DIR=${DATA_DIR:-/var/lib/ordo}
# Extra flags for ordo-scheduler.
ORDO_SCHEDULER_ARGS=
EOF
fi

cat >/etc/systemd/system/ordo-agent.service <<'EOF'
[Unit]
Description=ordo node agent
Documentation=https://github.com/ordoproject/ordo
After=network-online.target containerd.service
Wants=network-online.target
Requires=containerd.service

[Service]
Type=simple
EnvironmentFile=/etc/ordo/agent.env
ExecStartPre=/usr/local/lib/ordo/import-images
ExecStart=/usr/local/lib/ordo/agent-start
Restart=always
RestartSec=2
# Stopping the agent must not stop the pods' containers.
KillMode=process
Delegate=yes
LimitNOFILE=1048576

[Install]
WantedBy=multi-user.target
EOF

cat >/etc/systemd/system/ordo-scheduler.service <<'EOF'
[Unit]
Description=ordo scheduler
Documentation=https://github.com/ordoproject/ordo
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
EnvironmentFile=/etc/ordo/scheduler.env
ExecStart=/usr/local/lib/ordo/scheduler-start
Restart=always
RestartSec=2
LimitNOFILE=1048576

[Install]
WantedBy=multi-user.target
EOF

units=()
case "$ROLE" in
agent) units=(containerd ordo-agent) ;;
scheduler) units=(ordo-scheduler) ;;
both) units=(containerd ordo-scheduler ordo-agent) ;;
esac

if [ "$START" = yes ]; then
	systemctl daemon-reload
	systemctl enable "${units[@]}"
	systemctl restart "${units[@]}"
	echo "install-node: started ${units[*]}" >&2
else
	systemctl enable "${units[@]}" >/dev/null 2>&1 || {
		for u in "${units[@]}"; do
			ln -sf "/etc/systemd/system/$u.service" "/etc/systemd/system/multi-user.target.wants/$u.service" 2>/dev/null || true
		done
	}
	echo "install-node: enabled ${units[*]} (not started)" >&2
fi
