# packosd: the kernel core hosted on Linux.
if(NOT TARGET PkgConfig::LIBURING)
  pkg_check_modules(LIBURING REQUIRED IMPORTED_TARGET liburing)
endif()

add_executable(packosd
  ${CMAKE_CURRENT_LIST_DIR}/packosd.c
  ${CMAKE_CURRENT_LIST_DIR}/channel.c
  ${CMAKE_CURRENT_LIST_DIR}/clock.c
  ${CMAKE_CURRENT_LIST_DIR}/control.c
  ${CMAKE_CURRENT_LIST_DIR}/log.c
  ${CMAKE_CURRENT_LIST_DIR}/loop.c
  ${CMAKE_CURRENT_LIST_DIR}/nic.c
  ${CMAKE_CURRENT_LIST_DIR}/port.c
  ${CMAKE_CURRENT_LIST_DIR}/procs.c
  ${CMAKE_CURRENT_LIST_DIR}/tracing.c
)
target_link_libraries(packosd PRIVATE packos_kernel_core packos_control packos_manifest
                      packos_capture packos_trace packos_tap_bridge PkgConfig::LIBURING)
target_compile_definitions(packosd PRIVATE
  PACKOS_VERSION="${PROJECT_VERSION}"
  PACKOS_LIBEXEC_DIR="${CMAKE_INSTALL_PREFIX}/libexec/packos")
