#!/usr/bin/env bash
# netstack_includes.sh - the portability rules of netstack/, as a ctest test
# (packaging.netstack_includes):
#
#  1. netstack/ includes no system header but the freestanding-style ones:
#     <stdint.h> <stddef.h> <stdbool.h> <string.h> <limits.h> <stdarg.h>,
#     <stdatomic.h> (C11's freestanding atomics: a group's hand-off rings
#     between stacks' threads, kern/kern_spsc.h), plus <ustack/...> and quoted project headers (resolved in the file's
#     directory, netstack/, osal/common/ or include/).  Threads, time,
#     randomness and I/O come through the OSAL, never from the host.
#  2. netstack/ defines no mutable file-scope variable: all state hangs off
#     struct ust_stack so that many stacks live in one process.  A
#     file-scope object is accepted only when it is const at the top level
#     (`static const struct cc_algo x`, `static const char *const names[]`);
#     `static const char *names[]` is an array of mutable pointers and is
#     reported.  Functions, prototypes, typedefs, extern declarations, type
#     definitions and macro calls are not objects and are skipped.  A
#     `static` object inside a function is global storage too and is held
#     to the same rule.
#
# A heuristic, not a C parser: comments, string and character literals and
# preprocessor lines are removed, then statements at brace depth 0 are read.
#
#   tests/cmake/netstack_includes.sh [SOURCE_ROOT]
set -euo pipefail

root="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
cd "$root"
[[ -d netstack ]] || { echo "netstack_includes: no netstack/ under $root" >&2; exit 1; }

