# The fault driver: seeded faults on any other driver (ustack_fault.h).  Its
# engine (fault.c) is also built into the pipe.
ustack_driver(NAME fault
  DOC "Compile the fault driver (seeded faults wrapping any driver; the pipe needs it)"
  SOURCES fault.c fault_wrap.c
  HEADERS include/ustack/ustack_fault.h
  CONFORMANCE conformance_fault.c)
