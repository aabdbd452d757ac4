#!/usr/bin/env bash
# The deployment checks' tools, installed on first use by `make deploy-tools`:
# podman and friends from Debian (apt), helm from the Go module proxy into the git-ignored cache.
# (hadolint, kubernetes-validate, check-jsonschema and podman-compose are the `deploy` extra.)
set -euo pipefail
cd "$(dirname "$0")/.."
HELM_VERSION="${HELM_VERSION:-v3.22.0}"
CACHE="$PWD/.cache/tools"
APT_PACKAGES=(podman buildah runc mmdebstrap uidmap slirp4netns fuse-overlayfs aardvark-dns netavark iptables catatonit)

missing=()
for package in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "installing from Debian: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

command -v go >/dev/null || { echo "Go is not on the PATH; it is needed to build helm." >&2; exit 1; }
mkdir -p "$CACHE/bin"
if [[ ! -x "$CACHE/bin/helm" ]] || ! "$CACHE/bin/helm" version --short | grep -q "${HELM_VERSION%.*}"; then
  echo "building helm $HELM_VERSION with Go"
  GOBIN="$CACHE/bin" GOFLAGS=-mod=mod go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
fi
"$CACHE/bin/helm" version --short
