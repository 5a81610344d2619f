# The DPDK driver: a stack on an ethdev port's queue pairs (ustack_dpdk.h).
# USTACK_WITH_DPDK: AUTO (the default) builds it when pkg-config finds
# libdpdk, ON requires libdpdk, OFF leaves it out.  DPDK's pkg-config cflags
# (-march=corei7, -include rte_config.h) apply to dpdk.c only, its headers
# as SYSTEM includes (clang's -Wundef trips over rte_memcpy.h otherwise):
# the rest of libustack keeps the build's own flags.  The libraries are
# only those dpdk.c calls (net_ring for ust_dpdk_ring_pair, bus_vdev for
# ust_dpdk_vdev_create); PMDs such as net_tap and net_memif are plugins
# the EAL loads from DPDK's plugin directory.
set(USTACK_WITH_DPDK AUTO CACHE STRING "Compile the DPDK driver: AUTO (when pkg-config finds libdpdk), ON or OFF")
set_property(CACHE USTACK_WITH_DPDK PROPERTY STRINGS AUTO ON OFF)
set(ust_dpdk_mode "${USTACK_WITH_DPDK}")
set(ust_dpdk_on OFF)
# AUTO never picks up the host's libdpdk for a cross, board or core-only build.
if(ust_dpdk_mode STREQUAL "AUTO" AND (CMAKE_CROSSCOMPILING OR USTACK_CORE_ONLY OR
    NOT USTACK_OSAL STREQUAL "posix" OR NOT CMAKE_SYSTEM_NAME STREQUAL "Linux"))
  set(ust_dpdk_mode OFF)
endif()
if(NOT USTACK_BOARD AND NOT ust_dpdk_mode STREQUAL "OFF")
  find_package(PkgConfig QUIET)
  if(PKG_CONFIG_FOUND)
    pkg_check_modules(USTACK_DPDK QUIET libdpdk)
  endif()
  if(USTACK_DPDK_FOUND)
    set(ust_dpdk_on ON)
  elseif(ust_dpdk_mode STREQUAL "ON")
    message(FATAL_ERROR "USTACK_WITH_DPDK=ON but pkg-config does not find libdpdk: apt-get install libdpdk-dev (or -DUSTACK_WITH_DPDK=OFF)")
  endif()
endif()
# A normal variable shadows the AUTO/ON/OFF cache entry for ustack_driver().
set(USTACK_WITH_DPDK ${ust_dpdk_on})
if(ust_dpdk_on)
  # DPDK's headers need POSIX/GNU declarations that -std=c11 hides, and
  # "-include rte_config.h" pulls in libc before dpdk.c's first line.
  set(ust_dpdk_opts -D_GNU_SOURCE)
  # "-include rte_config.h" arrives as two words: one SHELL: option, or
  # CMake's de-duplication would drop the second -include.
  set(prev "")
  foreach(f ${USTACK_DPDK_CFLAGS_OTHER})
    if(prev STREQUAL "-include")
      list(APPEND ust_dpdk_opts "SHELL:-include ${f}")
    elseif(NOT f STREQUAL "-include")
      list(APPEND ust_dpdk_opts ${f})
    endif()
    set(prev "${f}")
  endforeach()
  # Its own object library: dpdk.c sees the public headers only (DPDK's
  # <netinet/in.h> must be the system's, not netstack/'s), and the flags
  # stay on it.
  add_library(ustack_dpdk_objs OBJECT ${CMAKE_CURRENT_LIST_DIR}/dpdk.c)
  target_include_directories(ustack_dpdk_objs PRIVATE ${PROJECT_SOURCE_DIR}/include
    ${CMAKE_CURRENT_LIST_DIR}/include)
  target_include_directories(ustack_dpdk_objs SYSTEM PRIVATE ${USTACK_DPDK_INCLUDE_DIRS})
  target_compile_options(ustack_dpdk_objs PRIVATE ${USTACK_WARNINGS} ${ust_dpdk_opts})
  set(ust_dpdk_libs)
  foreach(l rte_net_ring rte_bus_vdev rte_ethdev rte_net rte_mbuf rte_mempool rte_ring rte_eal)
    list(APPEND ust_dpdk_libs "-l${l}")
  endforeach()
  foreach(d ${USTACK_DPDK_LIBRARY_DIRS})
    list(PREPEND ust_dpdk_libs "-L${d}")
  endforeach()
  message(STATUS "ustack: DPDK ${USTACK_DPDK_VERSION} driver built (USTACK_WITH_DPDK=${ust_dpdk_mode})")
endif()
ustack_driver(NAME dpdk
  DOC "Compile the DPDK driver"
  HEADERS include/ustack/ustack_dpdk.h
  LIBS ${ust_dpdk_libs}
  CONFORMANCE conformance_dpdk.c)
if(ust_dpdk_on)
  list(APPEND USTACK_DRIVER_OBJECTS $<TARGET_OBJECTS:ustack_dpdk_objs>)
endif()
