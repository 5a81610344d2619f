# The Stellaris (LM3S6965) Ethernet MAC: register FIFOs, polled
# (ustack_stellaris.h).  Off on hosts: only a bare-metal board build that
# has the controller (USTACK_BOARD=lm3s6965evb) turns it on.
ustack_driver(NAME stellaris
  DOC "Compile the Stellaris LM3S6965 Ethernet driver (QEMU lm3s6965evb)"
  DEFAULT OFF
  SOURCES stellaris.c
  HEADERS include/ustack/ustack_stellaris.h)
