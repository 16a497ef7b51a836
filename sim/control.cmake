# The control protocol (packos_control: the codec both packosd and packosctl link) and
# packosctl, the command-line client of packosd's control socket.
add_library(packos_control STATIC control_wire.c)
target_include_directories(packos_control PUBLIC ${CMAKE_CURRENT_LIST_DIR})

add_executable(packosctl packosctl.c)
target_link_libraries(packosctl PRIVATE packos_control)
