# install_consumer.cmake - does an installed ustack work for a user?
#
#  1. cmake --install <build> --prefix <work>/prefix
#  2. configure, build and run tests/cmake/consumer (find_package(ustack),
#     ustack::ustack and ustack::ustack_static) against that prefix only
#  3. compile the same main.c with `pkg-config --cflags --libs ustack`
#     (PKG_CONFIG_PATH at the prefix) and run it with LD_LIBRARY_PATH
# Each program must print "ustack <project version>".
#
#   cmake -DUSTACK_BUILD_DIR=build -DUSTACK_WORK_DIR=/tmp/x -DUSTACK_CONSUMER_DIR=tests/cmake/consumer
#         -DUSTACK_VERSION=0.1.0 [-DUSTACK_C_COMPILER=cc] [-DUSTACK_GENERATOR=...]
#         [-DUSTACK_CONFIG=...] [-DUSTACK_SANITIZE=address,undefined] -P install_consumer.cmake
# With USTACK_REQUIRE_ALL=1 in the environment a missing pkg-config fails
# the test instead of skipping that half.
cmake_minimum_required(VERSION 3.16)
foreach(v USTACK_BUILD_DIR USTACK_WORK_DIR USTACK_CONSUMER_DIR USTACK_VERSION)
  if(NOT ${v})
    message(FATAL_ERROR "install_consumer: -D${v}=... is required")
  endif()
endforeach()
if(NOT USTACK_C_COMPILER)
  set(USTACK_C_COMPILER cc)
endif()

set(prefix "${USTACK_WORK_DIR}/prefix")
set(cbuild "${USTACK_WORK_DIR}/consumer-build")
file(REMOVE_RECURSE "${USTACK_WORK_DIR}")
file(MAKE_DIRECTORY "${USTACK_WORK_DIR}")

# Runs a command; on failure stops with its output.  OUT receives stdout.
function(run what out)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE o ERROR_VARIABLE e)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " cmd "${ARGN}")
    message(FATAL_ERROR "install_consumer: ${what} failed (${rc})\n  command: ${cmd}\n${o}\n${e}")
  endif()
  set(${out} "${o}" PARENT_SCOPE)
endfunction()

function(expect_version what output)
  if(NOT output MATCHES "ustack ${USTACK_VERSION}")
    message(FATAL_ERROR "install_consumer: ${what} printed '${output}', expected 'ustack ${USTACK_VERSION}' "
      "(does UST_VERSION_* in ustack.h match project(VERSION) in CMakeLists.txt?)")
  endif()
  message(STATUS "install_consumer: ${what}: ${output}")
endfunction()

# Programs built against a sanitized libustack must be sanitized too.
set(san_flags "")
if(USTACK_SANITIZE)
  set(san_flags "-fsanitize=${USTACK_SANITIZE}")
endif()

# 1. Install.
set(cfg_args "")
if(USTACK_CONFIG)
  set(cfg_args --config "${USTACK_CONFIG}")
endif()
run("install" o "${CMAKE_COMMAND}" --install "${USTACK_BUILD_DIR}" --prefix "${prefix}" ${cfg_args})
file(GLOB_RECURSE cfgs "${prefix}/*/ustackConfig.cmake")
file(GLOB_RECURSE pcs "${prefix}/*/ustack.pc")
file(GLOB_RECURSE sos "${prefix}/*/libustack.so")
if(NOT cfgs OR NOT pcs OR NOT sos OR NOT EXISTS "${prefix}/include/ustack/ustack.h")
  message(FATAL_ERROR "install_consumer: the install to ${prefix} lacks ustackConfig.cmake, "
    "ustack.pc, libustack.so or include/ustack/ustack.h")
endif()
list(GET pcs 0 pc)
get_filename_component(pcdir "${pc}" DIRECTORY)
list(GET sos 0 so)
get_filename_component(libdir "${so}" DIRECTORY)

