#!/bin/sh
# build.sh DIR [configure options] -- configures and builds out of tree in
# DIR (relative to the checkout), regenerating the build system if needed.
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
dir=$1
shift
cd "$top"
[ -x configure ] && [ configure -nt configure.ac ] && [ configure -nt Makefile.am ] || autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
mkdir -p "$dir"
cd "$dir"
if [ ! -f Makefile ] || [ "$(cat .configure-args 2>/dev/null)" != "$*" ]; then
	"$top/configure" -q "$@"
	echo "$*" > .configure-args
fi
make -s -j"$(nproc)" >/dev/null
