#!/usr/bin/env bash
# Makes an OCI bundle from Debian's busybox-static in a temporary directory and runs it with
# skiff-runtime: the smallest end-to-end use of the runtime.
set -euo pipefail
cd "$(dirname "$0")/.."
bundle=$(mktemp -d /tmp/skiff-demo-XXXXXX)
root=$(mktemp -d /tmp/skiff-demo-root-XXXXXX)
trap 'rm -rf "$bundle" "$root"' EXIT

mkdir -p "$bundle/rootfs/bin" "$bundle/rootfs/etc" "$bundle/rootfs/proc" "$bundle/rootfs/dev" "$bundle/rootfs/sys"
cp /bin/busybox "$bundle/rootfs/bin/"
for applet in $(/bin/busybox --list); do [[ $applet == busybox ]] || ln -s busybox "$bundle/rootfs/bin/$applet"; done
echo 'root:x:0:0:root:/root:/bin/sh' > "$bundle/rootfs/etc/passwd"
echo 'root:x:0:' > "$bundle/rootfs/etc/group"

bin/skiff-runtime spec --bundle "$bundle"
# A non-interactive container that shows it is isolated: its own pid 1, hostname and mounts.
.node/bin/node -e '
  const fs = require("fs"); const file = process.argv[1];
  const spec = JSON.parse(fs.readFileSync(file, "utf8"));
  spec.process.terminal = false;
  spec.process.args = ["/bin/sh", "-c", "echo \"hello from $(hostname): I am pid $$ as $(id -un)\"; echo mounts:; cut -d\" \" -f2,3 /proc/mounts"];
  fs.writeFileSync(file, JSON.stringify(spec, null, 2));
' "$bundle/config.json"
bin/skiff-runtime --root "$root" run --bundle "$bundle" "skiff-demo-$$"
