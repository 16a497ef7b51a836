# The trace (packosctl trace): packosd's ring of events and their steps (packos_trace), and
# packosctl's rendering of the steps, which joins the control protocol's library.
add_library(packos_trace STATIC ${CMAKE_CURRENT_LIST_DIR}/trace.c
                                ${CMAKE_CURRENT_LIST_DIR}/trace_steps.c)
target_include_directories(packos_trace PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(packos_trace PUBLIC packos_abi packos_control PRIVATE packos_kernel_core)

target_sources(packos_control PRIVATE ${CMAKE_CURRENT_LIST_DIR}/trace_render.c)
# packosctl names the daemon's default ring size in its usage (trace.h).
target_link_libraries(packosctl PRIVATE packos_abi)
