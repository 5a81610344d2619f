/*
 * uipc_socket.c - sockets (FreeBSD kern/uipc_socket.c): creation and
 * teardown, the protocol switch, sending and receiving through the socket
 * buffers, socket options, listen queues, state changes and wakeups.
 *
 *   ust_socket -> socreate -> pffindproto -> pru_attach
 *   ust_sendto -> sosend -> [copy into mbufs] -> pru_send
 *   ust_recvfrom -> soreceive -> sbdroprecord / sbdrop -> [pru_rcvd]
 *   protocol -> sorwakeup / sowwakeup -> knote_notify (event queues), upcall
 *   ust_close -> soclose -> knote_sodetach, pru_detach -> sofree
 *
 * Every call here is non-blocking: where BSD sleeps we return EAGAIN.
 * Errors are positive UST_E* codes; uipc_syscalls.c negates them.
 */
#include <string.h>

#include "kern/mbuf.h"
#include "kern/socketvar.h"
#include "kern/stack_var.h"

static struct so_state *
so_st(const struct ust_stack *st)
{
	return (st->st_so);
}

/* ---------------------------------------------------------------------
 * Creation and teardown.
 * ------------------------------------------------------------------- */

static struct socket *
soalloc(struct ust_stack *st, const struct protosw *pr, int type)
{
	struct so_state *ss = so_st(st);
	struct socket *so;

	if (ss == NULL)
		return (NULL);
	so = ust_zone_alloc(ss->ss_zone);
	if (so == NULL)
		return (NULL);
	memset(so, 0, sizeof(*so));
	so->so_magic = SO_MAGIC;
	so->so_stack = st;
	so->so_type = (short)type;
	so->so_proto = pr;
	so->so_rcv.sb_lowat = 1;
	so->so_next = ss->ss_list;
	if (so->so_next != NULL)
		so->so_next->so_prevp = &so->so_next;
	so->so_prevp = &ss->ss_list;
	ss->ss_list = so;
	ss->ss_count++;
	return (so);
}

static void
sodealloc(struct socket *so)
{
	struct so_state *ss = so_st(so->so_stack);

	KASSERT(so->so_magic == SO_MAGIC, ("sodealloc: so %p is not a live socket", (void *)so));
	*so->so_prevp = so->so_next;
	if (so->so_next != NULL)
		so->so_next->so_prevp = so->so_prevp;
	ss->ss_count--;
	so->so_magic = 0;
	ust_zone_free(ss->ss_zone, so);
}

int
socreate(struct ust_stack *st, int family, int type, int proto, struct socket **out)
{
	const struct protosw *pr;
	struct so_state *ss = so_st(st);
	struct socket *so;
	int error;

	*out = NULL;
	/* A family without a domain in this stack (AF_INET6 until netinet6
	 * exists, or any other number): EAFNOSUPPORT, as FreeBSD. */
	if (pffinddomain(family) == NULL)
		return (UST_EAFNOSUPPORT);
	pr = pffindproto(family, type, proto);
	if (pr == NULL)
		return (proto == 0 && type != UST_SOCK_RAW ? UST_EPROTOTYPE : UST_EPROTONOSUPPORT);
	if (ss == NULL)
		return (UST_ENOBUFS);
	/* kern.ipc.maxsockets: the stack's socket table is full. */
	if ((int64_t)ss->ss_count >= V(st, ipc_maxsockets))
		return (UST_ENFILE);
	so = soalloc(st, pr, type);
	if (so == NULL)
		return (UST_ENOBUFS);
	so->so_family = (uint8_t)family;
	error = pr->pr_usrreqs->pru_attach(so, proto);
	if (error != 0) {
		sbrelease(&so->so_rcv);
		sbrelease(&so->so_snd);
		sodealloc(so);
		return (error);
	}
	*out = so;
	return (0);
}

/* Takes so off its listener's queue. */
static void
soqremque(struct socket *so)
{
	struct socket *head = so->so_head, **pp, *prev = NULL;
	int found = 0;

	if (head == NULL)
		return;
	pp = so->so_qstate == SQ_COMP ? &head->so_comp : &head->so_incomp;
	for (; *pp != NULL; prev = *pp, pp = &(*pp)->so_qnext) {
		if (*pp != so)
			continue;
		*pp = so->so_qnext;
		found = 1;
		KASSERT(so->so_qstate == SQ_COMP ? head->so_qlen > 0 : head->so_incqlen > 0,
		    ("soqremque: so %p on a queue of %p counted empty", (void *)so, (void *)head));
		if (so->so_qstate == SQ_COMP) {
			head->so_qlen--;
			if (head->so_comptail == so)
				head->so_comptail = prev;
		} else
			head->so_incqlen--;
		break;
	}
	KASSERT(found,
	    ("soqremque: so %p (qstate %d) not on the queue of %p", (void *)so, so->so_qstate,
	        (void *)head));
	so->so_qnext = NULL;
	so->so_head = NULL;
	so->so_qstate = 0;
}

void
sofree(struct socket *so)
{
	if (!(so->so_state & SS_NOFDREF) || (so->so_state & SS_PROTOREF))
		return;
	/* Nobody refers to it: the protocol let go of its PCB, a listener's
	 * queues were emptied by soclose(). */
	KASSERT(so->so_pcb == NULL && so->so_comp == NULL && so->so_incomp == NULL,
	    ("sofree: so %p still has a PCB (%p) or queued connections", (void *)so, so->so_pcb));
	soqremque(so);
	knote_sodetach(so);
	sbrelease(&so->so_rcv);
	so_zc_abort(so);
	sbrelease(&so->so_snd);
	sodealloc(so);
}

/* A connection nobody accepted: the protocol lets go, then it is freed.
 * SS_NOFDREF is clear while the protocol aborts, so that a protocol
 * freeing its PCB (and calling sofree) does not free the socket under us. */
