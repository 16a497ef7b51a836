# The boot manifest parser and the pcap capture writer, two small libraries packosd links.
# Paths are relative to this file: sim/CMakeLists.txt includes it.

add_library(packos_manifest STATIC ${CMAKE_CURRENT_LIST_DIR}/manifest.c)
target_include_directories(packos_manifest PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(packos_manifest PUBLIC packos_abi)

# libpcap only for the capture: nothing else in the tree may depend on it. Another fragment
# may have looked it up already; an imported target cannot be defined twice.
if(NOT TARGET PkgConfig::PCAP)
  pkg_check_modules(PCAP REQUIRED IMPORTED_TARGET libpcap)
endif()
add_library(packos_capture STATIC ${CMAKE_CURRENT_LIST_DIR}/capture.c)
target_include_directories(packos_capture PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(packos_capture PUBLIC packos_abi PkgConfig::PCAP)
