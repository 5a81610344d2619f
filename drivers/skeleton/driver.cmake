# The skeleton driver: a template to copy for a new driver (ustack_skeleton.h).
ustack_driver(NAME skeleton
  DOC "Compile the skeleton driver (a ring pair in memory; the template for new drivers)"
  SOURCES skeleton.c
  HEADERS include/ustack/ustack_skeleton.h
  CONFORMANCE conformance_skeleton.c)
