/*
 * lm3s6965evb_opts.h - compile-time options of the lm3s6965evb build
 * (USTACK_BOARD_OPTS_H in lm3s6965evb.cmake; ustack_opts.h documents each
 * option).  Every protocol feature stays in: flash (256 KiB) is not what
 * this board lacks.  What it lacks is RAM (64 KiB for everything), so
 * memory comes in small pieces:
 *  - zones grow 4 items at a time, not 64: a slab of 64 tcpcbs alone
 *    would be 30 KiB;
 *  - clusters of 1536 bytes hold one 1514-byte frame, not 2048;
 *  - no 9 KiB jumbo clusters (the MTU is 1500).
 */
#ifndef LM3S6965EVB_OPTS_H
#define LM3S6965EVB_OPTS_H

#define UST_ZONE_SLAB_ITEMS 4
#define UST_MCLBYTES 1536
#define UST_MJUMBYTES 0
/* No IPv6: its state and counters (about 7 KiB) do not fit next to the
 * connections. */
#define UST_INET6 0

#endif /* LM3S6965EVB_OPTS_H */
