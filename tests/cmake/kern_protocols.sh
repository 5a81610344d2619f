#!/usr/bin/env bash
# kern_protocols.sh - netstack/kern/ names no protocol, as a ctest test
# (packaging.kern_protocols).  The socket layer reaches protocols only
# through the domains' protocol switches (struct domain, struct protosw;
# netinet/in_proto.c, registered in netstack/conf/domains.h), so that a new
# protocol or family never needs a change under kern/.  In code (comments
# removed), kern/ must not:
#
#  1. include a protocol folder's header (#include "netinet/...",
#     "netinet6/...": anything but kern/, net/ and conf/);
#  2. call a protocol's function (tcp_*, udp_*, rip_*, icmp_*, ip_*,
#     in_*, arp_*, nd6_*, cc_*, syncache_*, sctp_*, and their v6 forms);
#  3. use a protocol number (IPPROTO_*);
#  4. touch a protocol's per-stack state (st_tcb*, st_udb*, st_rip*,
#     st_tcp*, st_udp*, st_icmp*, st_ip*, st_arp*, st_syncache, st_sack*,
#     st_cc*), except in stack_var.h, where that state is declared.
#
#   tests/cmake/kern_protocols.sh [SOURCE_ROOT]   check the tree
#   tests/cmake/kern_protocols.sh --self-test     the check catches each rule
set -euo pipefail

check() {
  local root="$1" bad=0 f line
  [[ -d "$root/netstack/kern" ]] || { echo "kern_protocols: no netstack/kern under $root" >&2; return 2; }
  local proto='(tcp|udp|rip|icmp|icmp6|ip|ip6|in|in6|arp|nd6|cc|syncache|sctp)_[A-Za-z0-9_]*[[:space:]]*\('
  local state='\bst_(tcb|udb|rip|tcp|udp|icmp|ip|arp|syncache|sack|cc)[A-Za-z0-9_]*'
  while IFS= read -r f; do
    # Comments out (block and line), line numbers kept.
    local code
    code=$(awk '
      {
        out = ""; s = $0
        while (s != "") {
          if (inc) {
            n = index(s, "*/"); if (n == 0) { s = ""; break }
            s = substr(s, n + 2); inc = 0; continue
          }
          n = index(s, "/*"); m = index(s, "//")
          if (m > 0 && (n == 0 || m < n)) { out = out substr(s, 1, m - 1); s = ""; break }
          if (n == 0) { out = out s; break }
          out = out substr(s, 1, n - 1) " "; s = substr(s, n + 2); inc = 1
        }
        printf("%d:%s\n", NR, out)
      }' "$f")
    while IFS= read -r line; do
      [[ -z "$line" ]] && continue
      echo "$f:$line"
      bad=1
    done < <(
      grep -E '^[0-9]+:[[:space:]]*#[[:space:]]*include[[:space:]]*"' <<<"$code" \
        | grep -vE '"(kern|net|conf)/[^"]*"' | sed 's/$/ [a header outside kern\/, net\/, conf\/]/' || true
      grep -E "(^|[^A-Za-z0-9_])$proto" <<<"$code" | sed 's/$/ [a protocol function]/' || true
      grep -E 'IPPROTO_' <<<"$code" | sed 's/$/ [a protocol number]/' || true
      if [[ "$(basename "$f")" != stack_var.h ]]; then
        grep -E "$state" <<<"$code" | sed 's/$/ [a protocol'"'"'s per-stack state]/' || true
      fi
    )
  done < <(find "$root/netstack/kern" -type f \( -name '*.c' -o -name '*.h' \) | LC_ALL=C sort)
  return $bad
}

if [[ "${1:-}" == "--self-test" ]]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  mkdir -p "$tmp/netstack/kern"
  printf '/* tcp_input(m) in a comment is fine */\n#include "kern/mbuf.h"\nint f(void);\n' \
    >"$tmp/netstack/kern/ok.c"
  check "$tmp" >/dev/null || { echo "kern_protocols: self-test: a clean file was reported" >&2; exit 1; }
  for bad in '#include "netinet/tcp_var.h"' 'void g(void) { tcp_init(st); }' \
    'int p = IPPROTO_UDP;' 'void h(void) { st->st_tcbinfo = 0; }' 'void k(void) { in_pcbfree(p); }'; do
    printf '%s\n' "$bad" >"$tmp/netstack/kern/bad.c"
    if check "$tmp" >/dev/null; then
      echo "kern_protocols: self-test: not caught: $bad" >&2
      exit 1
    fi
  done
  echo "kern_protocols: self-test: each rule catches its case"
  exit 0
fi

root="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
if check "$root"; then
  echo "kern_protocols: netstack/kern names no protocol"
else
  echo "kern_protocols: FAILED: kern/ must reach protocols through struct domain/protosw (see above)" >&2
  exit 1
fi
