#!/usr/bin/env bash
# Build (or find) the real Pulumi engine for the pinned release into one bin directory.
#
#   tools/pulumi-engine/build.sh [BIN_DIR]      (default: .engine/bin)
#
# Result: BIN_DIR/pulumi (the CLI and engine), BIN_DIR/pulumi-resource-pulumi-python (the
# dynamic-provider shim), BIN_DIR/pulumi-language-python-exec, and BIN_DIR/pulumi-language-python
# when it can be had (see below). A finished build is stamped with the version and reused.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
mkdir -p "${1:-$root/.engine/bin}"
bin="$(cd "${1:-$root/.engine/bin}" && pwd)"  # absolute: the build below runs in $here
version="$(tr -d ' \n' < "$here/VERSION")"
stamp="$bin/.built-version"

log() { printf '[engine] %s\n' "$*" >&2; }

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$version" ] && [ -x "$bin/pulumi" ]; then
  log "pulumi v$version already in $bin (reused)"
  exit 0
fi

# Finished builds are kept per version outside the work tree, so a fresh clone (CI) reuses them.
cache="${PULUMI_ENGINE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-appstoreconnect/engine}/v$version"
if [ -x "$cache/pulumi" ] && [ -f "$cache/.built-version" ]; then
  cp -a "$cache/." "$bin/"
  log "pulumi v$version copied from the engine cache $cache"
  exit 0
fi

# A user's machine may already have this exact release: use it, build nothing.
if command -v pulumi >/dev/null 2>&1 && [ "$(command -v pulumi)" != "$bin/pulumi" ] \
   && [ "$(pulumi version 2>/dev/null)" = "v$version" ]; then
  existing="$(dirname "$(command -v pulumi)")"
  log "using pulumi v$version found at $existing"
  for tool in pulumi pulumi-language-python pulumi-language-python-exec pulumi-resource-pulumi-python; do
    [ -e "$existing/$tool" ] && ln -sf "$existing/$tool" "$bin/$tool"
  done
  echo "$version" > "$stamp"
  exit 0
fi

command -v go >/dev/null 2>&1 || { log "Go is required to build the engine (https://go.dev/dl)"; exit 1; }

export CGO_ENABLED=0 GOFLAGS=-mod=mod
ldflags="-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$version"
cd "$here"
start=$(date +%s)
log "building pulumi v$version from Go modules (a cold build takes a few minutes)"
go build -trimpath -o "$bin/pulumi" -ldflags "$ldflags" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi

# The shell shims live in the sdk/v3 module itself.
sdk_dir="$(go mod download -json "github.com/pulumi/pulumi/sdk/v3@v$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
install -m 0755 "$sdk_dir/python/dist/pulumi-resource-pulumi-python" "$bin/pulumi-resource-pulumi-python"
install -m 0755 "$sdk_dir/python/cmd/pulumi-language-python-exec" "$bin/pulumi-language-python-exec"

# The Python language host is its own, untagged module. Its pseudo-version for the release
# commit is pinned in LANGUAGE_HOST; when the module proxy serves it we build it, otherwise
# programs run through the SDK's own language server (tools/pulumi-engine/run.py), which
# speaks the same LanguageRuntime protocol to the same engine.
langhost="$(tr -d ' \n' < "$here/LANGUAGE_HOST")"
if go mod download "github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3@$langhost" >/dev/null 2>&1; then
  tmp="$(mktemp -d)"
  ( cd "$tmp" && go mod init langhost >/dev/null 2>&1 \
      && go get "github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3@$langhost" >/dev/null 2>&1 \
      && go build -trimpath -o "$bin/pulumi-language-python" -ldflags "$ldflags" \
           github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3 ) \
    || log "building pulumi-language-python failed; run.py will serve Python programs"
  rm -rf "$tmp"
else
  rm -f "$bin/pulumi-language-python"
  log "pulumi-language-python@$langhost is not served by the module proxy here;"
  log "Python programs run through the SDK's language server (tools/pulumi-engine/run.py)"
fi

built="$("$bin/pulumi" version)"
[ "$built" = "v$version" ] || { log "built pulumi reports $built, expected v$version"; exit 1; }
echo "$version" > "$stamp"
mkdir -p "$cache" && cp -a "$bin/." "$cache/"
log "built pulumi $("$bin/pulumi" version) in $(( $(date +%s) - start ))s into $bin"
