# netstack/kern: the socket layer, mbufs, callouts, knobs and the stack
# instance.  Names no protocol (tests/cmake/kern_protocols.sh checks it).
list(APPEND USTACK_NETSTACK_SOURCES
  netstack/kern/kern_assert.c
  netstack/kern/kern_errno.c
  netstack/kern/kern_group.c
  netstack/kern/kern_group_config.c
  netstack/kern/kern_group_thread.c
  netstack/kern/kern_stack.c
  netstack/kern/kern_sysctl.c
  netstack/kern/kern_timeout.c
  netstack/kern/uipc_mbuf.c
  netstack/kern/uipc_mbuf_api.c
  netstack/kern/kern_event.c
  netstack/kern/uipc_domain.c
  netstack/kern/uipc_socket.c
  netstack/kern/uipc_sockbuf.c
  netstack/kern/uipc_syscalls.c)
