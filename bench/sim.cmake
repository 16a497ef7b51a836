# bench_sim: packosd end to end, beside Linux baselines (see the header of bench_sim.c and
# README.md). Included from bench/CMakeLists.txt, so paths are relative to bench/.
#
# The PackOS programs it runs (bench/programs/) link libpk only, like servers/, and are
# built into a directory of their own, which the driver hands packosd with --path; the
# driver finds packosd, packosctl and kan-echo where this build puts them.
set(BENCH_SIM_PROGRAM_DIR ${CMAKE_CURRENT_BINARY_DIR}/programs)
set(BENCH_SIM_PROGRAMS bench-rtt bench-stream bench-sink bench-idle bench-flood bench-tick bench-threads
                       bench-mcast-send bench-mcast-member)
foreach(program IN LISTS BENCH_SIM_PROGRAMS)
  add_executable(${program} programs/${program}.c)
  target_link_libraries(${program} PRIVATE packos_pk)
  set_target_properties(${program} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${BENCH_SIM_PROGRAM_DIR})
endforeach()

# What the drivers of real daemons share (bench_sim, bench_mcast).
add_library(packos_bench_driver STATIC driver.c)

add_executable(bench_sim bench_sim.c)
target_link_libraries(bench_sim PRIVATE packos_abi packos_bench_driver)
target_compile_definitions(bench_sim PRIVATE
  BENCH_SIM_PACKOSD="$<TARGET_FILE:packosd>"
  BENCH_SIM_PACKOSCTL="$<TARGET_FILE:packosctl>"
  BENCH_SIM_SERVER_DIR="$<TARGET_FILE_DIR:kan-echo>"
  BENCH_SIM_PROGRAM_DIR="${BENCH_SIM_PROGRAM_DIR}")
add_dependencies(bench_sim packosd packosctl kan-echo ${BENCH_SIM_PROGRAMS})

# A tiny run of every section, so CI sees the daemons start, the programs run and every
# daemon pass its audit at exit; timing is printed, never asserted.
add_test(NAME bench_sim_quick COMMAND bench_sim --quick)
set_tests_properties(bench_sim_quick PROPERTIES LABELS bench TIMEOUT 600)

# The clock's regularity (bench_tick.sh): bench-tick in packosd beside timerfd-jitter, a
# timerfd in a plain process.
add_executable(timerfd-jitter timerfd_jitter.c)
add_test(NAME bench_tick_quick COMMAND ${CMAKE_CURRENT_LIST_DIR}/bench_tick.sh --quick
         ${PROJECT_BINARY_DIR})
set_tests_properties(bench_tick_quick PROPERTIES LABELS bench TIMEOUT 120)

# Multicast: the kernel's groups against the multicast server, 1/10/100 members, in one run
# of one daemon (bench_mcast.c, docs/multicast.md).
add_executable(bench_mcast bench_mcast.c)
target_link_libraries(bench_mcast PRIVATE packos_bench_driver)
target_compile_definitions(bench_mcast PRIVATE
  BENCH_SIM_PACKOSD="$<TARGET_FILE:packosd>"
  BENCH_SIM_PACKOSCTL="$<TARGET_FILE:packosctl>"
  BENCH_SIM_SERVER_DIR="$<TARGET_FILE_DIR:kan-echo>"
  BENCH_SIM_PROGRAM_DIR="${BENCH_SIM_PROGRAM_DIR}")
add_dependencies(bench_mcast packosd packosctl mcast-server bench-mcast-send bench-mcast-member)
add_test(NAME bench_mcast_quick COMMAND bench_mcast --quick)
set_tests_properties(bench_mcast_quick PROPERTIES LABELS bench TIMEOUT 600)

# Threads of one process against two processes (bench_threads.sh, docs/threads.md).
add_test(NAME bench_threads_quick COMMAND ${CMAKE_CURRENT_LIST_DIR}/bench_threads.sh --quick
         ${PROJECT_BINARY_DIR})
set_tests_properties(bench_threads_quick PROPERTIES LABELS bench TIMEOUT 120)
