# bench_transport: a design study of the channel between a program and packosd (see the
# header of bench_transport.c). Included from bench/CMakeLists.txt, so paths are relative
# to bench/. liburing is the daemon side's event loop; only this benchmark links it here.
if(NOT TARGET PkgConfig::LIBURING)
  pkg_check_modules(LIBURING REQUIRED IMPORTED_TARGET liburing)
endif()

add_executable(bench_transport bench_transport.c)
target_link_libraries(bench_transport PRIVATE packos_abi packos_bench_port PkgConfig::LIBURING)

# A short run, so CI sees the benchmark build and every answer come back right; timing is
# printed, never asserted.
add_test(NAME bench_transport_quick COMMAND bench_transport --quick)
set_tests_properties(bench_transport_quick PROPERTIES LABELS bench)
