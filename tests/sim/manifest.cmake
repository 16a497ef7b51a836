# Unit tests of the boot manifest parser and the pcap capture writer. The capture test
# reads its file back with libpcap, so it links libpcap itself (PUBLIC on packos_capture).
packos_add_test(NAME test_manifest SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_manifest.c
                LIBS packos_manifest LABELS unit)
packos_add_test(NAME test_capture SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_capture.c
                LIBS packos_capture LABELS unit)
