# yaml2json.awk -- prints as JSON the block-style subset of YAML that
# docs/openapi.yaml keeps to (see its header): two-space indentation,
# "key: value" and "key:" + an indented block, "- " items (scalars or
# mappings), one-line scalars ("double", 'single', plain, numbers,
# true/false/null, [] / {} / [a, b] flow lists of scalars), full-line #
# comments. Exits 1 on anything else. Debian's base has no YAML parser
# (python3-yaml, yq) and the check must run on a fresh machine.
#   awk -f yaml2json.awk openapi.yaml | jq .

function fail(msg) { printf "yaml2json: line %d: %s\n", lno[pos], msg > "/dev/stderr"; bad = 1; exit 1 }

function jstr(s) {	# a JSON string from raw text
	gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); gsub(/\t/, "\\t", s)
	return "\"" s "\""
}

function scalar(s,    n, i, parts, out) {
	if (s ~ /^"/) {
		if (s !~ /^"([^"\\]|\\.)*"$/) fail("bad double-quoted string: " s)
		return s	# YAML's escapes used here are JSON's
	}
	if (s ~ /^'/) {
		if (s !~ /^'([^']|'')*'$/) fail("bad single-quoted string: " s)
		s = substr(s, 2, length(s) - 2); gsub(/''/, "'", s)
		return jstr(s)
	}
	if (s == "[]") return "[]"
	if (s == "{}") return "{}"
	if (s ~ /^\[.*\]$/) {
		s = substr(s, 2, length(s) - 2)
		n = split(s, parts, /, */)
		out = "["
		for (i = 1; i <= n; i++) {
			if (parts[i] ~ /^[\[{]/) fail("nested flow collection")
			out = out (i > 1 ? "," : "") scalar(parts[i])
		}
		return out "]"
	}
	if (s ~ /^[\[{&*!|>]/) fail("unsupported scalar: " s)
	if (s ~ /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$/) return s
	if (s == "true" || s == "false" || s == "null") return s
	if (s == "~") return "null"
	if (s ~ /: |\t| #/) fail("plain scalar needs quotes: " s)
	return jstr(s)
}

function key(k) {
	if (k ~ /^"/ || k ~ /^'/) return scalar(k)
	return jstr(k)
}

# node(IND) -- the block at indentation IND starting at line pos.
function node(ind,    out, k, rest, i, first) {
	if (pos > nl || indent[pos] != ind) fail("expected a block at indentation " ind)
	if (text[pos] ~ /^- / || text[pos] == "-") {
		out = "["; first = 1
		while (pos <= nl && indent[pos] == ind && (text[pos] ~ /^- / || text[pos] == "-")) {
			rest = substr(text[pos], 3)
			if (rest == "") fail("empty item")
			if (rest ~ /^[^"' \[{][^:]*:( |$)/ || rest ~ /^"[^"]*":( |$)/) {
				# "- key: value": a mapping whose first key sits after "- "
				indent[pos] = ind + 2; text[pos] = rest
				out = out (first ? "" : ",") node(ind + 2)
			} else {
				out = out (first ? "" : ",") scalar(rest); pos++
			}
			first = 0
		}
		return out "]"
	}
	out = "{"; first = 1
	while (pos <= nl && indent[pos] == ind) {
		if (text[pos] ~ /^- /) fail("item where a key was expected")
		if (match(text[pos], /^("[^"]*"|'[^']*'|[^"' ][^:]*):( |$)/) == 0)
			fail("not a key: " text[pos])
		k = substr(text[pos], 1, RLENGTH - (substr(text[pos], RLENGTH, 1) == " " ? 2 : 1))
		rest = substr(text[pos], RLENGTH + 1)
		sub(/^ +/, "", rest)
		out = out (first ? "" : ",") key(k) ":"
		first = 0
		if (rest != "") {
			out = out scalar(rest); pos++
		} else {
			pos++
			if (pos > nl || indent[pos] <= ind) fail("empty value for " k)
			out = out node(indent[pos])
		}
	}
	return out "}"
}

{
	line = $0
	sub(/\r$/, "", line)
	if (line ~ /^[ ]*(#.*)?$/) next
	if (line ~ /^\t/) { lno[1] = NR; pos = 1; fail("tab indentation") }
	match(line, /^ */)
	nl++
	indent[nl] = RLENGTH
	text[nl] = substr(line, RLENGTH + 1)
	sub(/ +$/, "", text[nl])
	lno[nl] = NR
}

END {
	if (bad) exit 1
	pos = 1
	out = node(0)
	if (pos <= nl) fail("unexpected indentation")
	print out
}