# 2. find_package(ustack) from the prefix, and nothing else.
set(gen_args "")
if(USTACK_GENERATOR)
  set(gen_args -G "${USTACK_GENERATOR}")
endif()
run("configuring the CMake consumer" o "${CMAKE_COMMAND}" -S "${USTACK_CONSUMER_DIR}" -B "${cbuild}"
  ${gen_args} -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_C_COMPILER=${USTACK_C_COMPILER}"
  "-DCMAKE_PREFIX_PATH=${prefix}" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
  -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF "-DCMAKE_C_FLAGS=${san_flags}")
run("building the CMake consumer" o "${CMAKE_COMMAND}" --build "${cbuild}" --config Debug)
foreach(exe consumer consumer_static)
  file(GLOB_RECURSE bin "${cbuild}/${exe}" "${cbuild}/*/${exe}")
  if(NOT bin)
    message(FATAL_ERROR "install_consumer: ${exe} was not built in ${cbuild}")
  endif()
  list(GET bin 0 bin)
  run("running ${exe}" o "${bin}")
  expect_version("find_package ${exe}" "${o}")
endforeach()

# 3. pkg-config.
find_program(PKG_CONFIG pkg-config)
if(NOT PKG_CONFIG)
  if("$ENV{USTACK_REQUIRE_ALL}" STREQUAL "1")
    message(FATAL_ERROR "install_consumer: pkg-config not found (apt-get install pkg-config)")
  endif()
  message(STATUS "install_consumer: SKIPPED the pkg-config half: pkg-config not found (apt-get install pkg-config)")
  return()
endif()
set(ENV{PKG_CONFIG_PATH} "${pcdir}")
run("pkg-config --cflags --libs ustack" flags "${PKG_CONFIG}" --cflags --libs ustack)
string(STRIP "${flags}" flags)
# The flags must lead into the prefix the package was installed to, not to
# the CMAKE_INSTALL_PREFIX it was configured with.
separate_arguments(flags UNIX_COMMAND "${flags}")
get_filename_component(want_i "${prefix}/include" REALPATH)
get_filename_component(want_l "${libdir}" REALPATH)
set(ok_i OFF)
set(ok_l OFF)
foreach(f IN LISTS flags)
  if(f MATCHES "^-I(.+)")
    get_filename_component(p "${CMAKE_MATCH_1}" REALPATH)
    if(p STREQUAL want_i)
      set(ok_i ON)
    endif()
  elseif(f MATCHES "^-L(.+)")
    get_filename_component(p "${CMAKE_MATCH_1}" REALPATH)
    if(p STREQUAL want_l)
      set(ok_l ON)
    endif()
  endif()
endforeach()
if(NOT ok_i OR NOT ok_l)
  file(READ "${pc}" pctext)
  string(REPLACE ";" " " flags "${flags}")
  message(FATAL_ERROR "install_consumer: pkg-config gives '${flags}' for a ustack installed "
    "at ${prefix}: ${pc} does not follow the install prefix (make it relocatable, "
    "prefix=\${pcfiledir}/<path from libdir/pkgconfig to the prefix>).  It reads:\n${pctext}")
endif()
separate_arguments(san UNIX_COMMAND "${san_flags}")
set(pcexe "${USTACK_WORK_DIR}/consumer_pkgconfig")
run("compiling with pkg-config flags" o "${USTACK_C_COMPILER}" ${san} -o "${pcexe}"
  "${USTACK_CONSUMER_DIR}/main.c" ${flags})
if(DEFINED ENV{LD_LIBRARY_PATH} AND NOT "$ENV{LD_LIBRARY_PATH}" STREQUAL "")
  set(ENV{LD_LIBRARY_PATH} "${libdir}:$ENV{LD_LIBRARY_PATH}")
else()
  set(ENV{LD_LIBRARY_PATH} "${libdir}")
endif()
run("running the pkg-config consumer" o "${pcexe}")
expect_version("pkg-config consumer" "${o}")
