# Shared by scripts/sarah, scripts/test and scripts/lock: create .venv and install the locked
# dependency set (requirements/<set>.txt: exact versions with hashes) when it is new or has changed.
# The project itself is not installed: the scripts run it from this checkout (`python -m sarah_cli`).
# torch (the test set's only unhashed pin, requirements/torch.txt) is tried first from PyTorch's CPU
# wheel index (about 200 MB); where that index cannot be reached, pip takes it from PyPI, whose Linux
# x86_64 wheel pulls the CUDA libraries (about 3 GB of downloads; see README, "The two commands").
TORCH_CPU_INDEX="${TORCH_CPU_INDEX:-https://download.pytorch.org/whl/cpu}"

ensure_venv() {
  local set="$1" lock="requirements/$1.txt"
  local stamp=".venv/.installed-$set"
  if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
  fi
  # shellcheck disable=SC1091
  source .venv/bin/activate
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$(cat requirements/pip.txt "$lock" requirements/torch.txt | cksum)" ]; then
    return 0
  fi
  echo "Installing Sarah's locked dependencies ($lock) into .venv" >&2
  python -m pip install -q --disable-pip-version-check --require-hashes -r requirements/pip.txt
  python -m pip install -q --require-hashes --no-deps -r "$lock"
  if [ "$set" = test ]; then
    install_torch
  fi
  python -m pip check >&2
  cat requirements/pip.txt "$lock" requirements/torch.txt | cksum > "$stamp"
}

install_torch() {
  # torch's own dependencies are already installed from the lock; torch may add only what it pins itself.
  local pins=.venv/locked-pins.txt
  grep -hE '^[A-Za-z0-9._-]+==' requirements/test.txt | sed -E 's/[ \\]+$//' > "$pins"
  if python -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '$(sed -nE 's/^torch==//p' requirements/torch.txt)')" 2>/dev/null; then
    return 0
  fi
  python -m pip install -q --timeout 20 --retries 1 -c "$pins" -r requirements/torch.txt --index-url "$TORCH_CPU_INDEX" 2>/dev/null \
    || { echo "PyTorch's CPU wheel index did not answer: torch comes from pip's other sources (PyPI's Linux x86_64 build brings CUDA, about 3 GB)" >&2
         python -m pip install -q -c "$pins" -r requirements/torch.txt; }
}
