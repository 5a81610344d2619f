/*
 * ustack_opts.h - compile-time options, in the manner of lwIP's opt.h.
 *
 * Only what removes code or fixes a static size lives here; everything that
 * can change at run time is in struct ust_stack_config (ustack.h).  Every
 * option is "#ifndef + default", so a port overrides it with -D on the
 * compiler line (CMake does this for the USTACK_* options) or from a user
 * header named by USTACK_USER_OPTS_H.  0/1 options are tested with #if and
 * the tree is built with -Wundef, so a misspelt option is a build error.
 */
#ifndef USTACK_OPTS_H
#define USTACK_OPTS_H

#ifdef USTACK_USER_OPTS_H
#include USTACK_USER_OPTS_H
#endif

/* 1: internal invariant checks (never on wire input) call the OSAL panic. */
#ifndef UST_DEBUG
#define UST_DEBUG 0
#endif

/* Bytes of leading space kept free in a packet-header mbuf so that the
 * layers below can prepend their headers without a new allocation:
 * Ethernet (14) + VLAN (4) + IPv4 (60) + TCP (60) rounded up. */
#ifndef UST_MAX_LINKHDR
#define UST_MAX_LINKHDR 16
#endif
#ifndef UST_MAX_HDR
#define UST_MAX_HDR 144
#endif

/* Size of one mbuf (FreeBSD MSIZE) and of a standard cluster (MCLBYTES).
 * A cluster holds a full 1500-byte frame plus headroom. */
#ifndef UST_MSIZE
#define UST_MSIZE 256
#endif
#ifndef UST_MCLBYTES
#define UST_MCLBYTES 2048
#endif
/* Jumbo cluster (FreeBSD MJUM9BYTES) for 9000-byte MTUs. 0 removes it. */
#ifndef UST_MJUMBYTES
#define UST_MJUMBYTES 9216
#endif

/* Maximum frames taken from one interface per poll (rx_burst size). */
#ifndef UST_RX_BURST_MAX
#define UST_RX_BURST_MAX 32
#endif

/* Callout wheel geometry: slots per level (power of two) and levels.
 * 256 x 64 x 64 x 64 slots cover 2^26 ticks, about 18.6 hours at 1 ms;
 * a callout further out waits in the top level's farthest slot and is
 * placed again each time that slot comes due. */
#ifndef UST_CALLOUT_L0_BITS
#define UST_CALLOUT_L0_BITS 8
#endif
#ifndef UST_CALLOUT_LN_BITS
#define UST_CALLOUT_LN_BITS 6
#endif
#ifndef UST_CALLOUT_LEVELS
#define UST_CALLOUT_LEVELS 4
#endif

/* Maximum interfaces on one stack. */
#ifndef UST_MAX_IFNET
#define UST_MAX_IFNET 8
#endif

/* Drivers compiled into the library (CMake sets these). */
#ifndef UST_WITH_PIPE
#define UST_WITH_PIPE 1
#endif
#ifndef UST_WITH_PCAP
#define UST_WITH_PCAP 1
#endif

#if UST_MSIZE < 128 || (UST_MSIZE & (UST_MSIZE - 1)) != 0
#error "UST_MSIZE must be a power of two of at least 128: set -DUST_MSIZE=256"
#endif
#if UST_MCLBYTES < 1024
#error "UST_MCLBYTES must hold a full frame: set -DUST_MCLBYTES=2048"
#endif

#endif /* USTACK_OPTS_H */
