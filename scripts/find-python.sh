#!/usr/bin/env bash
# Prints the path of a working pythonX.Y interpreter (X.Y = $1), from PATH or pyenv; fails if none.
set -u
want="python$1"
if candidate=$(command -v "$want" 2>/dev/null) && "$candidate" -c 'import sys' >/dev/null 2>&1; then
  echo "$candidate"; exit 0
fi
for root in "${PYENV_ROOT:-}" "$HOME/.pyenv"; do
  [ -n "$root" ] || continue
  for candidate in "$root"/versions/"$1".*/bin/"$want"; do
    if [ -x "$candidate" ] && "$candidate" -c 'import sys' >/dev/null 2>&1; then echo "$candidate"; exit 0; fi
  done
done
exit 1
