/*
 * cffi cdef for include/ustack/ustack_pcap.h, in header order.
 */

struct ust_pcap;

int ust_pcap_open(const char *path, uint32_t snaplen, struct ust_pcap **out);
int ust_pcap_write(struct ust_pcap *pc, uint64_t ts_ns, const void *frame, size_t len);
int ust_pcap_write_mbuf(struct ust_pcap *pc, uint64_t ts_ns, const struct ust_mbuf *m);
void ust_pcap_capture(void *arg, struct ust_if *ifp, int dir, uint64_t ts_ns,
    const struct ust_mbuf *m);
uint64_t ust_pcap_count(const struct ust_pcap *pc);
int ust_pcap_close(struct ust_pcap *pc);
