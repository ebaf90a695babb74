# tools/bootstrap.sh -- sourced by ./run and ./check: installs the Debian
# packages the build and the tests need (when run as root), then builds the
# module in the source tree. Safe to run again: it only does what is missing.

GW_PACKAGES="apache2 apache2-dev libapr1-dev libaprutil1-dev libcunit1-dev
 python3-dev python3-pytest python3-requests python3-paste python3-venv
 python3-django python3-flask python3-numpy python3-pyramid python3-bottle
 python3-cherrypy3 python3-webpy python3-falcon python3-webob python3-pastedeploy
 wrk slowhttptest iproute2 procps
 autoconf automake libtool make gcc pkg-config curl"

gw_missing_packages() {
    local p missing=""
    for p in $GW_PACKAGES "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null \
            | grep -q "install ok installed" || missing="$missing $p"
    done
    echo "$missing"
}

gw_install_packages() {
    local missing
    missing=$(gw_missing_packages "$@")
    [ -z "$missing" ] && return 0
    if [ "$(id -u)" != 0 ]; then
        echo "bootstrap: missing Debian packages:$missing" >&2
        echo "bootstrap: install them as root (apt-get install$missing)" >&2
        return 1
    fi
    echo "bootstrap: installing$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -q $missing >/tmp/gw-apt.log 2>&1; then
        apt-get update -q >>/tmp/gw-apt.log 2>&1
        apt-get install -y -q $missing >>/tmp/gw-apt.log 2>&1 || {
            echo "bootstrap: apt-get install failed; see /tmp/gw-apt.log" >&2
            return 1
        }
    fi
}

# Builds in the source tree. GW_CONFIGURE_FLAGS adds configure flags.
gw_build() {
    if [ ! -x configure ] || [ configure.ac -nt configure ] \
        || [ Makefile.am -nt configure ]; then
        autoreconf -fi >/tmp/gw-autoreconf.log 2>&1 || {
            cat /tmp/gw-autoreconf.log >&2; return 1; }
    fi
    if [ ! -f Makefile ] || [ configure -nt Makefile ]; then
        ./configure --with-python=/usr/bin/python3 ${GW_CONFIGURE_FLAGS:-} \
            >/tmp/gw-configure.log 2>&1 || {
            tail -20 /tmp/gw-configure.log >&2; return 1; }
    fi
    make -j"$(nproc)" >/tmp/gw-make.log 2>&1 || {
        grep -E "error|Error" /tmp/gw-make.log | head -40 >&2; return 1; }
}
