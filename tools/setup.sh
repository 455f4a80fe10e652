#!/usr/bin/env bash
# Installs the Debian packages revkv builds, tests and benchmarks with.
# Idempotent: when every package is present it does nothing (no apt-get at all).
set -euo pipefail

PACKAGES=(
  bazel-bootstrap      # Bazel 4.2.3, used offline
  g++                  # GCC 12, C++20
  clang                # clang 14: --config=tsa, the thread-safety analysis (-Wthread-safety)
  libabsl-dev          # Status, StatusOr, flags, StrFormat, containers
  libxxhash-dev        # page and snapshot checksums (XXH3)
  libgtest-dev         # GoogleTest
  libgmock-dev         # GoogleMock
  libbenchmark-dev     # Google Benchmark
  liblmdb-dev          # LMDB, the benchmark peer
  protobuf-compiler    # protoc, for mvccpb.KeyValue
  libprotobuf-dev
  libgrpc++-dev        # gRPC, for `revkv serve` (server/)
  protobuf-compiler-grpc  # grpc_cpp_plugin, the services of server/proto
  etcd-server          # the reference the CLI conformance tests compare against
  etcd-client
  python3              # .ci/run counts test cases from test.xml
  cmake                # tests/install: examples/cmake against an install of //:install
  pkg-config           # tests/install: the same example built from revkv.pc
  openssl              # tests/server/serve_tls_test makes its throwaway CA and certificates
  libraft-dev          # canonical raft 0.15: the replicated log of raft/ (step 13)
  libuv1-dev           # libuv: raft/uv.h's disk log and TCP transport run on its loop
  libjemalloc-dev      # the revkv binary's allocator (cmd/revkv/BUILD.bazel)
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "setup: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "${missing[@]}" >&2
