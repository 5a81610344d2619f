/*
 * ustack_pcap.h - a pcap file writer (nanosecond-resolution pcap, link type
 * Ethernet) that tcpdump, tshark and Wireshark read.  Use it as the capture
 * hook of any interface:
 *
 *     struct ust_pcap *pc;
 *     ust_pcap_open("a.pcap", 0, &pc);
 *     ust_if_set_capture(ifp, ust_pcap_capture, pc);
 */
#ifndef USTACK_PCAP_H
#define USTACK_PCAP_H

#include <stddef.h>
#include <stdint.h>

#include <ustack/ustack.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ust_pcap;

/* Creates (truncates) path and writes the file header.  snaplen 0 means
 * 65535.  Returns 0 or -UST_EIO / -UST_ENOMEM / -UST_EINVAL. */
UST_API int ust_pcap_open(const char *path, uint32_t snaplen, struct ust_pcap **out);
/* Writes one record.  Returns 0 or -UST_EIO. */
UST_API int ust_pcap_write(struct ust_pcap *pc, uint64_t ts_ns, const void *frame, size_t len);
UST_API int ust_pcap_write_mbuf(struct ust_pcap *pc, uint64_t ts_ns, const struct ust_mbuf *m);
/* A ust_capture_fn; arg is the struct ust_pcap. */
UST_API void ust_pcap_capture(void *arg, struct ust_if *ifp, int dir, uint64_t ts_ns,
    const struct ust_mbuf *m);
/* Records written so far. */
UST_API uint64_t ust_pcap_count(const struct ust_pcap *pc);
/* Flushes and closes.  Returns 0 or -UST_EIO. */
UST_API int ust_pcap_close(struct ust_pcap *pc);

#ifdef __cplusplus
}
#endif
#endif /* USTACK_PCAP_H */
