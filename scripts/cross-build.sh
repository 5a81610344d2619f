#!/usr/bin/env bash
# cross-build.sh - portability guard: build ustack for other machines, and
# run its C test suite on other CPUs under qemu-user.
#
#   scripts/cross-build.sh [cortex-m3|aarch64|all]              (default: all)
#   scripts/cross-build.sh --test [aarch64|s390x|powerpc|all]   (default: all)
#
# cortex-m3  the portable core (netstack/ + osal/common + the baremetal OSAL)
#            for an ARM Cortex-M3 with arm-none-eabi-gcc, its size
#                                                          -> build/cross-cortex-m3
#            and the bare-metal example (examples/baremetal) built on the
#            lm3s6965evb board layer, so that a symbol the core needs and
#            the port lacks fails the link, then run under QEMU when
#            qemu-system-arm is there (it exits 0).        -> build/board-lm3s6965evb
# aarch64    the full library (POSIX OSAL, drivers, no tests) for
#            aarch64-linux-gnu.                            -> build/cross-aarch64
#
# --test     the library and the C tests for a Linux CPU, then ctest with
#            every test program under qemu-user (CMAKE_CROSSCOMPILING_EMULATOR,
#            cmake/<triple>.cmake), printing build and test times:
#   aarch64  64-bit little-endian
#   s390x    64-bit big-endian
#   powerpc  32-bit big-endian (8-byte atomics through libatomic)
#   Each runs the unit tests, driver conformance, examples, fuzz corpus
#   replays, packaging checks and the simulations at fewer seeds (the
#   USTACK_*_EMULATED counts in tests/sim).  Not on a target: valgrind (the
#   host's cannot run target code) and the install/consumer check (it
#   builds with the host's tools).
#                                                          -> build/cross-<cpu>
#
# Environment: CMAKE (default cmake), JOBS (default: nproc),
# USTACK_CM3_HEAP (bare-metal heap arena for the Cortex-M3 build, default
# 40960: the LM3S6965 has 64 KiB of SRAM).  Exits non-zero on any failure.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
CMAKE="${CMAKE:-cmake}"
JOBS="${JOBS:-$(nproc 2>/dev/null || echo 4)}"
CM3_HEAP="${USTACK_CM3_HEAP:-40960}"

die() { echo "cross-build: $*" >&2; exit 1; }
step() { echo; echo "==> $*"; }
need() {
  command -v "$1" >/dev/null 2>&1 ||
    die "$1 not found; install it with: apt-get install $2"
}

# Configure from scratch when the cache was made by another toolchain.
configure() {
  local dir="$1"; shift
  if [[ -f "$dir/CMakeCache.txt" ]] && ! grep -q "^CMAKE_TOOLCHAIN_FILE:.*=$root/$TOOLCHAIN\$" "$dir/CMakeCache.txt"; then
    rm -rf "$dir"
  fi
  "$CMAKE" -S "$root" -B "$dir" -DCMAKE_TOOLCHAIN_FILE="$root/$TOOLCHAIN" "$@"
}

build_cortex_m3() {
  local dir=build/cross-cortex-m3 ex=examples/baremetal
  need arm-none-eabi-gcc "gcc-arm-none-eabi libnewlib-arm-none-eabi"
  TOOLCHAIN=cmake/arm-none-eabi-cortex-m3.cmake

  step "cortex-m3: core library (baremetal OSAL, heap ${CM3_HEAP} bytes)"
  configure "$dir" -DCMAKE_BUILD_TYPE=MinSizeRel -DUSTACK_CORE_ONLY=ON \
    -DUSTACK_OSAL=baremetal -DUSTACK_BAREMETAL_HEAP_SIZE="$CM3_HEAP"
  "$CMAKE" --build "$dir" -j "$JOBS"
  [[ -f "$dir/libustack.a" ]] || die "$dir/libustack.a was not built"

  step "cortex-m3: size of libustack.a (per object, then totals)"
  arm-none-eabi-size -t "$dir/libustack.a" | tee "$dir/size.txt"
  awk '/\(TOTALS\)/ { printf "cortex-m3 libustack.a totals: text=%s data=%s bss=%s (bss includes the %s-byte heap arena)\n", $1, $2, $3, heap }' \
    heap="$CM3_HEAP" "$dir/size.txt"

  # The board build (cmake/ustack_board.cmake): the example linked on the
  # board layer for the LM3S6965 (64 KiB of SRAM), so that a symbol the
  # core needs and the port lacks fails the link; then run under QEMU
  # when it is installed: it must create, poll and destroy a stack.
  local bdir=build/board-lm3s6965evb elf
  step "cortex-m3: $ex on the lm3s6965evb board layer -> $bdir"
  configure "$bdir" -DUSTACK_BOARD=lm3s6965evb -DUSTACK_WERROR=ON
  "$CMAKE" --build "$bdir" -j "$JOBS"
  elf="$bdir/baremetal_example.elf"
  [[ -f $elf ]] || die "$elf was not built"
  # The OSAL arena is the only heap; the board's _sbrk() keeps newlib's empty.
  if arm-none-eabi-nm "$elf" | grep -Eq ' [Tt] _?malloc(_r)?$'; then
    echo "note: newlib's malloc is linked (referenced by its printf family); the board's _sbrk() keeps it empty"
  fi
  arm-none-eabi-size "$elf"
  if command -v qemu-system-arm >/dev/null 2>&1; then
    step "cortex-m3: run $elf under qemu-system-arm -M lm3s6965evb"
    timeout 60 qemu-system-arm -M lm3s6965evb -display none -serial stdio \
      -semihosting-config enable=on,target=native -kernel "$elf" ||
      die "$elf did not exit 0 under QEMU"
  else
    echo "note: qemu-system-arm not found: $elf linked, not run (apt-get install qemu-system-arm)"
  fi
}

