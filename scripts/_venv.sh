# Shared by scripts/sarah and scripts/test: create .venv and (re)install the project when needed.
# torch is pinned by scripts/constraints.txt to the CPU build this machine kind keeps on disk; a
# plain `pip install torch` would pull several GB of CUDA wheels.
ensure_venv() {
  local extras="$1"
  local stamp=".venv/.installed-$(echo "$extras" | tr -c 'a-z' '_')"
  if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
  fi
  # shellcheck disable=SC1091
  source .venv/bin/activate
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ scripts/constraints.txt -nt "$stamp" ]; then
    python -m pip install -q --upgrade pip
    python -m pip install -q -c scripts/constraints.txt -e "$extras"
    touch "$stamp"
  fi
}