static void
soabort(struct socket *so)
{
	soqremque(so);
	so->so_state &= ~SS_NOFDREF;
	if (so->so_pcb != NULL) {
		if (so->so_proto->pr_usrreqs->pru_abort != NULL)
			so->so_proto->pr_usrreqs->pru_abort(so);
		else
			so->so_proto->pr_usrreqs->pru_detach(so);
	}
	so->so_state |= SS_NOFDREF;
	so->so_state &= ~SS_PROTOREF;
	sofree(so);
}

int
soclose(struct socket *so)
{
	/* A listener's queued connections go with it. */
	while (so->so_comp != NULL)
		soabort(so->so_comp);
	while (so->so_incomp != NULL)
		soabort(so->so_incomp);
	knote_sodetach(so);
	so->so_upcall = NULL;
	so->so_upcallarg = NULL;
	/* The protocol decides first (TCP may keep the PCB: SS_PROTOREF);
	 * SS_NOFDREF only afterwards, see socketvar.h. */
	if (so->so_pcb != NULL)
		so->so_proto->pr_usrreqs->pru_detach(so);
	so->so_state |= SS_NOFDREF;
	sofree(so);
	return (0);
}

int
soreserve(struct socket *so, long sndcc, long rcvcc)
{
	int error;

	error = sbreserve(so, &so->so_snd, sndcc);
	if (error == 0)
		error = sbreserve(so, &so->so_rcv, rcvcc);
	if (error != 0)
		return (error);
	if (so->so_rcv.sb_lowat == 0)
		so->so_rcv.sb_lowat = 1;
	/* FreeBSD: the send low water mark is a cluster. */
	if (so->so_snd.sb_lowat == 0)
		so->so_snd.sb_lowat = MCLBYTES;
	if (so->so_snd.sb_lowat > so->so_snd.sb_hiwat)
		so->so_snd.sb_lowat = so->so_snd.sb_hiwat;
	return (0);
}

/* ---------------------------------------------------------------------
 * Binding, connecting, listening.
 * ------------------------------------------------------------------- */

int
sobind(struct socket *so, const struct sockaddr *nam)
{
	if (so->so_proto->pr_usrreqs->pru_bind == NULL)
		return (UST_EOPNOTSUPP);
	return (so->so_proto->pr_usrreqs->pru_bind(so, nam));
}

int
soconnect(struct socket *so, const struct sockaddr *nam)
{
	int error;

	if (so->so_options & SO_ACCEPTCONN)
		return (UST_EOPNOTSUPP);
	if (so->so_proto->pr_usrreqs->pru_connect == NULL)
		return (UST_EOPNOTSUPP);
	if (so->so_proto->pr_flags & PR_CONNREQUIRED) {
		/* A stream connects once (FreeBSD: EISCONN, or EALREADY while
		 * the handshake runs); a failed attempt leaves it unusable. */
		if (so->so_state & SS_ISCONNECTED)
			return (UST_EISCONN);
		if (so->so_state & SS_ISCONNECTING)
			return (UST_EALREADY);
		if (so->so_state & (SS_ISDISCONNECTING | SS_ISDISCONNECTED) || so->so_pcb == NULL)
			return (UST_EINVAL);
	}
	error = so->so_proto->pr_usrreqs->pru_connect(so, nam);
	if (error != 0)
		return (error);
	/* Every call is non-blocking: the handshake completes later (EV_OUT,
	 * then SO_ERROR tells how), unless it already did (loopback). */
	if ((so->so_proto->pr_flags & PR_CONNREQUIRED) && (so->so_state & SS_ISCONNECTING))
		return (UST_EINPROGRESS);
	if ((so->so_proto->pr_flags & PR_CONNREQUIRED) && !(so->so_state & SS_ISCONNECTED) &&
	    so->so_error != 0) {
		error = so->so_error;
		so->so_error = 0;
		return (error);
	}
	return (0);
}

int
solisten(struct socket *so, int backlog)
{
	struct ust_stack *st = so->so_stack;
	int error;

	if (so->so_proto->pr_usrreqs->pru_listen == NULL)
		return (UST_EOPNOTSUPP);
	if (so->so_state & (SS_ISCONNECTED | SS_ISCONNECTING | SS_ISDISCONNECTING))
		return (UST_EINVAL);
	error = so->so_proto->pr_usrreqs->pru_listen(so, backlog);
	if (error != 0)
		return (error);
	/* kern.ipc.somaxconn bounds the backlog; negative asks for it. */
	if (backlog < 0 || (int64_t)backlog > V(st, ipc_somaxconn))
		backlog = (int)V(st, ipc_somaxconn);
	so->so_qlimit = (uint32_t)backlog;
	so->so_options |= SO_ACCEPTCONN;
	return (0);
}

struct socket *
sonewconn(struct socket *head)
{
	struct ust_stack *st = head->so_stack;
	struct so_state *ss = so_st(st);
	struct socket *so;

	/* FreeBSD: up to 3/2 of the backlog in both queues together. */
	if (ss == NULL || head->so_qlen + head->so_incqlen > 3 * head->so_qlimit / 2)
		return (NULL);
	if ((int64_t)ss->ss_count >= V(st, ipc_maxsockets))
		return (NULL);
	so = soalloc(st, head->so_proto, head->so_type);
	if (so == NULL)
		return (NULL);
	so->so_family = head->so_family;
	so->so_options = head->so_options & ~SO_ACCEPTCONN;
	so->so_linger = head->so_linger;
	so->so_state = SS_NOFDREF;
	so->so_rcv.sb_lowat = head->so_rcv.sb_lowat;
	so->so_snd.sb_lowat = head->so_snd.sb_lowat;
	/* Auto-sizing as on the listener (off where it set SO_*BUF). */
	so->so_rcv.sb_flags = head->so_rcv.sb_flags & SB_AUTOSIZE;
	so->so_snd.sb_flags = head->so_snd.sb_flags & SB_AUTOSIZE;
	if (soreserve(so, head->so_snd.sb_hiwat, head->so_rcv.sb_hiwat) != 0) {
		sodealloc(so);
		return (NULL);
	}
	so->so_head = head;
	so->so_qstate = SQ_INCOMP;
	so->so_qnext = head->so_incomp;
	head->so_incomp = so;
	head->so_incqlen++;
	return (so);
}

