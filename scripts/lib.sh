# Shared environment of the project's scripts: the pinned CLI, a project-local Pulumi home and backend.
# Sourced, not executed.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$ROOT/.tools/bin:$ROOT/venv/bin:$PATH"
export PULUMI_HOME="${PULUMI_HOME:-$ROOT/.tools/pulumi-home}"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
EMULATOR_DIR="$ROOT/.mypos-emulator"
EMULATOR_PORT=8787
EMULATOR_URL="http://127.0.0.1:$EMULATOR_PORT"
