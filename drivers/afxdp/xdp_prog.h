/*
 * xdp_prog.h - the AF_XDP driver's XDP program and its XSKMAP, through
 * the raw bpf(2) syscall (private to drivers/afxdp).
 */
#ifndef USTACK_AFXDP_XDP_PROG_H
#define USTACK_AFXDP_XDP_PROG_H

#include <stdint.h>

/* Each returns a descriptor (or 0) or -errno. */
int afxdp_xskmap_create(uint32_t entries);
int afxdp_xskmap_set(int map_fd, uint32_t queue, int xsk_fd);
int afxdp_prog_load(int map_fd, int frags);
/* xdp_flags: XDP_FLAGS_DRV_MODE or XDP_FLAGS_SKB_MODE. */
int afxdp_link_create(int prog_fd, int ifindex, uint32_t xdp_flags);

#endif /* USTACK_AFXDP_XDP_PROG_H */
