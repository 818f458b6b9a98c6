#!/usr/bin/env bash
# Prints the stack's addresses as VAR=value lines (from stack/lib.sh, honouring the SEXTANT_*_PORT
# overrides), for `env $(bash stack/env.sh) command`.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
stack_urls
