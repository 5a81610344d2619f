# cmake -DEXPECT=VAR=v,VAR=v -P check_env.cmake: fails unless every VAR is
# set to its v in the environment (the netmap variants' ENVIRONMENT).
string(REPLACE "," ";" pairs "${EXPECT}")
foreach(pair ${pairs})
  string(FIND "${pair}" "=" eq)
  string(SUBSTRING "${pair}" 0 ${eq} var)
  math(EXPR eq "${eq} + 1")
  string(SUBSTRING "${pair}" ${eq} -1 want)
  if(NOT "$ENV{${var}}" STREQUAL "${want}")
    message(FATAL_ERROR "${var} is '$ENV{${var}}', not '${want}'")
  endif()
endforeach()
