#!/usr/bin/env bash
# driver_includes.sh - drivers use only the public API, as a ctest test
# (packaging.driver_includes): every #include in drivers/ names
#
#   <ustack/...>   a public header: include/ustack/ or a driver's
#                  drivers/<name>/include/ustack/
#   <...>          a system header (anything not found in netstack/, osal/
#                  or include/ under that name)
#   "..."          a file in the driver's own folder or another driver's
#                  (the pipe uses drivers/fault/fault.h), or the conformance
#                  suite's tests/drivers/conformance.h for an adapter
#
# and never netstack/ or osal/ internals (kern/mbuf.h, net/if_var.h, ...),
# which the library's own build would let a driver reach.
#
#   tests/cmake/driver_includes.sh [SOURCE_ROOT]
set -euo pipefail

root="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
cd "$root"
[[ -d drivers ]] || { echo "driver_includes: no drivers/ under $root" >&2; exit 1; }

bad=0
nfiles=0
while IFS= read -r f; do
  nfiles=$((nfiles + 1))
  dir=$(dirname "$f")
  while IFS=: read -r line text; do
    if [[ $text =~ \<([^>]+)\> ]]; then
      h=${BASH_REMATCH[1]}
      if [[ $h == ustack/* ]]; then
        if [[ -f include/$h ]] || compgen -G "drivers/*/include/$h" > /dev/null; then
          continue
        fi
        echo "$f:$line: #include <$h>: no such public header"
      elif [[ -e netstack/$h || -e osal/common/$h || -e osal/$h || -e include/$h ]]; then
        echo "$f:$line: #include <$h>: a ustack internal header; drivers use <ustack/...> only"
      else
        continue
      fi
    elif [[ $text =~ \"([^\"]+)\" ]]; then
      h=${BASH_REMATCH[1]}
      p=""
      for cand in "$dir/$h" "tests/drivers/$h"; do
        [[ -f $cand ]] && { p=$(realpath --relative-to=. "$cand"); break; }
      done
      if [[ -z $p ]]; then
        echo "$f:$line: #include \"$h\": not found in the driver's folder"
      elif [[ $p == drivers/* || $p == tests/drivers/conformance.h ]]; then
        continue
      else
        echo "$f:$line: #include \"$h\" is $p: drivers include only public headers and their own files"
      fi
    else
      echo "$f:$line: computed #include: cannot be checked, name the header"
    fi
    bad=$((bad + 1))
  done < <(grep -nE '^[[:space:]]*#[[:space:]]*include' "$f" | sed -E 's/^([0-9]+):/\1:/')
done < <(find drivers -type f \( -name '*.c' -o -name '*.h' \) | LC_ALL=C sort)

if ((bad > 0)); then
  echo "driver_includes: FAILED: $bad include(s) outside the public API (see above)" >&2
  exit 1
fi
echo "driver_includes: $nfiles files under drivers/: public headers only"
