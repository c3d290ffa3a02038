#!/usr/bin/env bash
# Install the Debian packages the test suite needs, if they are missing.
# Does nothing (quickly) when everything is already present.
set -euo pipefail

missing=()

have_initdb=false
for f in /usr/lib/postgresql/*/bin/initdb; do
    if [[ -x "$f" ]]; then
        have_initdb=true
        break
    fi
done
$have_initdb || missing+=(postgresql)

[[ -x /usr/bin/chromium ]] || missing+=(chromium)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
[[ -d /usr/share/fonts/truetype/dejavu ]] || missing+=(fonts-dejavu-core)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)  # the load generator of make bench
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)  # installs axe-core and vnu-jar
command -v java >/dev/null 2>&1 || missing+=(default-jre-headless)  # runs the Nu Html Checker
# Reads the text of uploaded screenshots (pledge/hoaxes/ocr.py), in Indonesian and English.
command -v tesseract >/dev/null 2>&1 || missing+=(tesseract-ocr)
for lang in ind eng; do
    compgen -G "/usr/share/tesseract-ocr/*/tessdata/$lang.traineddata" >/dev/null ||
        missing+=("tesseract-ocr-$lang")
done

# Writes XMP and EXIF into the test images of the provenance reader.
command -v exiftool >/dev/null 2>&1 || missing+=(libimage-exiftool-perl)

if ((${#missing[@]} == 0)); then
    echo "system-deps: all present (postgresql, chromium, redis-server, fonts-dejavu-core, wrk, npm, java, tesseract-ocr with ind and eng, exiftool)"
    exit 0
fi

if [[ "$(id -u)" -eq 0 ]]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
else
    echo "system-deps: missing Debian packages: ${missing[*]}" >&2
    echo "system-deps: not root and no sudo; install them as root with:" >&2
    echo "    apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
fi

# Another apt run may hold the locks (e.g. an install in another shell): wait for them.
# DPkg::Lock::Timeout covers dpkg's lock (install), but apt 2.6 ignores it for the lists
# lock that `apt-get update` takes, so retry that one while the lock is busy.
apt_opts=(-o DPkg::Lock::Timeout=600)

apt_update() {
    local deadline=$((SECONDS + 600)) out
    while true; do
        if out=$("${as_root[@]}" apt-get "${apt_opts[@]}" update -qq 2>&1); then
            [[ -z "$out" ]] || printf '%s\n' "$out"
            return 0
        fi
        if [[ "$out" == *"Could not get lock"* ]] && ((SECONDS < deadline)); then
            echo "system-deps: apt is busy; waiting for its lock..." >&2
            sleep 5
            continue
        fi
        printf '%s\n' "$out" >&2
        return 1
    done
}

apt_update
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get "${apt_opts[@]}" install -y -qq --no-install-recommends "${missing[@]}"

echo "system-deps: installed ${missing[*]}"
