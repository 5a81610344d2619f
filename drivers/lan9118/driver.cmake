# The SMSC LAN9118 driver (ustack_lan9118.h): memory-mapped registers, so
# it builds only for a board (USTACK_BOARD=mps2-an385 turns it on).
ustack_driver(NAME lan9118
  DOC "Compile the SMSC LAN9118 Ethernet driver (ARM MPS2 boards, QEMU mps2-an385/an386/an500)"
  DEFAULT OFF
  SOURCES lan9118.c
  HEADERS include/ustack/ustack_lan9118.h)
