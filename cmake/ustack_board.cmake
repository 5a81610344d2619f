# ustack_board.cmake - firmware images for a board (-DUSTACK_BOARD=<board>).
#
#   cmake -S . -B build/board-mps2-an385 -DCMAKE_TOOLCHAIN_FILE=cmake/arm-none-eabi-cortex-m3.cmake \
#         -DUSTACK_BOARD=mps2-an385
#   cmake --build build/board-mps2-an385
#     -> build/board-mps2-an385/ustack-fw-mps2-an385.elf   the firmware (firmware/)
#        build/board-mps2-an385/baremetal_example.elf      examples/baremetal
#
# A board is one file, osal/baremetal/board/<board>.cmake ('-' written '_'),
# which sets:
#   USTACK_BOARD_SOURCES    its C files (cortex_m.c and <board>.c), linked as
#                           objects so that their ust_board_* hooks replace the
#                           OSAL port's weak defaults
#   USTACK_BOARD_LDSCRIPT   its linker script
#   USTACK_BOARD_DRIVERS    the drivers/ it needs (their DEFAULT becomes ON,
#                           every other driver's OFF)
#   USTACK_BOARD_HEAP_SIZE  the OSAL heap arena in bytes (unless
#                           USTACK_BAREMETAL_HEAP_SIZE is given)
#   USTACK_BOARD_OPTS_H     optional: its compile-time options header
#                           (unless USTACK_USER_OPTS_H or USTACK_PROFILE
#                           chose one)
# Nothing outside that file, the board's .c/.ld and its driver folder
# changes for a new board.
#
# ustack_board_setup() runs before the drivers register (it picks the
# OSAL port and the drivers); ustack_board_targets() after them.

macro(ustack_board_setup)
  if(NOT CMAKE_SYSTEM_NAME STREQUAL "Generic")
    message(FATAL_ERROR "USTACK_BOARD=${USTACK_BOARD} builds bare-metal firmware: add "
      "-DCMAKE_TOOLCHAIN_FILE=cmake/arm-none-eabi-cortex-m3.cmake")
  endif()
  string(REPLACE "-" "_" ustack_board_file "${USTACK_BOARD}")
  set(ustack_board_file "${PROJECT_SOURCE_DIR}/osal/baremetal/board/${ustack_board_file}.cmake")
  if(NOT EXISTS "${ustack_board_file}")
    file(GLOB ustack_boards RELATIVE "${PROJECT_SOURCE_DIR}/osal/baremetal/board"
      "${PROJECT_SOURCE_DIR}/osal/baremetal/board/*.cmake")
    string(REPLACE ".cmake" "" ustack_boards "${ustack_boards}")
    string(REPLACE "_" "-" ustack_boards "${ustack_boards}")
    message(FATAL_ERROR "USTACK_BOARD=${USTACK_BOARD}: no ${ustack_board_file}; boards: ${ustack_boards}")
  endif()
  include("${ustack_board_file}")
  # A board runs the bare-metal OSAL; tests, examples and benchmarks are
  # host programs.
  set(USTACK_OSAL baremetal)
  set(USTACK_BUILD_TESTS OFF)
  set(USTACK_BUILD_EXAMPLES OFF)
  set(USTACK_BUILD_BENCH OFF)
  set(USTACK_BUILD_SHARED OFF)
  # Absolute code: no GOT to relocate, which Reset_Handler would not do.
  set(CMAKE_POSITION_INDEPENDENT_CODE OFF)
  if(NOT USTACK_BAREMETAL_HEAP_SIZE)
    set(USTACK_BAREMETAL_HEAP_SIZE ${USTACK_BOARD_HEAP_SIZE})
  endif()
  if(USTACK_BOARD_OPTS_H AND NOT USTACK_OPTS_FILE)
    set(USTACK_OPTS_FILE "${PROJECT_SOURCE_DIR}/${USTACK_BOARD_OPTS_H}")
    add_compile_definitions("USTACK_USER_OPTS_H=\"${USTACK_OPTS_FILE}\"")
    # Read the options back again (CMakeLists.txt read them before the
    # board was known): the source lists follow them (UST_OPT_INET6 picks
    # netinet6/sources.cmake).
    ustack_read_opts()
  endif()
endmacro()

# An executable for the board: the sources, the board's objects, the
# library, the board's linker script; NAME.elf with NAME.map beside it,
# and its size printed after each link.
function(ustack_board_executable name)
  add_executable(${name} ${ARGN} $<TARGET_OBJECTS:ustack_board_objs>)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/osal/baremetal/board
    ${PROJECT_SOURCE_DIR}/osal/baremetal)
  target_compile_options(${name} PRIVATE ${USTACK_WARNINGS})
  target_compile_definitions(${name} PRIVATE UST_BOARD_HEAP_BYTES=${USTACK_BAREMETAL_HEAP_SIZE})
  target_link_libraries(${name} PRIVATE ustack_core)
  target_link_options(${name} PRIVATE -nostartfiles
    -T ${PROJECT_SOURCE_DIR}/${USTACK_BOARD_LDSCRIPT}
    -Wl,-Map=${PROJECT_BINARY_DIR}/${name}.map -Wl,--no-warn-rwx-segments)
  set_target_properties(${name} PROPERTIES SUFFIX ".elf" POSITION_INDEPENDENT_CODE OFF
    LINK_DEPENDS ${PROJECT_SOURCE_DIR}/${USTACK_BOARD_LDSCRIPT})
  add_custom_command(TARGET ${name} POST_BUILD
    COMMAND ${USTACK_CROSS_PREFIX}size $<TARGET_FILE:${name}> VERBATIM)
endfunction()

function(ustack_board_targets)
  add_library(ustack_core STATIC ${USTACK_OSAL_COMMON_SOURCES} ${USTACK_OSAL_PORT_SOURCES}
    ${USTACK_NETSTACK_SOURCES} ${USTACK_DRIVER_SOURCES})
  ustack_setup_target(ustack_core)
  set_target_properties(ustack_core PROPERTIES OUTPUT_NAME ustack POSITION_INDEPENDENT_CODE OFF)

  list(TRANSFORM USTACK_BOARD_SOURCES PREPEND "${PROJECT_SOURCE_DIR}/")
  add_library(ustack_board_objs OBJECT ${USTACK_BOARD_SOURCES})
  target_include_directories(ustack_board_objs PRIVATE ${PROJECT_SOURCE_DIR}/osal/baremetal/board
    ${PROJECT_SOURCE_DIR}/osal/baremetal)
  target_link_libraries(ustack_board_objs PRIVATE ustack_core) # include paths
  target_compile_options(ustack_board_objs PRIVATE ${USTACK_WARNINGS})
  set_target_properties(ustack_board_objs PROPERTIES POSITION_INDEPENDENT_CODE OFF)

  file(GLOB fw_sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/firmware/*.c)
  ustack_board_executable(ustack-fw-${USTACK_BOARD} ${fw_sources})
  target_include_directories(ustack-fw-${USTACK_BOARD} PRIVATE ${PROJECT_SOURCE_DIR}/firmware)
  target_compile_definitions(ustack-fw-${USTACK_BOARD} PRIVATE
    FW_BOARD_DRIVERS="${USTACK_BOARD_DRIVERS}")
  ustack_board_executable(baremetal_example ${PROJECT_SOURCE_DIR}/examples/baremetal/main.c)
endfunction()
