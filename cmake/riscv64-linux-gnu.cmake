# CMake toolchain file: GNU/Linux on RISC-V RV64GC
# (Debian: gcc-riscv64-linux-gnu).  The full library, POSIX OSAL and drivers:
#
#   cmake -S . -B build/cross-riscv64 -DCMAKE_TOOLCHAIN_FILE=cmake/riscv64-linux-gnu.cmake
#
# See ustack-linux-cross.cmake for the overrides (tool prefix, sysroot).
set(CMAKE_SYSTEM_PROCESSOR riscv64)
set(USTACK_CROSS_TRIPLE riscv64-linux-gnu)
set(USTACK_QEMU_ARCH riscv64)
include("${CMAKE_CURRENT_LIST_DIR}/ustack-linux-cross.cmake")
