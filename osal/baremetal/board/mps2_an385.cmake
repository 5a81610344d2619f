# mps2_an385.cmake - the board mps2-an385 for -DUSTACK_BOARD=mps2-an385
# (cmake/ustack_board.cmake reads these variables; a new board is a copy
# of this file, its .c and its .ld).
#
# ARM MPS2 + AN385 (Cortex-M3, 25 MHz), QEMU -M mps2-an385; the image also
# boots on mps2-an386 and mps2-an500 (mps2_an385.c).  4 MiB of RAM for
# data: a 1 MiB OSAL heap (the stack's memory: 64 TCP echo connections
# fit: firmware/main.c), the rest free for .data, .bss and the stack.
set(USTACK_BOARD_SOURCES
  osal/baremetal/board/cortex_m.c
  osal/baremetal/board/mps2_an385.c)
set(USTACK_BOARD_LDSCRIPT osal/baremetal/board/mps2_an385.ld)
set(USTACK_BOARD_DRIVERS lan9118)
set(USTACK_BOARD_HEAP_SIZE 1048576)
# The QEMU machine and its options, for tools that boot the image.
set(USTACK_BOARD_QEMU_MACHINE mps2-an385)
