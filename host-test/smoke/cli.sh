#!/usr/bin/env bash
# `make cli-smoke`: the loopback test build of the component under the plain wasmtime CLI
# (wasi:http, wasi:keyvalue and wasi:config from the CLI itself), against the simulator.
set -euo pipefail
cd "$(dirname "$0")/../.."
WASM=target/genesys-om-handover-loopback.wasm
HOST_TEST=${HOST_TEST:-target/debug/host-test}
WASMTIME=${WASMTIME:-wasmtime}

log=$(mktemp)
"$HOST_TEST" simulator --port 0 --client-id cli-client --client-secret cli-client-secret \
  --deployment CliDeployment --webhook-secret cli-webhook-secret >"$log" 2>&1 &
sim=$!
trap 'kill $sim 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 100); do grep -q "listening on" "$log" && break; sleep 0.1; done
base=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$log" | head -n 1)
[ -n "$base" ] || { echo "cli-smoke: the simulator did not start"; cat "$log"; exit 1; }
echo "cli-smoke: simulator at $base"

set -x
out=$("$WASMTIME" run -S http -S keyvalue -S config \
  -S config-var=host=mypurecloud.de \
  -S config-var=deployment-name=CliDeployment \
  -S config-var=queue-id=cli-queue \
  -S config-var=client-id=cli-client \
  -S config-var=client-secret=cli-client-secret \
  -S config-var=test-genesys-base-url="$base" \
  --invoke 'start({user-id: "cli-user", session-id: "cli-session", first-name: none, last-name: none, nickname: none, email: none}, [{speaker: user, text: "Hello from the wasmtime CLI", data: none, time: none}], {language: some("english"), skills: none, priority: some("1"), enable-user-connects-message: true, enable-user-disconnects-message: true, display-agent-details: false, custom-attributes: some("{\"tier\":\"gold\"}"), disconnect-message: none})' \
  "$WASM")
set +x
echo "$out"
grep -q '^ok(' <<<"$out" || { echo "cli-smoke: FAILED: start did not return ok(...)"; exit 1; }
received=$(curl -fsS "$base/_sim/received")
grep -q 'User: Hello from the wasmtime CLI' <<<"$received" || { echo "cli-smoke: FAILED: transcript not received"; exit 1; }
grep -q '"tier":"gold"' <<<"$received" || { echo "cli-smoke: FAILED: custom attributes not received"; exit 1; }
echo "cli-smoke: passed"
