# The control protocol's codec: writer, request parser, response parser and renderers.
packos_add_test(NAME test_control_wire SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_control_wire.c
                LIBS packos_control LABELS unit)