int
soaccept(struct socket *head, struct socket **out, struct sockaddr *nam)
{
	struct socket *so;
	int error;

	*out = NULL;
	if (!(head->so_options & SO_ACCEPTCONN))
		return (UST_EINVAL);
	if (head->so_comp == NULL) {
		if (head->so_error != 0) {
			error = head->so_error;
			head->so_error = 0;
			return (error);
		}
		if (head->so_rcv.sb_state & SBS_CANTRCVMORE)
			return (UST_ECONNABORTED);
		return (UST_EAGAIN);
	}
	so = head->so_comp;
	soqremque(so);
	so->so_state &= ~SS_NOFDREF;
	error = 0;
	if (so->so_proto->pr_usrreqs->pru_accept != NULL)
		error = so->so_proto->pr_usrreqs->pru_accept(so, nam);
	if (error != 0) {
		soclose(so);
		return (error);
	}
	*out = so;
	return (0);
}

/* ---------------------------------------------------------------------
 * State changes.
 * ------------------------------------------------------------------- */

void
soisconnecting(struct socket *so)
{
	so->so_state &= ~(SS_ISCONNECTED | SS_ISDISCONNECTING);
	so->so_state |= SS_ISCONNECTING;
}

void
soisconnected(struct socket *so)
{
	struct socket *head = so->so_head;

	so->so_state &= ~(SS_ISCONNECTING | SS_ISDISCONNECTING | SS_ISDISCONNECTED);
	so->so_state |= SS_ISCONNECTED;
	if (head != NULL && so->so_qstate == SQ_INCOMP) {
		/* Move to the completed queue; the listener becomes readable. */
		soqremque(so);
		so->so_head = head;
		so->so_qstate = SQ_COMP;
		so->so_qnext = NULL;
		if (head->so_comptail != NULL)
			head->so_comptail->so_qnext = so;
		else
			head->so_comp = so;
		head->so_comptail = so;
		head->so_qlen++;
		sorwakeup(head);
		return;
	}
	sowakeup(so);
}

void
soisdisconnecting(struct socket *so)
{
	so->so_state &= ~SS_ISCONNECTING;
	so->so_state |= SS_ISDISCONNECTING;
	so->so_rcv.sb_state |= SBS_CANTRCVMORE;
	so->so_snd.sb_state |= SBS_CANTSENDMORE;
	sowakeup(so);
}

void
soisdisconnected(struct socket *so)
{
	so->so_state &= ~(SS_ISCONNECTING | SS_ISCONNECTED | SS_ISDISCONNECTING);
	so->so_state |= SS_ISDISCONNECTED;
	so->so_rcv.sb_state |= SBS_CANTRCVMORE;
	so->so_snd.sb_state |= SBS_CANTSENDMORE;
	so_zc_abort(so); /* lent sends not acknowledged complete with an error */
	sbflush(&so->so_snd);
	sowakeup(so);
}

void
socantsendmore(struct socket *so)
{
	so->so_snd.sb_state |= SBS_CANTSENDMORE;
	sowwakeup(so);
}

void
socantrcvmore(struct socket *so)
{
	so->so_rcv.sb_state |= SBS_CANTRCVMORE;
	sorwakeup(so);
}

void
soseterror(struct socket *so, int error)
{
	so->so_error = error;
	sowakeup(so);
}

int
soshutdown(struct socket *so, int how)
{
	int error = 0;

	if (how != UST_SHUT_RD && how != UST_SHUT_WR && how != UST_SHUT_RDWR)
		return (UST_EINVAL);
	/* FreeBSD: shutdown needs a connection (a listener excepted). */
	if (!(so->so_state & (SS_ISCONNECTED | SS_ISCONNECTING | SS_ISDISCONNECTING)) &&
	    !(so->so_options & SO_ACCEPTCONN))
		return (UST_ENOTCONN);
	if (how != UST_SHUT_WR) {
		/* What was queued is discarded (FreeBSD sorflush). */
		sbflush(&so->so_rcv);
		socantrcvmore(so);
	}
	if (how != UST_SHUT_RD) {
		socantsendmore(so);
		if (so->so_proto->pr_usrreqs->pru_shutdown != NULL)
			error = so->so_proto->pr_usrreqs->pru_shutdown(so);
	}
	return (error);
}

/* ---------------------------------------------------------------------
 * Readiness and wakeups.
 * ------------------------------------------------------------------- */

int
soreadable(const struct socket *so)
{
	const struct sockbuf *sb = &so->so_rcv;

	if (so->so_options & SO_ACCEPTCONN)
		return (so->so_qlen > 0 || (sb->sb_state & SBS_CANTRCVMORE));
	if (sb->sb_state & SBS_CANTRCVMORE)
		return (1);
	if (sb->sb_mb == NULL)
		return (0);
	/* A datagram, even an empty one, is readable; a stream needs lowat. */
	if (so->so_proto->pr_flags & PR_ATOMIC)
		return (1);
	return (sb->sb_cc - sb->sb_ctl >= sb->sb_lowat);
}

int
sowriteable(const struct socket *so)
{
	const struct sockbuf *sb = &so->so_snd;

	if (so->so_options & SO_ACCEPTCONN)
		return (0);
	if (sb->sb_state & SBS_CANTSENDMORE)
		return (1); /* a send would not block: it fails with EPIPE */
	return (sbspace(sb) >= (long)sb->sb_lowat &&
	    ((so->so_state & SS_ISCONNECTED) || !(so->so_proto->pr_flags & PR_CONNREQUIRED)));
}

