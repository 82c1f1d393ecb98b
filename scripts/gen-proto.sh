#!/usr/bin/env bash
# Regenerates the Go code of proto/ordo/v1 with pinned generator versions.
# protoc itself comes from Debian 12's protobuf-compiler package (3.21.x).
set -euo pipefail
cd "$(dirname "$0")/.."
PROTOC_GEN_GO=google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.10
PROTOC_GEN_GO_GRPC=google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.5.1
bin="$(pwd)/.bin"
mkdir -p "$bin"
GOBIN="$bin" go install "$PROTOC_GEN_GO"
GOBIN="$bin" go install "$PROTOC_GEN_GO_GRPC"
command -v protoc >/dev/null || { echo "protoc missing: apt-get install -y protobuf-compiler libprotobuf-dev" >&2; exit 1; }
PATH="$bin:$PATH" protoc -I proto -I /usr/include \
  --go_out=. --go_opt=module=github.com/ordoproject/ordo \
  --go-grpc_out=. --go-grpc_opt=module=github.com/ordoproject/ordo \
  proto/ordo/v1/*.proto
