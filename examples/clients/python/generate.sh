#!/usr/bin/env bash
# Generates the Python gRPC stubs for agent-auth from ../../../proto into
# ${1:-./stubs}, with Debian's protoc and gRPC Python plugin
# (apt-get install protobuf-compiler protobuf-compiler-grpc python3-grpcio).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
proto="$here/../../../proto"
out="${1:-$here/stubs}"
mkdir -p "$out"
protoc -I "$proto" \
  --python_out="$out" \
  --grpc_python_out="$out" \
  --plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin \
  $(cd "$proto" && find agentauth google -name '*.proto' | sort)
echo "stubs written to $out"