build_aarch64() {
  local dir=build/cross-aarch64
  need aarch64-linux-gnu-gcc "gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu"
  TOOLCHAIN=cmake/aarch64-linux-gnu.cmake

  step "aarch64: full library (posix OSAL, drivers)"
  configure "$dir" -DUSTACK_OSAL=posix -DUSTACK_BUILD_TESTS=OFF -DUSTACK_WERROR=ON
  "$CMAKE" --build "$dir" -j "$JOBS"
  [[ -f "$dir/libustack.a" && -f "$dir/libustack.so" ]] || die "libustack.a/.so missing in $dir"
  aarch64-linux-gnu-readelf -h "$dir/libustack.so" | grep -q 'Machine:.*AArch64' ||
    die "$dir/libustack.so is not an AArch64 object"
  aarch64-linux-gnu-size "$dir/libustack.so"
  step "aarch64: exported symbols"
  "$CMAKE" -DUSTACK_NM=aarch64-linux-gnu-nm -DUSTACK_LIB="$dir/libustack.so" \
    -P tests/cmake/exported_symbols.cmake
}

# --test: Linux CPUs whose test programs ctest runs under qemu-user.
declare -A TRIPLE=([aarch64]=aarch64-linux-gnu [s390x]=s390x-linux-gnu [powerpc]=powerpc-linux-gnu)
declare -A QEMU=([aarch64]=qemu-aarch64 [s390x]=qemu-s390x [powerpc]=qemu-ppc)
declare -A DEBARCH=([aarch64]=arm64 [s390x]=s390x [powerpc]=powerpc)
# ctest labels a CPU leaves out (none so far: every CPU runs the whole
# suite, the simulations at fewer seeds, tests/sim/CMakeLists.txt).
declare -A SKIP_LABELS=([aarch64]= [s390x]= [powerpc]=)
RESULTS=()
FAILED=()

test_cpu() {
  local cpu="$1" dir="build/cross-$1" triple="${TRIPLE[$1]}" t0 build_s test_s summary
  need "$triple-gcc" "gcc-$triple libc6-dev-${DEBARCH[$cpu]}-cross"
  need "${QEMU[$cpu]}" qemu-user
  TOOLCHAIN="cmake/$triple.cmake"

  step "$cpu: library and C tests (${QEMU[$cpu]} runs them)"
  t0=$SECONDS
  configure "$dir" -DUSTACK_OSAL=posix -DUSTACK_BUILD_TESTS=ON -DUSTACK_WERROR=ON
  grep -q "${QEMU[$cpu]}" "$dir/tests/unit/CTestTestfile.cmake" ||
    die "$dir: ctest would not run the tests under ${QEMU[$cpu]} (CMAKE_CROSSCOMPILING_EMULATOR unset)"
  "$CMAKE" --build "$dir" -j "$JOBS"
  build_s=$((SECONDS - t0))

  step "$cpu: ctest under ${QEMU[$cpu]}${SKIP_LABELS[$cpu]:+ (without label ${SKIP_LABELS[$cpu]})}"
  t0=$SECONDS
  local args=(--test-dir "$dir" --output-on-failure -j "$JOBS")
  [[ -n ${SKIP_LABELS[$cpu]} ]] && args+=(-LE "${SKIP_LABELS[$cpu]}")
  local rc=0
  ctest "${args[@]}" | tee "$dir/ctest.log" || rc=$?
  test_s=$((SECONDS - t0))
  summary=$(grep -Eo '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$dir/ctest.log" | tail -1)
  RESULTS+=("$(printf '%-8s build %4d s  test %4d s  %s' "$cpu" "$build_s" "$test_s" "${summary:-no ctest summary}")")
  echo "cross-build: ${RESULTS[-1]}"
  ((rc == 0)) || FAILED+=("$cpu (rerun: ctest --test-dir $dir --output-on-failure --rerun-failed)")
}

run_tests() {
  local cpus=("$@") cpu
  for cpu in "${cpus[@]}"; do
    test_cpu "$cpu"
  done
  echo
  echo "cross-build --test: build and test times (-j $JOBS)"
  printf '  %s\n' "${RESULTS[@]}"
  ((${#FAILED[@]} == 0)) || die "ctest failed on: ${FAILED[*]}"
}

if [[ ${1:-} == --test ]]; then
  target="${2:-all}"
  case "$target" in
    aarch64|s390x|powerpc) run_tests "$target" ;;
    all) run_tests aarch64 s390x powerpc ;;
    *) die "unknown test target '$target' (aarch64, s390x, powerpc or all)" ;;
  esac
  echo "cross-build: tests on $target OK"
  exit 0
fi

target="${1:-all}"
case "$target" in
  cortex-m3) build_cortex_m3 ;;
  aarch64) build_aarch64 ;;
  all) build_cortex_m3; build_aarch64 ;;
  -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}"; exit 0 ;;
  *) die "unknown target '$target' (cortex-m3, aarch64 or all)" ;;
esac
echo
echo "cross-build: $target OK"
