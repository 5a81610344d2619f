/*
 * uipc_mbuf_api.c - the public face of mbufs (ust_mbuf_* in ustack.h and
 * ustack_driver.h): what drivers, capture hooks and bindings may do with a
 * packet, on top of the internal m_* calls.  struct ust_mbuf is struct mbuf
 * under an opaque name.
 */
#include "kern/stack_var.h"

#define MB(um) ((struct mbuf *)(void *)(um))
#define CMB(um) ((const struct mbuf *)(const void *)(um))
#define UMB(m) ((struct ust_mbuf *)(void *)(m))

struct ust_mbuf *
ust_mbuf_alloc(struct ust_if *uifp, size_t len)
{
	struct ifnet *ifp = IFP_FROM_UST(uifp);
	struct mbuf *m;

	if (len > UINT32_MAX)
		return (NULL);
	m = m_get2(&ifp->if_stack->st_mbz, (uint32_t)len, MT_DATA, M_PKTHDR);
	if (m == NULL) {
		/* The driver drops the frame: an input drop for lack of
		 * buffers (if_data iqdrops), as the driver contract says. */
		ifp->if_data.iqdrops++;
		return (NULL);
	}
	m->m_len = (uint32_t)len;
	m->m_pkthdr.len = (uint32_t)len;
	m->m_pkthdr.rcvif = ifp;
	return (UMB(m));
}

int
ust_mbuf_trim(struct ust_mbuf *um, size_t len)
{
	struct mbuf *m = MB(um);

	if (m == NULL || !(m->m_flags & M_PKTHDR) || len > m->m_pkthdr.len)
		return (-1);
	if (len < m->m_pkthdr.len)
		m_adj(m, -(int32_t)(m->m_pkthdr.len - (uint32_t)len));
	return (0);
}

struct mbuf *
m_devget(struct ifnet *ifp, const void *data, size_t len)
{
	struct mbuf *m;
	uint32_t first = MJUM9BYTES > MCLBYTES ? MJUM9BYTES : MCLBYTES;

	if (len > UINT32_MAX)
		return (NULL);
	/* Small frames fit one buffer; a larger one starts with the largest
	 * cluster and m_append chains the rest. */
	if (len < first)
		first = (uint32_t)len;
	m = m_get2(&ifp->if_stack->st_mbz, first, MT_DATA, M_PKTHDR);
	if (m == NULL && first > MCLBYTES) {
		first = MCLBYTES;
		m = m_get2(&ifp->if_stack->st_mbz, first, MT_DATA, M_PKTHDR);
	}
	if (m == NULL)
		return (NULL);
	m->m_pkthdr.rcvif = ifp;
	if (m_append(m, (uint32_t)len, data) != 0) {
		m_freem(m);
		return (NULL);
	}
	return (m);
}

struct ust_mbuf *
ust_mbuf_from_buf(struct ust_if *uifp, const void *data, size_t len)
{
	struct ifnet *ifp = IFP_FROM_UST(uifp);
	struct mbuf *m = m_devget(ifp, data, len);

	/* Drivers copy received frames in with this: out of buffers, the
	 * frame is lost on input (if_data iqdrops). */
	if (m == NULL && len <= UINT32_MAX)
		ifp->if_data.iqdrops++;
	return (UMB(m));
}

void
ust_mbuf_free(struct ust_mbuf *m)
{
	m_freem(MB(m));
}

void *
ust_mbuf_data(struct ust_mbuf *m)
{
	return (MB(m)->m_data);
}

size_t
ust_mbuf_len(const struct ust_mbuf *m)
{
	return (CMB(m)->m_len);
}

struct ust_mbuf *
ust_mbuf_next(const struct ust_mbuf *m)
{
	return (UMB(CMB(m)->m_next));
}

size_t
ust_mbuf_pktlen(const struct ust_mbuf *m)
{
	const struct mbuf *mb = CMB(m);

	return ((mb->m_flags & M_PKTHDR) ? mb->m_pkthdr.len : m_length(mb, NULL));
}

int
ust_mbuf_copydata(const struct ust_mbuf *m, size_t off, size_t len, void *dst)
{
	if (off > UINT32_MAX || len > UINT32_MAX)
		return (-UST_EINVAL);
	return (m_copydata(CMB(m), (uint32_t)off, (uint32_t)len, dst) == 0 ? 0 : -UST_EINVAL);
}

uint32_t
ust_mbuf_csum_flags(const struct ust_mbuf *m)
{
	return (CMB(m)->m_pkthdr.csum_flags);
}