uint32_t
so_events(const struct socket *so)
{
	uint32_t ev = 0;

	if (soreadable(so))
		ev |= UST_EV_IN;
	if (sowriteable(so))
		ev |= UST_EV_OUT;
	if (so->so_error != 0)
		ev |= UST_EV_ERR;
	if (so->so_rcv.sb_state & SBS_CANTRCVMORE) {
		ev |= UST_EV_RDHUP;
		if (so->so_snd.sb_state & SBS_CANTSENDMORE)
			ev |= UST_EV_HUP;
	}
	return (ev);
}

void
sowakeup(struct socket *so)
{
	knote_notify(so);
	if (so->so_upcall != NULL && !(so->so_state & SS_INUPCALL)) {
		/* The upcall may send and receive; no recursion into it. */
		so->so_state |= SS_INUPCALL;
		so->so_upcall(so->so_upcallarg, SO_TO_UST(so), so_events(so));
		so->so_state &= ~SS_INUPCALL;
	}
}

void
sorwakeup(struct socket *so)
{
	sowakeup(so);
}

void
sowwakeup(struct socket *so)
{
	sowakeup(so);
}

/* ---------------------------------------------------------------------
 * Sending and receiving.
 * ------------------------------------------------------------------- */

/* A packet holding len bytes gathered from iov[0..iovcnt-1] (the first
 * len bytes of them), with UST_MAX_HDR of leading space for the headers
 * below; NULL when out of mbufs. */
static struct mbuf *
sotombufv(struct ust_stack *st, const struct ust_iovec *iov, int iovcnt, size_t len)
{
	struct mbuf *m;
	size_t c;
	int i;

	if (len + UST_MAX_HDR <= MHLEN)
		m = m_gethdr(&st->st_mbz, MT_DATA);
	else
		m = m_getcl(&st->st_mbz, MT_DATA, M_PKTHDR);
	if (m == NULL)
		return (NULL);
	m_reserve(m, UST_MAX_HDR);
	m->m_len = 0;
	m->m_pkthdr.len = 0;
	for (i = 0; i < iovcnt && len > 0; i++) {
		c = iov[i].iov_len < len ? iov[i].iov_len : len;
		if (c > 0 && m_append(m, (uint32_t)c, iov[i].iov_base) != 0) {
			m_freem(m);
			return (NULL);
		}
		len -= c;
	}
	return (m);
}

/*
 * What every send checks before it builds mbufs: the socket can send
 * (connected, or given an address), and how much of len it takes now
 * (*len clipped to the send buffer's space for a stream; a datagram goes
 * whole or not at all).  0 or the error to return.
 */
static int
sosend_check(struct socket *so, const struct sockaddr *to, size_t *len)
{
	const struct protosw *pr = so->so_proto;
	long space;
	int error;

	if (so->so_snd.sb_state & SBS_CANTSENDMORE)
		return (UST_EPIPE);
	/* A pending error (an ICMP error on a connected socket) is reported
	 * once, by the next send or receive. */
	if (so->so_error != 0) {
		error = so->so_error;
		so->so_error = 0;
		return (error);
	}
	if (so->so_options & SO_ACCEPTCONN)
		return (UST_ENOTCONN);
	if (!(so->so_state & SS_ISCONNECTED)) {
		/* A handshake in progress: wait for it (EV_OUT) like a full
		 * buffer, as Linux does; FreeBSD says ENOTCONN here. */
		if ((pr->pr_flags & PR_CONNREQUIRED) && (so->so_state & SS_ISCONNECTING))
			return (UST_EAGAIN);
		if ((pr->pr_flags & PR_CONNREQUIRED) &&
		    !(to != NULL && (pr->pr_flags & PR_IMPLOPCL)))
			return (UST_ENOTCONN);
		if (to == NULL)
			return (UST_EDESTADDRREQ);
	} else if (to != NULL)
		return (UST_EISCONN);
	if (*len > UINT32_MAX)
		return (UST_EMSGSIZE);
	space = sbspace(&so->so_snd);
	if (pr->pr_flags & PR_ATOMIC) {
		/* A datagram larger than the send buffer is never sent. */
		if (*len > so->so_snd.sb_hiwat)
			return (UST_EMSGSIZE);
		if ((long)*len > space)
			return (UST_EAGAIN);
	} else {
		if (space <= 0)
			return (UST_EAGAIN);
		if ((long)*len > space)
			*len = (size_t)space;
	}
	return (0);
}

/* The body of sosend and sosendv: total is the sum of the iov lengths. */
static int
sosendv_to(struct socket *so, const struct ust_iovec *iov, int iovcnt, size_t total, int flags,
    const struct sockaddr *to, size_t *sent)
{
	struct mbuf *m;
	size_t len = total;
	int error;

	*sent = 0;
	if ((error = sosend_check(so, to, &len)) != 0)
		return (error);
	m = sotombufv(so->so_stack, iov, iovcnt, len);
	if (m == NULL)
		return (UST_ENOBUFS);
	error = so->so_proto->pr_usrreqs->pru_send(so, flags, m, to);
	if (error == 0)
		*sent = len;
	return (error);
}

int
sosend(struct socket *so, const void *buf, size_t len, int flags, const struct sockaddr *to,
    size_t *sent)
{
	struct ust_iovec iov = { buf, len };

	*sent = 0;
	return (sosendv_to(so, &iov, 1, len, flags, to, sent));
}

int
sosendv(struct socket *so, const struct ust_iovec *iov, int iovcnt, int flags, size_t *sent)
{
	size_t total = 0;
	int i;

	*sent = 0;
	for (i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > (size_t)UINT32_MAX - total)
			return (UST_EMSGSIZE);
		total += iov[i].iov_len;
	}
	return (sosendv_to(so, iov, iovcnt, total, flags, NULL, sent));
}

