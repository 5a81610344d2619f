/*
 * fault.c - the seeded fault injector of one link direction (see fault.h
 * for the model), the engine of the fault driver and of the pipe.  Call order, per frame offered by the driver wrapping it:
 *
 *	fault_decide() -> [FAULT_DELIVER] fault_ce_mark() -> fault_corrupt()
 *	                  -> the driver queues
 *	                  v.fv_copies copies due at v.fv_deliver_at
 */
#include "fault.h"

#include <string.h>

#define PPM 1000000u
/* A constant that makes the CE stream's seed differ from the main one. */
#define FAULT_CE_SEED_XOR 0x9e3779b97f4a7c15ull
#define ETHER_HDR 14
#define ETHER_VLAN_ENCAP 4
#define ETHERTYPE_IP 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_VLAN 0x8100
#define IPTOS_ECN_MASK 0x03
#define IPTOS_ECN_CE 0x03
#define NS_PER_SEC 1000000000ull

/*
 * Uniform in [0, bound) from one 32-bit draw (multiply-shift).  The bias is
 * below bound / 2^32, nothing at the bounds we use (a million, the bits of a
 * frame), and the draw count is always exactly one, which the determinism
 * promise of fault.h relies on.
 */
static uint32_t
fault_draw(struct ust_rng *rng, uint32_t bound)
{
	return ((uint32_t)(((uint64_t)ust_rng_u32(rng) * bound) >> 32));
}

/* a + b, held at UINT64_MAX: a delay past the end of time means never,
 * not a wrap to "due at once". */
static uint64_t
fault_add_sat(uint64_t a, uint64_t b)
{
	return (b > UINT64_MAX - a ? UINT64_MAX : a + b);
}

static void
fault_apply_cfg(struct fault *f, const struct ust_fault_config *cfg)
{
	f->f_cfg = *cfg;
	f->f_mtu = cfg->mtu != 0 ? cfg->mtu : f->f_link_mtu;
	ust_rng_seed(&f->f_rng, cfg->seed);
	ust_rng_seed(&f->f_ce_rng, cfg->seed ^ FAULT_CE_SEED_XOR);
	f->f_reorder_ns = cfg->reorder_ns != 0 ? cfg->reorder_ns : FAULT_REORDER_NS_DEFAULT;
	f->f_limit = f->f_capacity;
	if (cfg->queue_limit != 0 && cfg->queue_limit < f->f_capacity)
		f->f_limit = cfg->queue_limit;
	/* Draws only when a random fault can come of them (see
	 * "Determinism" in fault.h). */
	f->f_draws = cfg->loss_ppm != 0 || cfg->dup_ppm != 0 || cfg->reorder_ppm != 0 ||
	    cfg->corrupt_ppm != 0 || cfg->jitter_ns != 0;
	f->f_idle = !f->f_draws && cfg->ce_ppm == 0 && cfg->delay_ns == 0 && cfg->rate_bps == 0;
}

void
fault_init(struct fault *f, const struct ust_fault_config *cfg, uint32_t link_mtu,
    uint32_t capacity)
{
	memset(f, 0, sizeof(*f));
	f->f_capacity = capacity;
	f->f_link_mtu = link_mtu;
	fault_apply_cfg(f, cfg);
}

void
fault_reconfigure(struct fault *f, const struct ust_fault_config *cfg)
{
	fault_apply_cfg(f, cfg);
}

/* Serialisation time of len bytes at rate_bps, carrying the remainder. */
static uint64_t
fault_txtime(struct fault *f, size_t len)
{
	uint64_t num;

	num = (uint64_t)len * 8u * NS_PER_SEC + f->f_link_rem;
	f->f_link_rem = num % f->f_cfg.rate_bps;
	return (num / f->f_cfg.rate_bps);
}

void
fault_decide(struct fault *f, uint64_t now, size_t len, size_t payload_len, uint32_t inflight,
    struct fault_verdict *v)
{
	const struct ust_fault_config *c = &f->f_cfg;
	uint32_t r_loss, r_dup, r_reorder, r_corrupt, r_bit, r_ce;
	uint64_t r_jitter, t, start;
	uint32_t room;

	memset(v, 0, sizeof(*v));
	if (payload_len > f->f_mtu) {
		v->fv_action = FAULT_DROP_MTU;
		return;
	}

