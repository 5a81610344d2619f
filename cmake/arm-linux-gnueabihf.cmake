# CMake toolchain file: GNU/Linux on 32-bit ARMv7-A, hard-float EABI
# (Debian: gcc-arm-linux-gnueabihf).  The full library, POSIX OSAL and drivers:
#
#   cmake -S . -B build/cross-arm -DCMAKE_TOOLCHAIN_FILE=cmake/arm-linux-gnueabihf.cmake
#
# See ustack-linux-cross.cmake for the overrides (tool prefix, sysroot).
set(CMAKE_SYSTEM_PROCESSOR arm)
set(USTACK_CROSS_TRIPLE arm-linux-gnueabihf)
set(USTACK_QEMU_ARCH arm)
include("${CMAKE_CURRENT_LIST_DIR}/ustack-linux-cross.cmake")
