# Shared by scripts/sarah and scripts/test: create .venv and (re)install the project when needed.
# torch (the `local` extra) is tried first from PyTorch's CPU wheel index (about 200 MB); where that
# index cannot be reached, pip takes torch from PyPI, whose Linux x86_64 wheel pulls the CUDA
# libraries (about 2.9 GB of downloads; docs/development.md, "Tests"). A CPU wheel already on disk (pip's
# find-links) is used either way.
TORCH_CPU_INDEX="${TORCH_CPU_INDEX:-https://download.pytorch.org/whl/cpu}"

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
    if [[ "$extras" == *local* ]] && ! python -c "import torch" 2>/dev/null; then
      python -m pip install -q --timeout 20 --retries 1 -c scripts/constraints.txt \
        --index-url "$TORCH_CPU_INDEX" torch 2>/dev/null \
        || echo "PyTorch's CPU wheel index did not answer: torch comes from PyPI (with CUDA, ~2.9 GB)" >&2
    fi
    python -m pip install -q -c scripts/constraints.txt -e "$extras"
    touch "$stamp"
  fi
}