/* ---------------------------------------------------------------------
 * Zero-copy sends (docs/zerocopy.md).
 *
 * Each accepted ust_send_zc is one struct zc_ref from the stack's "zc"
 * zone and one M_RDONLY EXT_EXTREF mbuf over the application's bytes
 * (m_extadd, ext_size n so that sb_mbcnt counts the bytes lent and no
 * more).  Every mbuf that shares them (so_snd, each segment m_copym cuts
 * for transmission or retransmission, a driver's gather list) holds one
 * reference in zr_cnt; the last free calls done.  Nothing writes lent
 * bytes: M_RDONLY makes M_TRAILINGSPACE and M_LEADINGSPACE 0, so neither
 * sbappendstream's compression nor a header prepend touches them, and
 * m_copyback copies first (M_WRITABLE).
 * ------------------------------------------------------------------- */

struct zc_ref {
	uint32_t zr_cnt; /* mbufs referring to the bytes (+1 inside sosend_zc) */
	int zr_status;   /* what done will be told: 0, UST_ZC_COPIED, -UST_E* */
	int zr_insend;   /* sosend_zc is appending it */
	ust_zc_done_fn zr_done;
	void *zr_arg;
	const void *zr_buf;
	size_t zr_len;
	struct ust_stack *zr_stack;
	struct zc_ref *zr_next, **zr_prevp; /* ss_zclist */
};

/* z is no longer referenced: off the list of loans, onto the queue of
 * completions.  done is not called from here: this runs inside m_free,
 * wherever the last mbuf goes (sbdrop walking so_snd in tcp_input, a
 * driver's transmit completion), where a callback that sends would
 * change what the caller is walking.  so_zc_drain calls it at the end of
 * ust_stack_poll and of every socket call. */
static void
zc_finish(struct zc_ref *z)
{
	struct so_state *ss = so_st(z->zr_stack);

	*z->zr_prevp = z->zr_next;
	if (z->zr_next != NULL)
		z->zr_next->zr_prevp = z->zr_prevp;
	z->zr_next = NULL;
	*ss->ss_zcdonetail = z;
	ss->ss_zcdonetail = &z->zr_next;
}

void
so_zc_drain(struct ust_stack *st)
{
	struct so_state *ss = so_st(st);
	struct zc_ref *z;
	ust_zc_done_fn done;
	void *arg;
	const void *buf;
	size_t len;
	int status;

	/* One at a time from the head: a callback that sends (and so drains
	 * again, nested) takes the next ones itself. */
	while (ss != NULL && (z = ss->ss_zcdone) != NULL) {
		ss->ss_zcdone = z->zr_next;
		if (ss->ss_zcdone == NULL)
			ss->ss_zcdonetail = &ss->ss_zcdone;
		done = z->zr_done;
		arg = z->zr_arg;
		buf = z->zr_buf;
		len = z->zr_len;
		status = z->zr_status;
		ss->ss_zccount--;
		ust_zone_free(ss->ss_zczone, z);
		if (done != NULL)
			done(arg, buf, len, status);
	}
}

/* ext_free of a lent buffer: the last mbuf referring to it went. */
static void
zc_free(void *arg1, void *arg2)
{
	(void)arg2;
	zc_finish(arg1);
}

/* The zc_ref behind m's storage, or NULL when m holds no lent send. */
static struct zc_ref *
m_zcref(const struct mbuf *m)
{
	if ((m->m_flags & M_EXT) && m->m_ext.ext_type == EXT_EXTREF && m->m_ext.ext_free == zc_free)
		return (m->m_ext.ext_arg1);
	return (NULL);
}

void
so_zc_copied(const struct mbuf *m)
{
	struct zc_ref *z = m_zcref(m);

	if (z != NULL && z->zr_insend && z->zr_status == 0)
		z->zr_status = UST_ZC_COPIED;
}

void
so_zc_abort(struct socket *so)
{
	struct so_state *ss = so_st(so->so_stack);
	struct zc_ref *z;
	struct mbuf *m;
	int status;

	if (ss == NULL || ss->ss_zccount == 0)
		return;
	status = so->so_error == UST_ECONNRESET ? -UST_ECONNRESET : -UST_ECONNABORTED;
	for (m = so->so_snd.sb_mb; m != NULL; m = m->m_next)
		if ((z = m_zcref(m)) != NULL && z->zr_status == 0)
			z->zr_status = status;
}

int
sosend_zc(struct socket *so, const void *buf, size_t len, int flags, ust_zc_done_fn done, void *arg,
    size_t *sent)
{
	struct ust_stack *st = so->so_stack;
	struct so_state *ss = so_st(st);
	struct zc_ref *z;
	struct mbuf *m;
	int error;

	*sent = 0;
	if ((error = sosend_check(so, NULL, &len)) != 0)
		return (error);
	if (len == 0 || (int64_t)len < V(st, ipc_zc_min) || ss == NULL || ss->ss_zczone == NULL) {
		/* Small: a copy is cheaper than the bookkeeping of a loan. */
		struct ust_iovec iov = { buf, len };

		m = sotombufv(st, &iov, 1, len);
		if (m == NULL)
			return (UST_ENOBUFS);
		error = so->so_proto->pr_usrreqs->pru_send(so, flags, m, NULL);
		if (error != 0)
			return (error);
		*sent = len;
		done(arg, buf, len, UST_ZC_COPIED);
		return (0);
	}
	z = ust_zone_alloc(ss->ss_zczone);
	if (z == NULL)
		return (UST_ENOBUFS);
	m = m_gethdr(&st->st_mbz, MT_DATA);
	if (m == NULL) {
		ust_zone_free(ss->ss_zczone, z);
		return (UST_ENOBUFS);
	}
	memset(z, 0, sizeof(*z));
	z->zr_cnt = 1; /* ours, until pru_send has returned */
	z->zr_insend = 1;
	z->zr_done = done;
	z->zr_arg = arg;
	z->zr_buf = buf;
	z->zr_len = len;
	z->zr_stack = st;
	z->zr_next = ss->ss_zclist;
	if (z->zr_next != NULL)
		z->zr_next->zr_prevp = &z->zr_next;
	z->zr_prevp = &ss->ss_zclist;
	ss->ss_zclist = z;
	ss->ss_zccount++;
	m_extadd(m, (uint8_t *)(uintptr_t)buf, (uint32_t)len, &z->zr_cnt, zc_free, z, NULL,
	    M_RDONLY);
	m->m_len = (uint32_t)len;
	m->m_pkthdr.len = (uint32_t)len;
	error = so->so_proto->pr_usrreqs->pru_send(so, flags, m, NULL);
	z->zr_insend = 0;
	if (error != 0 && z->zr_cnt == 1) {
		/* Nothing kept the bytes: refused, and done never runs. */
		z->zr_done = NULL;
		zc_finish(z);
		so_zc_drain(st);
		return (error);
	}
	/* Queued (TCP may say an error of its first transmission after
	 * the bytes went into so_snd: they are sent later all the same). */
	*sent = len;
	if (--z->zr_cnt == 0)
		zc_finish(z); /* done when the call returns (so_zc_drain) */
	return (0);
}

