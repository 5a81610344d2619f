# exported_symbols.cmake - fails if libustack.so exports a symbol that is
# not ust_*: internal names (tcp_output, m_pullup, callout_reset) must stay
# hidden so that they never clash with the host's or the application's.
#
#   cmake -DUSTACK_NM=nm -DUSTACK_LIB=build/libustack.so -P exported_symbols.cmake
cmake_minimum_required(VERSION 3.16)
if(NOT USTACK_NM)
  set(USTACK_NM nm)
endif()
if(NOT EXISTS "${USTACK_LIB}")
  message(FATAL_ERROR "exported_symbols: no library at '${USTACK_LIB}'")
endif()

execute_process(COMMAND ${USTACK_NM} -D --defined-only "${USTACK_LIB}"
  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "exported_symbols: ${USTACK_NM} -D --defined-only ${USTACK_LIB} failed (${rc}): ${err}")
endif()

# Symbols the linker defines in every shared object.
set(linker_symbols _init _fini _edata _end __bss_start __bss_start__ __bss_end__
  _bss_end__ __end__ __data_start _DYNAMIC _GLOBAL_OFFSET_TABLE_ _PROCEDURE_LINKAGE_TABLE_)

string(REPLACE "\n" ";" lines "${out}")
set(bad "")
set(nust 0)
foreach(line IN LISTS lines)
  # "<value> <type> <name>[@version]"; type A (absolute) is a version node
  # or a linker symbol, never code or data of ours.
  if(NOT line MATCHES "^[0-9A-Fa-f]*[ \t]+([A-Za-z?])[ \t]+([^ \t@]+)")
    continue()
  endif()
  set(type "${CMAKE_MATCH_1}")
  set(name "${CMAKE_MATCH_2}")
  if(type STREQUAL "A" OR name IN_LIST linker_symbols)
    continue()
  endif()
  if(name MATCHES "^ust_")
    math(EXPR nust "${nust} + 1")
  else()
    string(APPEND bad "  ${type} ${name}\n")
  endif()
endforeach()

if(bad)
  message(FATAL_ERROR "exported_symbols: ${USTACK_LIB} exports symbols without the ust_ prefix "
    "(make them static, or keep them hidden; only UST_API symbols are exported):\n${bad}")
endif()
if(nust EQUAL 0 OR NOT out MATCHES "ust_stack_create")
  message(FATAL_ERROR "exported_symbols: ${USTACK_LIB} exports no ust_stack_create; is UST_API visibility broken?")
endif()
message(STATUS "exported_symbols: ${nust} symbols exported, all ust_*")