	f->f_frames++;
	if (f->f_idle) {
		/* No fault configured: the queue limit and the FIFO floor
		 * (a delay configured before may still hold frames), no draw. */
		if (inflight >= f->f_limit) {
			v->fv_action = FAULT_DROP_QUEUE;
			return;
		}
		v->fv_action = FAULT_DELIVER;
		v->fv_copies = 1;
		if (c->ce_threshold != 0 && inflight > c->ce_threshold)
			v->fv_ce = 1;
		t = now < f->f_last_deliver ? f->f_last_deliver : now;
		f->f_last_deliver = t;
		v->fv_deliver_at = t;
		return;
	}
	/* The fixed draw set: see "Determinism" in fault.h.  Without a
	 * random fault configured the draws could change nothing and are
	 * skipped (f_draws), as is the CE draw without ce_ppm. */
	r_loss = r_dup = r_reorder = r_corrupt = r_bit = r_ce = PPM;
	r_jitter = 0;
	if (f->f_draws) {
		r_loss = fault_draw(&f->f_rng, PPM);
		r_dup = fault_draw(&f->f_rng, PPM);
		r_reorder = fault_draw(&f->f_rng, PPM);
		r_corrupt = fault_draw(&f->f_rng, PPM);
		r_bit =
		    fault_draw(&f->f_rng, len <= UINT32_MAX / 8 ? (uint32_t)len * 8u : UINT32_MAX);
		r_jitter = ust_rng_u64(&f->f_rng);
	}
	if (c->ce_ppm != 0)
		r_ce = fault_draw(&f->f_ce_rng, PPM);

	if (r_loss < c->loss_ppm) {
		v->fv_action = FAULT_LOST;
		return;
	}
	room = inflight < f->f_limit ? f->f_limit - inflight : 0;
	if (room == 0) {
		v->fv_action = FAULT_DROP_QUEUE;
		return;
	}

	v->fv_action = FAULT_DELIVER;
	v->fv_copies = (r_dup < c->dup_ppm && room >= 2) ? 2 : 1;
	/* RFC 3168 5: a router marks instead of dropping; the threshold is
	 * the queue this frame joins (a step AQM in the style of RFC 7567). */
	if (r_ce < c->ce_ppm || (c->ce_threshold != 0 && inflight > c->ce_threshold))
		v->fv_ce = 1;
	if (r_corrupt < c->corrupt_ppm && len > 0) {
		v->fv_corrupt = 1;
		v->fv_corrupt_bit = r_bit;
	}

	if (c->rate_bps != 0) {
		start = now;
		if (f->f_link_free_at > now)
			start = f->f_link_free_at;
		else
			f->f_link_rem = 0; /* idle link: start afresh */
		f->f_link_free_at = fault_add_sat(start, fault_txtime(f, len));
		t = f->f_link_free_at;
	} else
		t = now;
	t = fault_add_sat(t, c->delay_ns);
	if (c->jitter_ns != 0)
		t = fault_add_sat(t,
		    c->jitter_ns == UINT64_MAX ? r_jitter : r_jitter % (c->jitter_ns + 1));
	/* A link is FIFO: jitter and a changed delay never reorder. */
	if (t < f->f_last_deliver)
		t = f->f_last_deliver;
	f->f_last_deliver = t;
	if (r_reorder < c->reorder_ppm) {
		v->fv_reordered = 1;
		t = fault_add_sat(t, f->f_reorder_ns);
	}
	v->fv_deliver_at = t;
}

int
fault_ce_mark(const struct fault_verdict *v, void *frame, size_t len)
{
	uint8_t *p = frame, *ip;
	size_t off = ETHER_HDR, hl;
	uint32_t et, sum;
	uint16_t oldw, neww;

	if (!v->fv_ce || len < ETHER_HDR + 20)
		return (0);
	et = (uint32_t)p[12] << 8 | p[13];
	if (et == ETHERTYPE_VLAN) {
		if (len < ETHER_HDR + ETHER_VLAN_ENCAP + 20)
			return (0);
		off += ETHER_VLAN_ENCAP;
		et = (uint32_t)p[16] << 8 | p[17];
	}
	ip = p + off;
	if (et == ETHERTYPE_IPV6) {
		/* The Traffic Class (RFC 8200 7) straddles bytes 0 and 1; its
		 * ECN field is bits 5-4 of byte 1.  No header checksum. */
		if ((ip[0] >> 4) != 6 || off + 40 > len)
			return (0);
		if (((ip[1] >> 4) & IPTOS_ECN_MASK) == 0 ||
		    ((ip[1] >> 4) & IPTOS_ECN_MASK) == IPTOS_ECN_CE)
			return (0);
		ip[1] |= (uint8_t)(IPTOS_ECN_CE << 4);
		return (1);
	}
	hl = (size_t)(ip[0] & 0x0f) * 4;
	if (et != ETHERTYPE_IP || (ip[0] >> 4) != 4 || hl < 20 || off + hl > len)
		return (0);
	/* RFC 3168 5: Not-ECT (00) and CE (11) stay as they are. */
	if ((ip[1] & IPTOS_ECN_MASK) == 0 || (ip[1] & IPTOS_ECN_MASK) == IPTOS_ECN_CE)
		return (0);
	oldw = (uint16_t)(ip[0] << 8 | ip[1]);
	ip[1] |= IPTOS_ECN_CE;
	neww = (uint16_t)(ip[0] << 8 | ip[1]);
	/* RFC 1624 3 eqn. 3: HC' = ~(~HC + ~m + m'). */
	sum = (uint16_t) ~((uint32_t)ip[10] << 8 | ip[11]);
	sum += (uint16_t)~oldw;
	sum += neww;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	sum = (uint16_t)~sum;
	ip[10] = (uint8_t)(sum >> 8);
	ip[11] = (uint8_t)sum;
	return (1);
}

