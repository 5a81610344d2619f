/*
 * tcp_fsm.h - the TCP connection states of RFC 9293 3.3.2, with FreeBSD's
 * names and numbering (netinet/tcp_fsm.h), which TCP_INFO reports.
 */
#ifndef _USTACK_NETINET_TCP_FSM_H_
#define _USTACK_NETINET_TCP_FSM_H_

#define TCP_NSTATES 11

#define TCPS_CLOSED 0
#define TCPS_LISTEN 1
#define TCPS_SYN_SENT 2
#define TCPS_SYN_RECEIVED 3
#define TCPS_ESTABLISHED 4
#define TCPS_CLOSE_WAIT 5
#define TCPS_FIN_WAIT_1 6
#define TCPS_CLOSING 7
#define TCPS_LAST_ACK 8
#define TCPS_FIN_WAIT_2 9
#define TCPS_TIME_WAIT 10

/* Established or later: a FIN from us has not been acknowledged yet, or
 * data may flow. */
#define TCPS_HAVERCVDSYN(s) ((s) >= TCPS_SYN_RECEIVED)
#define TCPS_HAVEESTABLISHED(s) ((s) >= TCPS_ESTABLISHED)
#define TCPS_HAVERCVDFIN(s) \
	((s) == TCPS_CLOSE_WAIT || ((s) >= TCPS_CLOSING && (s) != TCPS_FIN_WAIT_2))

#endif /* _USTACK_NETINET_TCP_FSM_H_ */
