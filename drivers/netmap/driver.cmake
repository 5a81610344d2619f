# The netmap driver: a stack on the rings of a netmap port (ustack_netmap.h).
# It needs no library: the ABI is netmap_abi.h (the system's headers where
# there are, else its own), and every system call goes through a table that
# a test points at the user-space emulator (tests/netmap_emu).  ON by
# default for posix builds on Linux and FreeBSD; OFF for cross, board and
# core-only builds.  Its conformance adapter runs over the emulator's pipe
# ports (tests/drivers/CMakeLists.txt links it with netmap_emu).
set(ust_netmap_default OFF)
if(NOT CMAKE_CROSSCOMPILING AND NOT USTACK_CORE_ONLY AND USTACK_OSAL STREQUAL "posix" AND
    CMAKE_SYSTEM_NAME MATCHES "^(Linux|FreeBSD)$")
  set(ust_netmap_default ON)
endif()
ustack_driver(NAME netmap
  DOC "Compile the netmap driver (netmap(4) API 14)"
  DEFAULT ${ust_netmap_default}
  SOURCES netmap.c
  HEADERS include/ustack/ustack_netmap.h
  CONFORMANCE conformance_netmap.c)
