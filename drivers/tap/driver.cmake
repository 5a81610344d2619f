# The TAP driver: the host kernel on the other side (ustack_tap.h).  Its
# conformance runs through Python as root in a namespace
# (tests/python/test_driver_conformance.py), not in the C suite.
ustack_driver(NAME tap
  DOC "Compile the TAP driver (Linux /dev/net/tun, FreeBSD /dev/tap)"
  SOURCES tap.c
  HEADERS include/ustack/ustack_tap.h)
