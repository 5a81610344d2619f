# CMake toolchain file: GNU/Linux on IBM Z (s390x: 64-bit, big-endian)
# (Debian: gcc-s390x-linux-gnu).  The full library, POSIX OSAL and drivers;
# with qemu-user installed, ctest runs the tests under qemu-s390x:
#
#   cmake -S . -B build/cross-s390x -DCMAKE_TOOLCHAIN_FILE=cmake/s390x-linux-gnu.cmake
#
# See ustack-linux-cross.cmake for the overrides (tool prefix, sysroot).
set(CMAKE_SYSTEM_PROCESSOR s390x)
set(USTACK_CROSS_TRIPLE s390x-linux-gnu)
set(USTACK_QEMU_ARCH s390x)
include("${CMAKE_CURRENT_LIST_DIR}/ustack-linux-cross.cmake")
