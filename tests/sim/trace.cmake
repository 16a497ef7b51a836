# The trace: its ring, the steps made of its records, and packosctl's rendering of them.
packos_add_test(NAME test_trace SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_trace.c
                LIBS packos_trace LABELS unit)
