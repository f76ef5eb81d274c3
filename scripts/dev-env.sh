#!/usr/bin/env bash
# Runs a command with the configuration file of a local run: ENV_FILE when set, else .env, else
# .env.example (the local stack's defaults). `npm run dev` and the operator commands (`npm run replay`,
# `npm run dead-letters`, `npm run cache`) go through it, so they read the same file; in the image the
# service (`node dist/main.js`) and the commands (`node dist/cli/*.js`) read the environment (and a
# .env, when one is there) only.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ -z "${ENV_FILE:-}" ]; then
  if [ -f .env ]; then export ENV_FILE=.env; else export ENV_FILE=.env.example; fi
fi
exec "$@"
