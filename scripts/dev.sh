#!/usr/bin/env bash
# `npm run dev`: the local stack (no Docker), then the service (ROLE=all) with the demo tenant,
# restarted on every source change. Configuration: .env when present, otherwise .env.example.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/stack.sh up
# The console's page (http://localhost:3000/console/, sign in with ADMIN_TOKEN from the env file).
node console/build.js
ENV_FILE=$(bash scripts/dev-env.sh printenv ENV_FILE)
export ENV_FILE
echo "[dev] configuration from $ENV_FILE; try: npm run webhook:send -- examples/webhooks/text.json; the console: /console/" >&2
export NODE_OPTIONS="${NODE_OPTIONS:-} --no-warnings"
exec npx tsx watch --clear-screen=false src/main.ts