/* Nothing queued in so_rcv: what a receive says (a pending error first,
 * then EOF, then EAGAIN or ENOTCONN).  peek leaves the error. */
static int
soreceive_empty(struct socket *so, int peek)
{
	int error;

	if (so->so_error != 0) {
		error = so->so_error;
		if (!peek)
			so->so_error = 0;
		return (error);
	}
	if (so->so_rcv.sb_state & SBS_CANTRCVMORE)
		return (0);
	if ((so->so_proto->pr_flags & PR_CONNREQUIRED) &&
	    !(so->so_state & (SS_ISCONNECTED | SS_ISCONNECTING)))
		return (UST_ENOTCONN);
	return (UST_EAGAIN);
}

/* The next datagram record: copy what fits, discard the rest (recvfrom). */
static int
soreceive_dgram(struct socket *so, void *buf, size_t len, int flags, struct sockaddr *from,
    size_t *got)
{
	struct sockbuf *sb = &so->so_rcv;
	struct mbuf *rec = sb->sb_mb, *data = rec;
	uint32_t dlen, c;

	if (rec->m_type == MT_SONAME) {
		/* sbappendaddr stored sa_len bytes; from is a sockaddr_storage. */
		if (from != NULL && rec->m_len <= sizeof(struct sockaddr_storage))
			memcpy(from, rec->m_data, rec->m_len);
		data = rec->m_next;
	}
	dlen = data != NULL ? m_length(data, NULL) : 0;
	c = len < dlen ? (uint32_t)len : dlen;
	if (c > 0)
		(void)m_copydata(data, 0, c, buf);
	if (!(flags & UST_MSG_PEEK))
		sbdroprecord(sb);
	*got = c;
	return (0);
}

static int
soreceive_stream(struct socket *so, void *buf, size_t len, int flags, struct sockaddr *from,
    size_t *got)
{
	struct sockbuf *sb = &so->so_rcv;
	uint32_t avail = sb->sb_cc - sb->sb_ctl, c;

	c = len < avail ? (uint32_t)len : avail;
	if (c > 0)
		(void)m_copydata(sb->sb_mb, 0, c, buf);
	if (from != NULL && so->so_proto->pr_usrreqs->pru_peeraddr != NULL)
		(void)so->so_proto->pr_usrreqs->pru_peeraddr(so, from);
	if (!(flags & UST_MSG_PEEK)) {
		sbdrop(sb, c);
		if ((so->so_proto->pr_flags & PR_WANTRCVD) &&
		    so->so_proto->pr_usrreqs->pru_rcvd != NULL)
			(void)so->so_proto->pr_usrreqs->pru_rcvd(so, flags);
	}
	*got = c;
	return (0);
}

int
soreceive(struct socket *so, void *buf, size_t len, int flags, struct sockaddr *from, size_t *got)
{
	struct sockbuf *sb = &so->so_rcv;

	*got = 0;
	if (flags & UST_MSG_OOB) {
		if (so->so_proto->pr_usrreqs->pru_rcvoob == NULL)
			return (UST_EOPNOTSUPP);
		return (so->so_proto->pr_usrreqs->pru_rcvoob(so, buf, len, flags, got));
	}
	/* Nothing queued: a pending error first, then EOF, else wait. */
	if (sb->sb_mb == NULL)
		return (soreceive_empty(so, flags & UST_MSG_PEEK));
	if (so->so_proto->pr_flags & PR_ATOMIC)
		return (soreceive_dgram(so, buf, len, flags, from, got));
	return (soreceive_stream(so, buf, len, flags, from, got));
}

