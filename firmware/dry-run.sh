# Shared by the firmware scripts (sourced, never run): with dry_run=1 a step
# is printed ("+ command"), otherwise it is run. Nothing here reads input.
# shellcheck shell=bash

run() {
    if [ "${dry_run:-0}" -eq 1 ]; then
        printf '+ %s\n' "$*"
    else
        "$@"
    fi
}

step() { printf '== %s\n' "$*"; }
