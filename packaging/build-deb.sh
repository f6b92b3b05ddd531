#!/usr/bin/env bash
# Builds the notekeeper Debian package with nfpm:
#   bash packaging/build-deb.sh OUTDIR
# writes OUTDIR/notekeeper_VERSION_ARCH.deb and prints its path.
# VERSION defaults to 0.0.N+gREV (N commits on HEAD), so later builds sort
# later; set NOTEKEEPER_VERSION to override. Installs nfpm (go install) when
# it is missing.
set -euo pipefail
out=${1:?usage: build-deb.sh OUTDIR}
cd "$(dirname "$0")/.."
mkdir -p "$out"
out=$(cd "$out" && pwd)
nfpm_version=v2.48.0
export PATH="$(go env GOPATH)/bin:$PATH"
if ! command -v nfpm >/dev/null 2>&1; then
  go install "github.com/goreleaser/nfpm/v2/cmd/nfpm@$nfpm_version"
fi
if [ -z "${NOTEKEEPER_VERSION:-}" ]; then
  NOTEKEEPER_VERSION="0.0.$(git rev-list --count HEAD)+g$(git rev-parse --short=12 HEAD)"
fi
export NOTEKEEPER_VERSION
export NOTEKEEPER_ARCH=$(go env GOARCH)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export NOTEKEEPER_BIN="$work/notekeeper"
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.Version=$NOTEKEEPER_VERSION" -o "$NOTEKEEPER_BIN" .
chmod 0755 packaging/preinst packaging/postinst packaging/prerm packaging/postrm
deb="$out/notekeeper_${NOTEKEEPER_VERSION}_${NOTEKEEPER_ARCH}.deb"
# nfpm does not expand variables in every field: fill them in here.
sed -e "s|\${NOTEKEEPER_ARCH}|$NOTEKEEPER_ARCH|" -e "s|\${NOTEKEEPER_VERSION}|$NOTEKEEPER_VERSION|" \
  -e "s|\${NOTEKEEPER_BIN}|$NOTEKEEPER_BIN|" packaging/nfpm.yaml > "$work/nfpm.yaml"
nfpm pkg --config "$work/nfpm.yaml" --packager deb --target "$deb" >/dev/null
echo "$deb"
