# CMake toolchain file: GNU/Linux on AArch64 (ARMv8-A, 64-bit)
# (Debian: gcc-aarch64-linux-gnu).  The full library, POSIX OSAL and drivers:
#
#   cmake -S . -B build/cross-aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake
#
# See ustack-linux-cross.cmake for the overrides (tool prefix, sysroot).
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(USTACK_CROSS_TRIPLE aarch64-linux-gnu)
set(USTACK_QEMU_ARCH aarch64)
include("${CMAKE_CURRENT_LIST_DIR}/ustack-linux-cross.cmake")
