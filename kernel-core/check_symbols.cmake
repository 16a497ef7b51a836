# Fails if the kernel-core archive needs any symbol a freestanding port would not provide.
# The archive is first linked into one relocatable object, so references between its own
# members are resolved and only what it needs from outside stays undefined.
cmake_minimum_required(VERSION 3.25)
set(combined ${WORKDIR}/kernel-core-combined.o)
execute_process(COMMAND ${LINKER} -r -o ${combined} --whole-archive ${ARCHIVE}
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cannot link ${ARCHIVE} into one object")
endif()
execute_process(COMMAND ${NM} --undefined-only --format=just-symbols ${combined}
                OUTPUT_VARIABLE undefined RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "nm failed on ${combined}")
endif()
string(REPLACE "\n" ";" undefined "${undefined}")
set(bad "")
foreach(sym IN LISTS undefined)
  if(sym STREQUAL "" OR sym MATCHES "^(memcpy|memset|memmove|memcmp)$"
     OR sym MATCHES "^__(asan|ubsan|sanitizer)_")
    continue()
  endif()
  list(APPEND bad ${sym})
endforeach()
if(bad)
  message(FATAL_ERROR "kernel-core needs symbols no port provides: ${bad}")
endif()
message(STATUS "kernel-core links only to its port")
