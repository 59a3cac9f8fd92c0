#!/usr/bin/env bash
# Reruns the peer systems' versions of the project's benchmarks, whose figures README.md's
# Performance section quotes, and prints one line per figure:
# "<system> commstime: ... ns_per_comm=X" or "<system> <metric>=X".
# Installs what it needs on first use: apt golang-go, default-jdk-headless, libjcsp-java
# (and, for mpi, libopenmpi-dev openmpi-bin); pip pycsp==0.9.2 greenlet.
#
# Usage: benches/peers/run.sh [--loaded] [commstime|pingpong|pool|kv|mpi|all]
#   all (the default) is commstime, pingpong, pool and kv; mpi (mpi_pingpong.c, built with
#   mpicc) runs only on request.
#   --loaded  runs one busy-spinning process per core beside the peers, like the
#             `loaded` group of `cargo bench -p csp --bench commstime`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
loaded=no
if [ "${1:-}" = --loaded ]; then loaded=yes; shift; fi
what=${1:-all}
work=$(mktemp -d)
spinners=()
cleanup() {
  for p in "${spinners[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

need_apt() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq >/dev/null &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

need_pip() {
  python3 -c "import pycsp, greenlet" 2>/dev/null ||
    pip install -q pycsp==0.9.2 greenlet 2>/dev/null ||
    pip install -q --break-system-packages pycsp==0.9.2 greenlet
}

# Everything is installed and built before the load starts, so only the runs are loaded.
if [ "$what" = commstime ] || [ "$what" = all ]; then
  need_apt golang-go default-jdk-headless libjcsp-java
  need_pip
  cp "$here/commstime.go" "$work/" && (cd "$work" && go build -o commstime-go commstime.go)
  jar=$(ls /usr/share/java/jcsp*.jar | head -1)
  cp "$here/Commstime.java" "$work/" && (cd "$work" && javac -cp "$jar" Commstime.java)
fi
if [ "$what" = mpi ]; then
  need_apt libopenmpi-dev openmpi-bin
  mpicc -O2 -o "$work/mpi_pingpong" "$here/mpi_pingpong.c"
fi

if [ "$loaded" = yes ]; then
  for _ in $(seq "$(nproc)"); do
    python3 -c 'while True: pass' &
    spinners+=("$!")
  done
  echo "loaded: ${#spinners[@]} busy-spinning processes"
fi

if [ "$what" = commstime ] || [ "$what" = all ]; then
  "$work/commstime-go" 2000000
  java -cp "$jar:$work" Commstime 200000
  PYCSP_HOST=127.0.0.1 timeout 120 python3 "$here/commstime_pycsp.py" 200000 greenlets
  PYCSP_HOST=127.0.0.1 timeout 120 python3 "$here/commstime_pycsp.py" 5000 parallel
fi

if [ "$what" = pingpong ] || [ "$what" = all ]; then
  python3 "$here/pingpong_mp.py" 20000
fi

if [ "$what" = pool ] || [ "$what" = all ]; then
  # The work of `cargo bench -p csp --bench farm`: coarse (20,000 rounds) and fine (2,000).
  python3 "$here/pool_farm.py" 400 20000
  python3 "$here/pool_farm.py" 4000 2000
fi

if [ "$what" = kv ] || [ "$what" = all ]; then
  # The request mix of `cargo bench -p csp --bench kv`, 8 clients.
  python3 "$here/manager_dict.py" 80000
fi

if [ "$what" = mpi ]; then
  # Ping-pong round trips, then 8-byte messages streamed one way (the ipc bench's pair).
  OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
    mpirun --oversubscribe -n 2 "$work/mpi_pingpong" 100000 5000000
fi
