# The TAP driver: the host kernel on the other side (ustack_tap.h).  Its
# other end is the kernel, so it is not in the C conformance suite: it is
# tested through Python as root in a namespace (tests/python/test_tap.py,
# test_fault_driver.py).
ustack_driver(NAME tap
  DOC "Compile the TAP driver (Linux /dev/net/tun, FreeBSD /dev/tap)"
  SOURCES tap.c tap_steer.c
  HEADERS include/ustack/ustack_tap.h)
