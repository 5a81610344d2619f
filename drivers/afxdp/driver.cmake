# The AF_XDP driver: a stack on a Linux interface's queues through AF_XDP
# sockets (ustack_afxdp.h).  USTACK_WITH_AFXDP: AUTO (the default) builds it
# on Linux posix builds whose headers have <linux/if_xdp.h>; ON requires
# them; OFF leaves it out.  Never for a cross, board or core-only build.
# No libraries: the XDP program is loaded with the raw bpf(2) syscall.
set(USTACK_WITH_AFXDP AUTO CACHE STRING "Compile the AF_XDP driver: AUTO (Linux with linux/if_xdp.h), ON or OFF")
set_property(CACHE USTACK_WITH_AFXDP PROPERTY STRINGS AUTO ON OFF)
set(ust_afxdp_mode "${USTACK_WITH_AFXDP}")
set(ust_afxdp_on OFF)
if(ust_afxdp_mode STREQUAL "AUTO" AND (CMAKE_CROSSCOMPILING OR USTACK_CORE_ONLY OR USTACK_BOARD OR
    NOT USTACK_OSAL STREQUAL "posix" OR NOT CMAKE_SYSTEM_NAME STREQUAL "Linux"))
  set(ust_afxdp_mode OFF)
endif()
if(NOT USTACK_BOARD AND NOT ust_afxdp_mode STREQUAL "OFF")
  include(CheckIncludeFile)
  check_include_file(linux/if_xdp.h USTACK_HAVE_IF_XDP_H)
  if(USTACK_HAVE_IF_XDP_H)
    set(ust_afxdp_on ON)
  elseif(ust_afxdp_mode STREQUAL "ON")
    message(FATAL_ERROR "USTACK_WITH_AFXDP=ON but <linux/if_xdp.h> is missing: apt-get install linux-libc-dev (or -DUSTACK_WITH_AFXDP=OFF)")
  endif()
endif()
# A normal variable shadows the AUTO/ON/OFF cache entry for ustack_driver().
set(USTACK_WITH_AFXDP ${ust_afxdp_on})
if(ust_afxdp_on)
  # Its own object library: the driver sees the public headers only (the
  # system's <netinet/in.h>, not netstack/'s).
  add_library(ustack_afxdp_objs OBJECT ${CMAKE_CURRENT_LIST_DIR}/afxdp.c
    ${CMAKE_CURRENT_LIST_DIR}/xdp_prog.c)
  target_include_directories(ustack_afxdp_objs PRIVATE ${PROJECT_SOURCE_DIR}/include
    ${CMAKE_CURRENT_LIST_DIR}/include)
  target_compile_options(ustack_afxdp_objs PRIVATE ${USTACK_WARNINGS})
endif()
ustack_driver(NAME afxdp
  DOC "Compile the AF_XDP driver"
  HEADERS include/ustack/ustack_afxdp.h
  CONFORMANCE conformance_afxdp.c)
if(ust_afxdp_on)
  list(APPEND USTACK_DRIVER_OBJECTS $<TARGET_OBJECTS:ustack_afxdp_objs>)
endif()
