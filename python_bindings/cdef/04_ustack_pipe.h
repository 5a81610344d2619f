/*
 * cffi cdef for include/ustack/ustack_pipe.h, in header order.
 */

struct ust_fault_config {
	uint32_t loss_ppm;
	uint32_t dup_ppm;
	uint32_t reorder_ppm;
	uint32_t corrupt_ppm;
	uint64_t delay_ns;
	uint64_t jitter_ns;
	uint64_t reorder_ns;
	uint64_t rate_bps;
	uint32_t mtu;
	uint32_t queue_limit;
	uint64_t seed;
	uint32_t ce_ppm;
	uint32_t ce_threshold;
	...;
};

struct ust_pipe_stats {
	uint64_t sent;
	uint64_t sent_bytes;
	uint64_t delivered;
	uint64_t delivered_bytes;
	uint64_t lost;
	uint64_t duplicated;
	uint64_t reordered;
	uint64_t corrupted;
	uint64_t dropped_mtu;
	uint64_t dropped_queue;
	uint64_t dropped_nombuf;
	uint64_t ce_marked;
	...;
};

enum ust_pipe_dir { UST_PIPE_A_TO_B = ..., UST_PIPE_B_TO_A = ..., ... };
enum ust_pipe_side { UST_PIPE_A = ..., UST_PIPE_B = ..., ... };

struct ust_pipe_config {
	uint32_t mtu;
	uint32_t ring_size;
	uint8_t mac[2][6];
	uint32_t caps;
	struct ust_clock clock;
	struct ust_fault_config fault[2];
	...;
};

struct ust_pipe;

void ust_pipe_config_init(struct ust_pipe_config *cfg);
int ust_pipe_create(const struct ust_pipe_config *cfg, struct ust_pipe **out);
void ust_pipe_destroy(struct ust_pipe *p);
const struct ust_driver_ops *ust_pipe_ops(void);
void *ust_pipe_end(struct ust_pipe *p, int side);
int ust_pipe_set_faults(struct ust_pipe *p, int dir, const struct ust_fault_config *fc);
void ust_pipe_get_stats(const struct ust_pipe *p, int dir, struct ust_pipe_stats *out);
