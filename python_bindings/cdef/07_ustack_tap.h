/*
 * cffi cdef for include/ustack/ustack_tap.h, in header order.
 */
struct ust_tap_config {
	char name[16];
	uint8_t mac[6];
	uint8_t mac_set;
	uint32_t mtu;
	uint8_t offload;
};

struct ust_tap_stats {
	uint64_t rx_frames;
	uint64_t rx_bytes;
	uint64_t rx_nombuf;
	uint64_t tx_frames;
	uint64_t tx_bytes;
	uint64_t tx_errors;
	uint64_t tx_full;
	uint64_t tx_tso;
	uint64_t tx_csum;
	uint64_t rx_gso;
	uint64_t rx_csum;
};

struct ust_tap;

void ust_tap_config_init(struct ust_tap_config *cfg);
int ust_tap_open(const struct ust_tap_config *cfg, struct ust_tap **out);
void ust_tap_close(struct ust_tap *t);
const struct ust_driver_ops *ust_tap_ops(void);
void *ust_tap_softc(struct ust_tap *t);
const char *ust_tap_name(const struct ust_tap *t);
int ust_tap_fd(const struct ust_tap *t);
void ust_tap_get_stats(const struct ust_tap *t, struct ust_tap_stats *out);
