/*
 * cffi cdef for include/ustack/ustack_driver.h, in header order.
 */

#define UST_IFCAP_RXCSUM ...
#define UST_IFCAP_TXCSUM ...
#define UST_IFCAP_TSO4 ...
#define UST_IFCAP_LRO ...
#define UST_IFCAP_JUMBO_MTU ...
#define UST_IFCAP_TXCSUM_IPV6 ...
#define UST_IFCAP_TSO6 ...

#define UST_CSUM_IP ...
#define UST_CSUM_TCP ...
#define UST_CSUM_UDP ...
#define UST_CSUM_TSO ...
#define UST_CSUM_IP6_UDP ...
#define UST_CSUM_IP6_TCP ...
#define UST_CSUM_IP6_TSO ...
#define UST_CSUM_L3_VALID ...
#define UST_CSUM_L4_VALID ...

struct ust_driver_ops {
	const char *name;
	int (*rx_burst)(void *softc, struct ust_if *ifp, struct ust_mbuf **pkts, int max);
	int (*tx_burst)(void *softc, struct ust_mbuf **pkts, int n);
	void (*get_mac)(void *softc, uint8_t mac[6]);
	uint32_t (*get_mtu)(void *softc);
	uint32_t (*get_caps)(void *softc);
	int (*get_fd)(void *softc);
	uint64_t (*next_deadline)(void *softc);
	void (*detach)(void *softc);
	uint32_t (*get_tso_max)(void *softc);
	uint64_t (*get_counter)(void *softc, int which);
	void (*set_multicast)(void *softc, const uint8_t (*macs)[6], unsigned n, int allmulti);
	...;
};

struct ust_mbuf *ust_mbuf_alloc(struct ust_if *ifp, size_t len);
struct ust_mbuf *ust_mbuf_from_buf(struct ust_if *ifp, const void *data, size_t len);
typedef void (*ust_mbuf_ext_free_fn)(void *arg, void *buf);
struct ust_mbuf *ust_mbuf_attach_ext(struct ust_if *ifp, void *buf, size_t size,
    size_t off, size_t len, ust_mbuf_ext_free_fn free_fn, void *arg);
void ust_mbuf_free(struct ust_mbuf *m);
void *ust_mbuf_data(struct ust_mbuf *m);
size_t ust_mbuf_len(const struct ust_mbuf *m);
struct ust_mbuf *ust_mbuf_next(const struct ust_mbuf *m);
struct ust_iovec {
	const void *iov_base;
	size_t iov_len;
};
int ust_mbuf_sglist(const struct ust_mbuf *m, struct ust_iovec *v, int max);
struct ust_mbuf *ust_mbuf_dup(const struct ust_mbuf *m);
int ust_mbuf_writable(const struct ust_mbuf *m);
uint32_t ust_mbuf_csum_flags(const struct ust_mbuf *m);
void ust_mbuf_set_csum_flags(struct ust_mbuf *m, uint32_t flags);
uint32_t ust_mbuf_tso_segsz(const struct ust_mbuf *m);
int ust_mbuf_csum_fill(struct ust_mbuf *m);
int ust_mbuf_tso_segment(struct ust_mbuf *m, struct ust_mbuf **segs, int max);