void
ust_mbuf_set_rss(struct ust_mbuf *m, uint32_t hash, int type)
{
	MB(m)->m_pkthdr.flowid = hash;
	MB(m)->m_pkthdr.rsstype = (uint8_t)type;
}

int
ust_mbuf_rss(const struct ust_mbuf *m, uint32_t *hash)
{
	*hash = CMB(m)->m_pkthdr.flowid;
	return (CMB(m)->m_pkthdr.rsstype);
}

void
ust_mbuf_set_csum_flags(struct ust_mbuf *m, uint32_t flags)
{
	MB(m)->m_pkthdr.csum_flags = (uint16_t)flags;
}

uint32_t
ust_mbuf_tso_segsz(const struct ust_mbuf *m)
{
	return (CMB(m)->m_pkthdr.tso_segsz);
}

struct ust_mbuf *
ust_mbuf_attach_ext(struct ust_if *uifp, void *buf, size_t size, size_t off, size_t len,
    ust_mbuf_ext_free_fn free_fn, void *arg)
{
	struct ifnet *ifp = IFP_FROM_UST(uifp);
	struct mbuf *m;

	if (buf == NULL || free_fn == NULL || size > UINT32_MAX || off > size || len > size - off)
		return (NULL);
	m = m_extattach(&ifp->if_stack->st_mbz, buf, (uint32_t)size, free_fn, arg);
	if (m == NULL) {
		/* As for a copy: the frame is lost on input for lack of
		 * mbufs, and the buffer stays the driver's. */
		ifp->if_data.iqdrops++;
		return (NULL);
	}
	m->m_data += off;
	m->m_len = (uint32_t)len;
	m->m_pkthdr.len = (uint32_t)len;
	m->m_pkthdr.rcvif = ifp;
	return (UMB(m));
}

struct ust_mbuf *
ust_mbuf_attach_ref(struct ust_if *uifp, const void *buf, size_t size, size_t off, size_t len,
    uint32_t *cnt, ust_mbuf_ext_free_fn free_fn, void *arg)
{
	struct ifnet *ifp = IFP_FROM_UST(uifp);
	struct mbuf *m;

	if (buf == NULL || cnt == NULL || free_fn == NULL || size > UINT32_MAX || off > size ||
	    len > size - off)
		return (NULL);
	m = m_gethdr(&ifp->if_stack->st_mbz, MT_DATA);
	if (m == NULL) {
		ifp->if_data.iqdrops++;
		return (NULL);
	}
	/* m_ext_free_t and ust_mbuf_ext_free_fn have the same shape:
	 * free_fn(arg, buf). */
	/* Read-only (M_RDONLY): the stack never writes through the pointer. */
	m_extadd(m, (uint8_t *)(uintptr_t)buf, (uint32_t)size, cnt, free_fn, arg,
	    (void *)(uintptr_t)buf, M_RDONLY);
	m->m_data += off;
	m->m_len = (uint32_t)len;
	m->m_pkthdr.len = (uint32_t)len;
	m->m_pkthdr.rcvif = ifp;
	return (UMB(m));
}

void
ust_mbuf_cat(struct ust_mbuf *m, struct ust_mbuf *n)
{
	m_cat(MB(m), MB(n));
}

struct ust_mbuf_keep *
ust_mbuf_keep(const struct ust_mbuf *m)
{
	struct mbuf_zones *mz = CMB(m)->m_zones;

	if (mbuf_zones_low(mz))
		return (NULL);
	mbuf_zones_hold(mz);
	return ((struct ust_mbuf_keep *)(void *)mz);
}

void
ust_mbuf_unkeep(struct ust_mbuf_keep *k)
{
	mbuf_zones_drop((struct mbuf_zones *)(void *)k);
}

int
ust_mbuf_sglist(const struct ust_mbuf *m, struct ust_iovec *v, int max)
{
	const struct mbuf *mb;
	int n = 0;

	/* Empty mbufs (m_adj leaves them in chains) are not segments. */
	for (mb = CMB(m); mb != NULL; mb = mb->m_next) {
		if (mb->m_len == 0)
			continue;
		if (n < max) {
			v[n].iov_base = mb->m_data;
			v[n].iov_len = mb->m_len;
		}
		n++;
	}
	return (n);
}

struct ust_mbuf *
ust_mbuf_dup(const struct ust_mbuf *m)
{
	return (UMB(m_dup(CMB(m))));
}

int
ust_mbuf_writable(const struct ust_mbuf *m)
{
	const struct mbuf *mb;

	for (mb = CMB(m); mb != NULL; mb = mb->m_next)
		if (mb->m_len > 0 && !M_WRITABLE(mb))
			return (0);
	return (1);
}
