# CMake toolchain file: bare-metal ARM Cortex-M3 (Thumb-2, no FPU) with the
# GNU Arm Embedded toolchain (Debian: gcc-arm-none-eabi, libnewlib-arm-none-eabi).
#
#   cmake -S . -B build/cross-cortex-m3 -DUSTACK_CORE_ONLY=ON -DUSTACK_OSAL=baremetal \
#         -DCMAKE_TOOLCHAIN_FILE=cmake/arm-none-eabi-cortex-m3.cmake
#
# There is no OS to link test programs against, so CMake's compiler checks
# build static libraries instead of executables.  The default build type is
# MinSizeRel (-Os): flash is what a Cortex-M runs out of first.
# USTACK_CROSS_PREFIX overrides the tool prefix (e.g. /opt/gcc-arm/bin/arm-none-eabi-).
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR cortex-m3)

if(NOT DEFINED USTACK_CROSS_PREFIX)
  set(USTACK_CROSS_PREFIX "arm-none-eabi-")
endif()
set(CMAKE_C_COMPILER "${USTACK_CROSS_PREFIX}gcc")
set(CMAKE_ASM_COMPILER "${USTACK_CROSS_PREFIX}gcc")
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

set(USTACK_CORTEX_M3_FLAGS "-mcpu=cortex-m3 -mthumb -Os -ffunction-sections -fdata-sections")
set(CMAKE_C_FLAGS_INIT "${USTACK_CORTEX_M3_FLAGS}")
set(CMAKE_ASM_FLAGS_INIT "${USTACK_CORTEX_M3_FLAGS}")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-Wl,--gc-sections --specs=nano.specs --specs=nosys.specs")
if(NOT CMAKE_BUILD_TYPE)
  set(CMAKE_BUILD_TYPE MinSizeRel CACHE STRING "Build type")
endif()

# Look for libraries and headers in the toolchain's sysroot only; run the
# build machine's programs.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
