#!/usr/bin/env bash
# Installs every Debian package hopscope needs to build, test and run its lab.
# Idempotent: packages already present are skipped, apt-get update runs only
# when something is missing.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake pkg-config clang llvm universal-ctags
  # sanitizer and libFuzzer runtimes (scripts/sanitize.sh)
  libclang-rt-dev
  # BPF / XDP
  libbpf-dev libxdp-dev bpftool libelf-dev zlib1g-dev linux-libc-dev
  # userspace libraries
  libboost-dev libcli11-dev libfmt-dev nlohmann-json3-dev libmnl-dev libpcap-dev
  # least privilege: per-thread capabilities, the steady-state syscall filter
  libcap-dev libseccomp-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  # the probe MAC's reference (SipHash-2-4) for the unit tests
  libsodium-dev
  # lab and peers
  iproute2 nftables procps scamper traceroute zmap bc time
  # real consumers of the outputs, in the e2e tests (CSV: Miller)
  miller
  # outputs: path graphs rendered to SVG; watch metrics (exposer, and the
  # Prometheus server the metrics test scrapes it with)
  graphviz prometheus-cpp-dev prometheus curl
  # benchmarks: where the CPU goes (bench/survey_sim.sh)
  linux-perf
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all ${#PACKAGES[@]} packages present"
fi

# bpffs is needed by libxdp's multi-program dispatcher.
if ! mountpoint -q /sys/fs/bpf 2>/dev/null; then
  mount -t bpf bpf /sys/fs/bpf 2>/dev/null || echo "install-deps: note: could not mount bpffs"
fi
