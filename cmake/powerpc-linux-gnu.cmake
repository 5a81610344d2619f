# CMake toolchain file: GNU/Linux on 32-bit PowerPC (big-endian)
# (Debian: gcc-powerpc-linux-gnu).  The full library, POSIX OSAL and drivers;
# 8-byte atomics are libatomic calls there (the top CMakeLists.txt links it
# when a probe needs it).  With qemu-user installed, ctest runs the tests
# under qemu-ppc:
#
#   cmake -S . -B build/cross-powerpc -DCMAKE_TOOLCHAIN_FILE=cmake/powerpc-linux-gnu.cmake
#
# See ustack-linux-cross.cmake for the overrides (tool prefix, sysroot).
set(CMAKE_SYSTEM_PROCESSOR powerpc)
set(USTACK_CROSS_TRIPLE powerpc-linux-gnu)
set(USTACK_QEMU_ARCH ppc)
include("${CMAKE_CURRENT_LIST_DIR}/ustack-linux-cross.cmake")
