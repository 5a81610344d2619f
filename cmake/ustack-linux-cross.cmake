# Shared part of the cross toolchain files for GNU/Linux targets
# (aarch64-linux-gnu.cmake, arm-linux-gnueabihf.cmake, powerpc-linux-gnu.cmake,
# riscv64-linux-gnu.cmake, s390x-linux-gnu.cmake).
# The including file sets USTACK_CROSS_TRIPLE and CMAKE_SYSTEM_PROCESSOR.
#
# Debian/Ubuntu cross compilers (gcc-<triple>) install their target libraries
# under /usr/<triple>, which is the default root here.  Overrides:
#   USTACK_CROSS_PREFIX   tool prefix (default "<triple>-")
#   USTACK_CROSS_SYSROOT  a full sysroot to build against (passed as --sysroot)
# When qemu-<arch> user-mode emulation is installed, it becomes
# CMAKE_CROSSCOMPILING_EMULATOR, so ctest can run the target's test programs.
set(CMAKE_SYSTEM_NAME Linux)

if(NOT DEFINED USTACK_CROSS_PREFIX)
  set(USTACK_CROSS_PREFIX "${USTACK_CROSS_TRIPLE}-")
endif()
set(CMAKE_C_COMPILER "${USTACK_CROSS_PREFIX}gcc")
set(CMAKE_CXX_COMPILER "${USTACK_CROSS_PREFIX}g++")

if(DEFINED USTACK_CROSS_SYSROOT)
  set(CMAKE_SYSROOT "${USTACK_CROSS_SYSROOT}")
  set(CMAKE_FIND_ROOT_PATH "${USTACK_CROSS_SYSROOT}")
else()
  set(CMAKE_FIND_ROOT_PATH "/usr/${USTACK_CROSS_TRIPLE}")
endif()
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config must not hand the build machine's .pc files to a target build:
# look in the target root and in Debian's multiarch directory for the triple.
if(DEFINED USTACK_CROSS_SYSROOT)
  set(ENV{PKG_CONFIG_SYSROOT_DIR} "${USTACK_CROSS_SYSROOT}")
  set(ENV{PKG_CONFIG_LIBDIR} "${USTACK_CROSS_SYSROOT}/usr/lib/pkgconfig:${USTACK_CROSS_SYSROOT}/usr/lib/${USTACK_CROSS_TRIPLE}/pkgconfig:${USTACK_CROSS_SYSROOT}/usr/share/pkgconfig")
else()
  set(ENV{PKG_CONFIG_LIBDIR} "/usr/${USTACK_CROSS_TRIPLE}/lib/pkgconfig:/usr/lib/${USTACK_CROSS_TRIPLE}/pkgconfig")
endif()

if(NOT DEFINED CMAKE_CROSSCOMPILING_EMULATOR)
  find_program(USTACK_QEMU_USER NAMES "qemu-${USTACK_QEMU_ARCH}-static" "qemu-${USTACK_QEMU_ARCH}")
  if(USTACK_QEMU_USER)
    set(CMAKE_CROSSCOMPILING_EMULATOR "${USTACK_QEMU_USER};-L;${CMAKE_FIND_ROOT_PATH}")
  endif()
endif()