size_t
fault_ce_span(const void *frame, size_t avail)
{
	const uint8_t *p = frame;
	size_t off = ETHER_HDR, hl;
	uint32_t et;

	if (avail < ETHER_HDR + 1)
		return (0);
	et = (uint32_t)p[12] << 8 | p[13];
	if (et == ETHERTYPE_VLAN) {
		off += ETHER_VLAN_ENCAP;
		if (avail < off + 1)
			return (0);
		et = (uint32_t)p[16] << 8 | p[17];
	}
	if (et == ETHERTYPE_IPV6)
		return (off + 40);
	hl = (size_t)(p[off] & 0x0f) * 4;
	return (off + (hl < 20 ? 20 : hl));
}

void
fault_corrupt(const struct fault_verdict *v, void *frame, size_t len)
{
	uint8_t *p = frame;

	if (!v->fv_corrupt || (size_t)(v->fv_corrupt_bit / 8) >= len)
		return;
	p[v->fv_corrupt_bit / 8] ^= (uint8_t)(1u << (v->fv_corrupt_bit % 8));
}

size_t
fault_payload_len(const struct ust_mbuf *m, size_t len, int tso)
{
	uint8_t b[2];
	size_t l2 = ETHER_HDR, payload, hdrs;

	if (len < ETHER_HDR)
		return (0);
	if (len >= ETHER_HDR + ETHER_VLAN_ENCAP && ust_mbuf_copydata(m, 12, 2, b) == 0 &&
	    (((uint32_t)b[0] << 8) | b[1]) == ETHERTYPE_VLAN)
		l2 += ETHER_VLAN_ENCAP;
	payload = len - l2;
	if (!tso)
		return (payload);
	/* Headers that cannot be read leave the whole payload: the MTU
	 * check then drops the frame. */
	if (ust_mbuf_copydata(m, ETHER_HDR, 1, b) != 0)
		return (payload);
	/* IPv6: 40 bytes, the TCP header right after (the contract). */
	hdrs = (b[0] >> 4) == 6 ? 40 : (size_t)(b[0] & 0x0f) * 4;
	if (ust_mbuf_copydata(m, ETHER_HDR + hdrs + 12, 1, b) != 0)
		return (payload);
	hdrs += (size_t)(b[0] >> 4) * 4;
	if (hdrs + ust_mbuf_tso_segsz(m) < payload)
		return (hdrs + ust_mbuf_tso_segsz(m));
	return (payload);
}

static inline int
hent_before(const struct fault_hent *a, const struct fault_hent *b)
{
	if (a->he_deliver_at != b->he_deliver_at)
		return (a->he_deliver_at < b->he_deliver_at);
	return (a->he_seq < b->he_seq);
}

void
fault_heap_push(struct fault_hent *h, uint32_t *n, const struct fault_hent *e)
{
	uint32_t i = (*n)++, parent;

	while (i > 0) {
		parent = (i - 1) / 2;
		if (!hent_before(e, &h[parent]))
			break;
		h[i] = h[parent];
		i = parent;
	}
	h[i] = *e;
}

void
fault_heap_pop(struct fault_hent *h, uint32_t *np, struct fault_hent *out)
{
	struct fault_hent last;
	uint32_t i = 0, n, child;

	*out = h[0];
	n = --(*np);
	if (n == 0)
		return;
	last = h[n];
	for (;;) {
		child = 2 * i + 1;
		if (child >= n)
			break;
		if (child + 1 < n && hent_before(&h[child + 1], &h[child]))
			child++;
		if (!hent_before(&h[child], &last))
			break;
		h[i] = h[child];
		i = child;
	}
	h[i] = last;
}
