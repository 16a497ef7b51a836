# Runs http-bytes (servers/httpd/http-bytes.c) and checks what it writes against SHA-256
# sums from a separate implementation of the stream (a few lines of Python over the
# published splitmix64), so a client's `curl .../bytes/N | sha256sum` can trust it.
# cmake -DTOOL=path/to/http-bytes -DWORKDIR=dir -P this
set(cases
  "1000003:0:217ab4263eba835c1b1d99fe0d2ba23fee32e0068d246151f6414dfd1efa3804"
  "4099:12345:6066f3ee54596eebb5078c72539e2c8ea604827d5daf69768f79a29cb590bd05"
  "0:0:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)
foreach(case IN LISTS cases)
  string(REPLACE ":" ";" fields "${case}")
  list(GET fields 0 n)
  list(GET fields 1 offset)
  list(GET fields 2 expected)
  set(output ${WORKDIR}/http-bytes-${n}-${offset}.out)
  execute_process(COMMAND ${TOOL} ${n} ${offset} OUTPUT_FILE ${output} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "http-bytes ${n} ${offset} failed: ${rc}")
  endif()
  file(SHA256 ${output} sum)
  file(REMOVE ${output})
  if(NOT sum STREQUAL expected)
    message(FATAL_ERROR "http-bytes ${n} ${offset}: sha256 ${sum}, not ${expected}")
  endif()
endforeach()
execute_process(COMMAND ${TOOL} 1x RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
if(NOT rc EQUAL 2)
  message(FATAL_ERROR "http-bytes 1x: exit ${rc}, not 2")
endif()
