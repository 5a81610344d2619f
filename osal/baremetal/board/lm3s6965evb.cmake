# lm3s6965evb.cmake - the board lm3s6965evb for -DUSTACK_BOARD=lm3s6965evb
# (cmake/ustack_board.cmake reads these variables).
#
# TI LM3S6965 (Cortex-M3), QEMU -M lm3s6965evb: 256 KiB flash, 64 KiB SRAM
# for everything: .data, .bss (the OSAL heap is in it) and the main stack
# (lm3s6965evb.ld keeps at least 4 KiB for it).  The heap is what is left
# after the firmware's own buffers and that stack (firmware/README.md has
# where it goes).
set(USTACK_BOARD_SOURCES
  osal/baremetal/board/cortex_m.c
  osal/baremetal/board/lm3s6965evb.c)
set(USTACK_BOARD_LDSCRIPT osal/baremetal/board/lm3s6965evb.ld)
set(USTACK_BOARD_DRIVERS stellaris)
set(USTACK_BOARD_HEAP_SIZE 51200)
# Compile-time options for 64 KiB (small slabs and clusters): the header
# ustack_opts.h includes, unless USTACK_USER_OPTS_H/USTACK_PROFILE says
# otherwise.
set(USTACK_BOARD_OPTS_H osal/baremetal/board/lm3s6965evb_opts.h)
# The QEMU machine and its options, for tools that boot the image.
set(USTACK_BOARD_QEMU_MACHINE lm3s6965evb)