int
soreceive_mbuf(struct socket *so, struct mbuf **mp, size_t len, int flags, struct sockaddr *from,
    size_t *got)
{
	struct sockbuf *sb = &so->so_rcv;
	struct mbuf *rec, *data;
	uint32_t room, avail, c;

	*mp = NULL;
	*got = 0;
	if (flags & (UST_MSG_PEEK | UST_MSG_OOB))
		return (UST_EINVAL);
	if (sb->sb_mb == NULL)
		return (soreceive_empty(so, 0));
	/* The chains the application holds count against the buffer: a
	 * stream gets at most what is left of sb_hiwat, a datagram goes
	 * when it fits or when nothing is held (so that one larger than
	 * the buffer is not stuck). */
	room = sb->sb_hiwat > sb->sb_held ? sb->sb_hiwat - sb->sb_held : 0;
	if (so->so_proto->pr_flags & PR_ATOMIC) {
		rec = sb->sb_mb;
		data = rec->m_type == MT_SONAME ? rec->m_next : rec;
		avail = data != NULL ? m_length(data, NULL) : 0;
		if (sb->sb_held > 0 && avail > room)
			return (UST_EAGAIN);
		rec = sbcutrecord(sb);
		if (rec->m_type == MT_SONAME) {
			if (from != NULL && rec->m_len <= sizeof(struct sockaddr_storage))
				memcpy(from, rec->m_data, rec->m_len);
			data = m_free(rec);
		} else
			data = rec;
		c = len < avail ? (uint32_t)len : avail;
		if (c < avail)
			m_adj(data, -(int32_t)(avail - c)); /* the rest is discarded */
		if (c == 0) {
			m_freem(data);
			data = NULL;
		}
	} else {
		if (room == 0)
			return (UST_EAGAIN);
		avail = sb->sb_cc - sb->sb_ctl;
		c = len < avail ? (uint32_t)len : avail;
		if (c > room)
			c = room;
		data = c > 0 ? sbcut(sb, c) : NULL;
		c = data != NULL ? m_length(data, NULL) : 0;
		if (c == 0 && avail > 0 && len > 0) {
			m_freem(data);
			return (UST_ENOBUFS); /* no mbuf for the cut */
		}
		if (from != NULL && so->so_proto->pr_usrreqs->pru_peeraddr != NULL)
			(void)so->so_proto->pr_usrreqs->pru_peeraddr(so, from);
		/* The window opens as after ust_recv (RFC 9293 3.8.6.2.2: the
		 * receiver's window update; tcp_output decides). */
		if ((so->so_proto->pr_flags & PR_WANTRCVD) &&
		    so->so_proto->pr_usrreqs->pru_rcvd != NULL)
			(void)so->so_proto->pr_usrreqs->pru_rcvd(so, flags);
	}
	sb->sb_held += c;
	*mp = data;
	*got = c;
	return (0);
}

void
so_mbuf_release(struct socket *so, struct mbuf *m)
{
	uint32_t len;

	if (m == NULL)
		return;
	len = m_length(m, NULL);
	if (so != NULL)
		so->so_rcv.sb_held -= len < so->so_rcv.sb_held ? len : so->so_rcv.sb_held;
	m_freem(m);
}

/* ---------------------------------------------------------------------
 * Socket options (level SOL_SOCKET; others go to the protocol).
 * ------------------------------------------------------------------- */

static int
sooptin_int(const struct sockopt *sopt, int *v)
{
	if (sopt->sopt_valsize < sizeof(int))
		return (UST_EINVAL);
	memcpy(v, sopt->sopt_val, sizeof(int));
	return (0);
}

static int
sooptout(struct sockopt *sopt, const void *v, size_t len)
{
	if (sopt->sopt_valsize < len)
		return (UST_EINVAL);
	memcpy(sopt->sopt_val, v, len);
	sopt->sopt_valsize = len;
	return (0);
}

static int sosetopt_sol(struct socket *so, struct sockopt *sopt);

static int
sosetopt_bufsize(struct socket *so, int name, int v)
{
	struct sockbuf *sb =
	    name == UST_SO_SNDBUF || name == UST_SO_SNDLOWAT ? &so->so_snd : &so->so_rcv;
	int error;

	switch (name) {
	case UST_SO_SNDBUF:
	case UST_SO_RCVBUF:
		error = sbreserve(so, sb, v);
		if (error == 0) {
			/* The application chose a size: auto-sizing keeps
			 * its hands off this buffer from now on (FreeBSD). */
			sb->sb_flags &= ~SB_AUTOSIZE;
			sowakeup(so);
		}
		return (error);
	default:
		/* Low water marks: never above the limit (FreeBSD). */
		if (v < 0)
			return (UST_EINVAL);
		sb->sb_lowat = (uint32_t)v > sb->sb_hiwat ? sb->sb_hiwat : (uint32_t)v;
		if (sb == &so->so_rcv && sb->sb_lowat == 0)
			sb->sb_lowat = 1;
		sowakeup(so);
		return (0);
	}
}

/* The protocol's options: the handler of the domain whose switch holds
 * so_proto (conf/domains.h), called directly rather than through a
 * pr_usrreqs entry, so that --gc-sections drops every option handler
 * from a program that never calls ust_setsockopt()/ust_getsockopt(). */
#define DOMAIN_CTLOUTPUT(d, fn)       \
	extern const struct domain d; \
	int fn(struct socket *so, struct sockopt *sopt);
#include "conf/domains.h"
#undef DOMAIN_CTLOUTPUT

static int
soctloutput(struct socket *so, struct sockopt *sopt)
{
#define DOMAIN_CTLOUTPUT(d, fn)                                                             \
	if (so->so_proto >= d.dom_protosw && so->so_proto < d.dom_protosw + d.dom_nprotosw) \
		return (fn(so, sopt));
#include "conf/domains.h"
#undef DOMAIN_CTLOUTPUT
	return (UST_ENOPROTOOPT);
}

int
sosetopt(struct socket *so, struct sockopt *sopt)
{
	int error;

	if (sopt->sopt_level != UST_SOL_SOCKET)
		return (soctloutput(so, sopt));
	error = sosetopt_sol(so, sopt);
	/* FreeBSD: the protocol hears of socket-level changes too (TCP
	 * starts or stops its keepalive timer); its answer does not count. */
	if (error == 0 && so->so_type == UST_SOCK_STREAM)
		(void)soctloutput(so, sopt);
	return (error);
}