files=()
while IFS= read -r f; do files+=("$f"); done < <(find netstack -type f \( -name '*.c' -o -name '*.h' \) | LC_ALL=C sort)
if ((${#files[@]} == 0)); then
  echo "netstack_includes: no sources under netstack/"
  exit 0
fi

prog=$(cat <<'AWK'
BEGIN {
	split("stdint.h stddef.h stdbool.h string.h limits.h stdarg.h stdatomic.h", a, " ")
	for (i in a)
		allowed[a[i]] = 1
	bad = 0
}

FNR == 1 {
	if (NR > 1)
		endfile()
	in_comment = 0; pp_cont = 0; depth = 0; stmt = ""; stmt_line = 0; after_body = ""; lstmt = ""
	dir = FILENAME
	sub(/\/[^\/]*$/, "", dir)
}

function endfile() {
	if (depth != 0)
		printf("%s: warning: unbalanced braces at end of file (preprocessor branches?); the globals check may be incomplete\n", prev_file)
}

function exists(path,   line, r) {
	r = (getline line < path)
	if (r >= 0)
		close(path)
	return (r >= 0)
}

function report(msg) {
	printf("%s:%d: %s\n", FILENAME, stmt_line, msg)
	bad++
}

function check_include(line,   h) {
	if (match(line, /<[^>]*>/)) {
		h = substr(line, RSTART + 1, RLENGTH - 2)
		if (h ~ /^ustack\//) {
			if (!exists("include/" h))
				printf("%s:%d: #include <%s>: no such public header\n", FILENAME, FNR, h)
			else
				return
		} else if (h in allowed)
			return
		else
			printf("%s:%d: #include <%s>: system header not allowed in netstack/ (allowed: <stdint.h> <stddef.h> <stdbool.h> <string.h> <limits.h> <stdarg.h> <stdatomic.h>, <ustack/...>; reach the OS through ustack_osal.h)\n", FILENAME, FNR, h)
	} else if (match(line, /"[^"]*"/)) {
		h = substr(line, RSTART + 1, RLENGTH - 2)
		if (exists(dir "/" h) || exists("netstack/" h) || exists("osal/common/" h) || exists("include/" h))
			return
		printf("%s:%d: #include \"%s\": not a project header (a quoted name that falls through to the system)\n", FILENAME, FNR, h)
	} else
		printf("%s:%d: computed #include: cannot be checked, name the header\n", FILENAME, FNR)
	bad++
}

# Removes comments and the contents of string and character literals.
function strip(s,   out, c, ch, n) {
	out = ""
	while (s != "") {
		if (in_comment) {
			n = index(s, "*/")
			if (n == 0)
				return out
			s = substr(s, n + 2)
			in_comment = 0
			out = out " "
			continue
		}
		if (match(s, /\/\*|\/\/|"|'/) == 0) {
			out = out s
			break
		}
		out = out substr(s, 1, RSTART - 1)
		c = substr(s, RSTART, RLENGTH)
		s = substr(s, RSTART + RLENGTH)
		if (c == "/*") {
			in_comment = 1
			continue
		}
		if (c == "//")
			break
		for (n = 1; n <= length(s); n++) {
			ch = substr(s, n, 1)
			if (ch == "\\")
				n++
			else if (ch == c)
				break
		}
		s = substr(s, n + 1)
		out = out c c
	}
	return out
}

# One file-scope statement, up to its ';' (or the part before '=').
function decl(s, where,   n, tail) {
	if (index(s, "=") > 0)
		s = substr(s, 1, index(s, "=") - 1)
	gsub(/__attribute__[ \t]*\(\([^()]*(\([^()]*\)[^()]*)*\)\)/, " ", s)
	gsub(/[ \t]+/, " ", s)
	sub(/^ /, "", s)
	sub(/ $/, "", s)
	if (s == "")
		return
	if (s ~ /(^| )(typedef|extern)( |$)/)
		return
	if (index(s, "(") > 0) {
		# A function declaration or a macro call, unless it declares a
		# pointer to function: "(*name)(...)".
		if (s !~ /\( ?\*/)
			return
		if (s ~ /\( ?\* ?const[ (]/)
			return
		report("mutable " where " variable (function pointer): " s)
		return
	}
	n = index(s, "__BODY__")
	if (n > 0) {
		tail = substr(s, n + 8)
		if (tail ~ /^ ?$/)
			return          # struct/union/enum definition only
	} else if (s ~ /^(static )?(const )?(struct|union|enum) [A-Za-z_][A-Za-z0-9_]*$/)
		return                  # forward declaration
	if (s !~ /[ *]/)
		return                  # a lone word (a macro at file scope)
	# Const at the top level: after the last '*' if there is one.
	if (match(s, /\*[^*]*$/))
		tail = substr(s, RSTART)
	else
		tail = s
	if (tail ~ /(^|[^A-Za-z0-9_])const([^A-Za-z0-9_]|$)/)
		return
	sub(/__BODY__/, "{...}", s)
	report("mutable " where " variable: " s)
}

# A static inside a function body is global storage all the same.
function check_local(   save) {
	if (lstmt ~ /^[ \t]*static[ \t]/) {
		save = stmt_line
		stmt_line = lstmt_line
		decl(lstmt, "function-scope static")
		stmt_line = save
	}
	lstmt = ""
}

function open_brace(   t) {
	t = stmt
	if (index(t, "=") > 0) {
		decl(t, "file-scope")
		stmt = ""
		after_body = "init"
		depth = 1
		return
	}
	if (t ~ /extern[ \t]*""[ \t]*$/) {
		stmt = ""               # extern "C" { ... }: transparent
		return
	}
	if (t ~ /(^|[^A-Za-z0-9_])(struct|union|enum)([ \t]+[A-Za-z_][A-Za-z0-9_]*)?[ \t]*$/) {
		stmt = t " __BODY__ "
		after_body = "type"
		depth = 1
		return
	}
	stmt = ""
	after_body = "fn"
	depth = 1
}

function scan(s,   pre, c) {
	for (;;) {
		if (match(s, /[{};]/)) {
			pre = substr(s, 1, RSTART - 1)
			c = substr(s, RSTART, 1)
			s = substr(s, RSTART + 1)
		} else {
			pre = s
			c = ""
			s = ""
		}
		if (depth == 0) {
			if (stmt ~ /^[ \t]*$/ && pre ~ /[^ \t]/)
				stmt_line = FNR
			stmt = stmt " " pre
		}
		if (depth > 0 && after_body == "fn") {
			if (lstmt ~ /^[ \t]*$/ && pre ~ /[^ \t]/)
				lstmt_line = FNR
			lstmt = lstmt " " pre
			if (c != "")
				check_local()
		}
		if (c == "")
			break
		if (c == "{") {
			if (depth == 0)
				open_brace()
			else
				depth++
		} else if (c == "}") {
			if (depth > 0)
				depth--
			if (depth == 0 && after_body == "fn") {
				stmt = ""
				after_body = ""
			}
		} else if (depth == 0) {        # ';'
			if (after_body != "init")
				decl(stmt, "file-scope")
			stmt = ""
			after_body = ""
		}
	}
}

{
	prev_file = FILENAME
	line = $0
	if (pp_cont) {
		pp_cont = (line ~ /\\$/)
		next
	}
	if (!in_comment && line ~ /^[ \t]*#/) {
		if (line ~ /^[ \t]*#[ \t]*include/)
			check_include(line)
		pp_cont = (line ~ /\\$/)
		next
	}
	scan(strip(line))
}

END {
	if (NR > 0)
		endfile()
	exit (bad > 0)
}
AWK
)

if awk "$prog" "${files[@]}"; then
  echo "netstack_includes: ${#files[@]} files under netstack/: includes and static objects OK"
else
  echo "netstack_includes: FAILED (see above)" >&2
  exit 1
fi
