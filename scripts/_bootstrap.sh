# Sourced by scripts/serve and scripts/test: make `uv` available and sync the locked environment.
# Needs only Python 3.11 with pip. uv is installed with pip if missing (into the user site when the
# system Python is externally managed).
if ! python3 -m uv --version >/dev/null 2>&1; then
  echo "==> installing uv"
  python3 -m pip install --quiet --disable-pip-version-check uv 2>/dev/null \
    || python3 -m pip install --quiet --disable-pip-version-check --user uv 2>/dev/null \
    || python3 -m pip install --quiet --disable-pip-version-check --user --break-system-packages uv
fi
uv() { python3 -m uv "$@"; }
echo "==> syncing the locked environment (.venv)"
uv sync --locked --quiet
