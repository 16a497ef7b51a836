# packos_add_test(NAME n SOURCES s... [LIBS l...] [LABELS unit|integration|net|x86])
# Builds one cmocka test program and registers it with CTest under its labels.
pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)

function(packos_add_test)
  cmake_parse_arguments(T "" "NAME" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE PkgConfig::CMOCKA ${T_LIBS})
  add_test(NAME ${T_NAME} COMMAND ${T_NAME})
  set_tests_properties(${T_NAME} PROPERTIES LABELS "${T_LABELS}")
endfunction()