static int
sosetopt_sol(struct socket *so, struct sockopt *sopt)
{
	struct ust_linger l;
	int v = 0, error;

	switch (sopt->sopt_name) {
	case UST_SO_LINGER:
		if (sopt->sopt_valsize < sizeof(l))
			return (UST_EINVAL);
		memcpy(&l, sopt->sopt_val, sizeof(l));
		if (l.l_linger < 0)
			return (UST_EINVAL);
		so->so_linger = l.l_linger;
		if (l.l_onoff)
			so->so_options |= SO_LINGER;
		else
			so->so_options &= ~(uint32_t)SO_LINGER;
		return (0);
	case UST_SO_REUSEADDR:
	case UST_SO_REUSEPORT:
	case UST_SO_REUSEPORT_LB:
	case UST_SO_BROADCAST:
	case UST_SO_KEEPALIVE:
	case UST_SO_OOBINLINE:
		if ((error = sooptin_int(sopt, &v)) != 0)
			return (error);
		if (v)
			so->so_options |= (uint32_t)sopt->sopt_name;
		else
			so->so_options &= ~(uint32_t)sopt->sopt_name;
		return (0);
	case UST_SO_SNDBUF:
	case UST_SO_RCVBUF:
	case UST_SO_SNDLOWAT:
	case UST_SO_RCVLOWAT:
		if ((error = sooptin_int(sopt, &v)) != 0)
			return (error);
		return (sosetopt_bufsize(so, sopt->sopt_name, v));
	default:
		/* SO_ERROR and SO_TYPE are read-only. */
		return (UST_ENOPROTOOPT);
	}
}

int
sogetopt(struct socket *so, struct sockopt *sopt)
{
	struct ust_linger l;
	int v;

	if (sopt->sopt_level != UST_SOL_SOCKET)
		return (soctloutput(so, sopt));
	switch (sopt->sopt_name) {
	case UST_SO_LINGER:
		l.l_onoff = (so->so_options & SO_LINGER) != 0;
		l.l_linger = so->so_linger;
		return (sooptout(sopt, &l, sizeof(l)));
	case UST_SO_REUSEADDR:
	case UST_SO_REUSEPORT:
	case UST_SO_REUSEPORT_LB:
	case UST_SO_BROADCAST:
	case UST_SO_KEEPALIVE:
	case UST_SO_OOBINLINE:
		v = (so->so_options & (uint32_t)sopt->sopt_name) != 0;
		break;
	case UST_SO_SNDBUF:
		v = (int)so->so_snd.sb_hiwat;
		break;
	case UST_SO_RCVBUF:
		v = (int)so->so_rcv.sb_hiwat;
		break;
	case UST_SO_SNDLOWAT:
		v = (int)so->so_snd.sb_lowat;
		break;
	case UST_SO_RCVLOWAT:
		v = (int)so->so_rcv.sb_lowat;
		break;
	case UST_SO_TYPE:
		v = so->so_type;
		break;
	case UST_SO_ERROR:
		/* Read and clear (SO_ERROR semantics). */
		if (sopt->sopt_valsize < sizeof(int))
			return (UST_EINVAL);
		v = so->so_error;
		so->so_error = 0;
		break;
	default:
		return (UST_ENOPROTOOPT);
	}
	return (sooptout(sopt, &v, sizeof(v)));
}

/* ---------------------------------------------------------------------
 * Per-stack state.
 * ------------------------------------------------------------------- */

void
so_zone_stats(struct ust_stack *st, struct ust_zone_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (st->st_so != NULL && st->st_so->ss_zone != NULL)
		ust_zone_get_stats(st->st_so->ss_zone, out);
}

uint32_t
so_count(const struct ust_stack *st)
{
	return (st->st_so != NULL ? st->st_so->ss_count : 0);
}

int
soinit(struct ust_stack *st)
{
	struct so_state *ss;

	ss = st_malloc(st, sizeof(*ss));
	if (ss == NULL)
		return (UST_ENOMEM);
	st->st_so = ss;
	ss->ss_zcdonetail = &ss->ss_zcdone;
	ss->ss_zone = ust_zone_create(&st->st_mem, "socket", sizeof(struct socket), 0, 0);
	ss->ss_zczone = ust_zone_create(&st->st_mem, "zc", sizeof(struct zc_ref), 0, 0);
	if (ss->ss_zone == NULL || ss->ss_zczone == NULL || kqueue_init(st) != 0) {
		sofini(st);
		return (UST_ENOMEM);
	}
	return (0);
}

/* A socket only the protocol or a listener still holds: force it out
 * (SS_NOFDREF clear meanwhile, as in soabort). */
static void
so_forcefree(struct socket *so)
{
	so->so_state &= ~SS_NOFDREF;
	if (so->so_pcb != NULL) {
		if (so->so_proto->pr_usrreqs->pru_abort != NULL)
			so->so_proto->pr_usrreqs->pru_abort(so);
		else
			so->so_proto->pr_usrreqs->pru_detach(so);
	}
	so->so_state |= SS_NOFDREF;
	so->so_state &= ~SS_PROTOREF;
	sofree(so);
}

void
sofini(struct ust_stack *st)
{
	struct so_state *ss = st->st_so;
	struct socket *so;

	if (ss == NULL || ss->ss_zone == NULL)
		return;
	/* Queues first (they only reference sockets), then the sockets. */
	kqueue_fini(st);
	while ((so = ss->ss_list) != NULL) {
		if (!(so->so_state & SS_NOFDREF))
			soclose(so);
		if (ss->ss_list == so)
			so_forcefree(so);
	}
	ust_zone_destroy(ss->ss_zone);
	ss->ss_zone = NULL;
}

void
so_zc_fini(struct ust_stack *st)
{
	struct so_state *ss = st->st_so;

	if (ss == NULL)
		return;
	sofini(st);
	/* Whatever still holds lent bytes now (a driver's queue the stack
	 * could not empty, a chain lost to the zones) never frees them
	 * mbuf by mbuf: the sends end here, at the latest. */
	so_zc_drain(st);
	while (ss->ss_zclist != NULL) {
		if (ss->ss_zclist->zr_status >= 0)
			ss->ss_zclist->zr_status = -UST_ECONNABORTED;
		zc_finish(ss->ss_zclist);
		so_zc_drain(st);
	}
	if (ss->ss_zczone != NULL)
		ust_zone_destroy(ss->ss_zczone);
	st->st_so = NULL;
	st_free(st, ss, sizeof(*ss));
}

struct ust_zone *
so_zc_zone(const struct ust_stack *st)
{
	return (st->st_so != NULL ? st->st_so->ss_zczone : NULL);
}
