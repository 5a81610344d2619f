# ustack_driver.cmake - how a driver folder registers itself with the build.
#
# The top CMakeLists.txt includes every drivers/<name>/driver.cmake (in
# name order); each calls ustack_driver() once:
#
#   ustack_driver(NAME pipe
#     DOC "Compile the in-memory pipe driver"   # the option's help text
#     [DEFAULT ON|OFF]                          # default ON
#     SOURCES pipe.c                            # relative to the folder
#     [HEADERS include/ustack/ustack_pipe.h]    # public, installed to include/ustack/
#     [DEPENDS fault]                           # drivers it needs compiled in
#     [LIBS -lfoo]                              # what linking libustack.a then needs
#     [CONFORMANCE conformance_pipe.c])         # its adapter for tests/drivers/
#
# That gives the option USTACK_WITH_<NAME> and, when it is on, the sources in
# libustack, <folder>/include on the include path (build tree; installed
# beside ustack.h), UST_WITH_<NAME>=1 for the library's sources (0 when
# off), the driver in the generic conformance suite (tests/drivers/) and
# its name in <build>/ustack_drivers.txt, which the Python build reads to
# compile in the cdefs of the drivers that are there.  LIBS join libustack's
# public link interface and <build>/ustack_link.txt (one per line), which
# the Python build links the extension with.
function(ustack_driver)
  cmake_parse_arguments(D "" "NAME;DOC;DEFAULT;CONFORMANCE" "SOURCES;HEADERS;DEPENDS;LIBS" ${ARGN})
  if(NOT D_NAME)
    message(FATAL_ERROR "ustack_driver() in ${CMAKE_CURRENT_LIST_FILE}: NAME is required")
  endif()
  if(NOT DEFINED D_DEFAULT)
    set(D_DEFAULT ON)
  endif()
  # A board build (cmake/ustack_board.cmake) compiles the drivers its
  # board names and no other.
  if(USTACK_BOARD)
    if(D_NAME IN_LIST USTACK_BOARD_DRIVERS)
      set(D_DEFAULT ON)
    else()
      set(D_DEFAULT OFF)
    endif()
  endif()
  string(TOUPPER "${D_NAME}" up)
  option(USTACK_WITH_${up} "${D_DOC}" ${D_DEFAULT})
  set(dir "${CMAKE_CURRENT_LIST_DIR}")
  set(USTACK_DRIVERS_ALL ${USTACK_DRIVERS_ALL} ${D_NAME} PARENT_SCOPE)
  if(NOT USTACK_WITH_${up})
    set(USTACK_DRIVER_DEFINITIONS ${USTACK_DRIVER_DEFINITIONS} UST_WITH_${up}=0 PARENT_SCOPE)
    return()
  endif()
  list(TRANSFORM D_SOURCES PREPEND "${dir}/")
  list(TRANSFORM D_HEADERS PREPEND "${dir}/")
  set(USTACK_DRIVERS ${USTACK_DRIVERS} ${D_NAME} PARENT_SCOPE)
  set(USTACK_DRIVER_SOURCES ${USTACK_DRIVER_SOURCES} ${D_SOURCES} PARENT_SCOPE)
  set(USTACK_DRIVER_HEADERS ${USTACK_DRIVER_HEADERS} ${D_HEADERS} PARENT_SCOPE)
  if(EXISTS "${dir}/include")
    set(USTACK_DRIVER_INCLUDE_DIRS ${USTACK_DRIVER_INCLUDE_DIRS} "${dir}/include" PARENT_SCOPE)
  endif()
  set(USTACK_DRIVER_DEFINITIONS ${USTACK_DRIVER_DEFINITIONS} UST_WITH_${up}=1 PARENT_SCOPE)
  set(USTACK_DRIVER_DEPENDS_${D_NAME} ${D_DEPENDS} PARENT_SCOPE)
  set(USTACK_DRIVER_LIBS ${USTACK_DRIVER_LIBS} ${D_LIBS} PARENT_SCOPE)
  if(D_CONFORMANCE)
    set(USTACK_DRIVER_CONFORMANCE ${USTACK_DRIVER_CONFORMANCE} "${D_NAME}=${dir}/${D_CONFORMANCE}"
      PARENT_SCOPE)
  endif()
endfunction()

# After every driver.cmake: a driver whose DEPENDS are compiled out is an
# error that names the option to turn on.
function(ustack_drivers_check)
  foreach(name ${USTACK_DRIVERS})
    foreach(dep ${USTACK_DRIVER_DEPENDS_${name}})
      if(NOT dep IN_LIST USTACK_DRIVERS)
        string(TOUPPER "${name}" up)
        string(TOUPPER "${dep}" dup)
        message(FATAL_ERROR "USTACK_WITH_${up} needs USTACK_WITH_${dup}=ON (driver ${name} uses ${dep})")
      endif()
    endforeach()
  endforeach()
  string(REPLACE ";" "\n" text "${USTACK_DRIVERS}")
  file(WRITE "${PROJECT_BINARY_DIR}/ustack_drivers.txt" "${text}\n")
  string(REPLACE ";" "\n" libs "${USTACK_DRIVER_LIBS}")
  file(WRITE "${PROJECT_BINARY_DIR}/ustack_link.txt" "${libs}\n")
endfunction()
