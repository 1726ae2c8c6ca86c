#!/usr/bin/env bash
# The main job: run a container through the engine, as a user would. hello-world is built into skiff
# (a static binary from native/tools/hello.c), so this works on a fresh machine without a registry.
# The container runs under its monitor (skiff-shim), and --rm removes it when it exits.
set -euo pipefail
cd "$(dirname "$0")/.."
bin/skiff run --rm hello-world
