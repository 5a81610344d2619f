# The in-memory pipe: two Ethernet ends in one process (ustack_pipe.h).
ustack_driver(NAME pipe
  DOC "Compile the in-memory pipe driver"
  SOURCES pipe.c
  HEADERS include/ustack/ustack_pipe.h
  DEPENDS fault
  CONFORMANCE conformance_pipe.c)
