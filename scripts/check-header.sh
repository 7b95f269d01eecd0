#!/usr/bin/env bash
# CI: the committed C header must equal what the pinned cbindgen generates now.
exec "$(dirname "$0")/gen-header.sh" --check
