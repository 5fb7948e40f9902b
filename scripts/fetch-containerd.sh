#!/usr/bin/env bash
# Put real containerd binaries in the oracle cache (see DEVELOPERS.md, "The oracle: containerd
# binaries").
#
#   $CACHE/bin/containerd-<version>          upstream builds unpacked from shared/bin (1.6 ... 2.4.0-beta.0);
#                                            without shared/bin, from containerd's official release
#                                            tarballs, checked against scripts/containerd-releases.sha256
#   $CACHE/bin/containerd-debian-<version>   containerd from Debian bookworm (1.6), trixie (1.7), sid (2.x)
#
# CACHE = ${CONTAINERD_MIGRATE_CACHE:-$HOME/.cache/containerd-migrate}
# shared = ${CONTAINERD_SHARED:-<repo>/../shared}
#
# Idempotent: a binary already in the cache is only re-hashed (shared) or left alone (Debian, unless
# --refresh). Release tarballs come from $CONTAINERD_RELEASES_URL/v<version>/<tarball> (default:
# containerd's GitHub releases; any curl URL, file:// included), sums from $CONTAINERD_RELEASE_SUMS
# (default scripts/containerd-releases.sha256). Nothing is installed system-wide: the Debian
# packages are fetched with a private apt configuration (own sources list, lists and cache dirs
# under $CACHE/debian) and unpacked with dpkg-deb -x. The upstream binaries are required when
# CI=true; the Debian part is best-effort unless --require-debian.
#
# Usage: scripts/fetch-containerd.sh [--require-debian] [--no-debian] [--refresh] [--quiet]
set -euo pipefail

usage() { sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; }

require_debian=0 no_debian=0 refresh=0 quiet=0
for arg in "$@"; do
  case $arg in
    --require-debian) require_debian=1 ;;
    --no-debian) no_debian=1 ;;
    --refresh) refresh=1 ;;
    --quiet|-q) quiet=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "fetch-containerd: unknown argument: $arg" >&2; usage >&2; exit 2 ;;
  esac
done
[ "$require_debian" = 1 ] && [ "$no_debian" = 1 ] && { echo "fetch-containerd: --require-debian and --no-debian exclude each other" >&2; exit 2; }

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${CONTAINERD_MIGRATE_CACHE:-$HOME/.cache/containerd-migrate}
shared=${CONTAINERD_SHARED:-$repo/../shared}
bindir=$cache/bin
ci=0; [ "${CI:-}" = true ] && ci=1

say()  { [ "$quiet" = 1 ] || echo "fetch-containerd: $*"; }
warn() { echo "fetch-containerd: warning: $*" >&2; }
die()  { echo "fetch-containerd: error: $*" >&2; exit 1; }

mkdir -p "$bindir"
failed_shared=0

# ---------------------------------------------------------------- (a) upstream binaries, shared/bin
fetch_shared() {
  local src=$shared/bin sums name want have xz out tmp
  if [ ! -d "$src" ]; then
    warn "no shared binaries: $src does not exist (set CONTAINERD_SHARED)"
    failed_shared=1; return
  fi
  sums=$src/SHA256SUMS
  [ -r "$sums" ] || { warn "$sums missing"; failed_shared=1; return; }
  shopt -s nullglob
  local found=0
  for xz in "$src"/containerd-v*.xz; do
    found=1
    name=$(basename "$xz" .xz)                   # containerd-v2.1.9
    out=$bindir/containerd-${name#containerd-v}  # containerd-2.1.9
    want=$(awk -v n="$name" '$2 == n || $2 == "*"n {print $1}' "$sums")
    if [ -z "$want" ]; then
      warn "$name is not listed in SHA256SUMS; skipped"; failed_shared=1; continue
    fi
    if [ -x "$out" ] && [ "$(sha256sum < "$out" | cut -d' ' -f1)" = "$want" ]; then
      continue
    fi
    tmp=$(mktemp "$bindir/.unpack.XXXXXX")
    if ! xz -dc "$xz" > "$tmp"; then
      rm -f "$tmp"; warn "cannot unpack $xz"; failed_shared=1; continue
    fi
    have=$(sha256sum < "$tmp" | cut -d' ' -f1)
    if [ "$have" != "$want" ]; then
      rm -f "$tmp"; warn "$name: sha256 $have does not match SHA256SUMS ($want)"; failed_shared=1; continue
    fi
    chmod 0755 "$tmp" && mv -f "$tmp" "$out"
    say "unpacked $(basename "$out") (sha256 ok)"
  done
  shopt -u nullglob
  [ "$found" = 1 ] || { warn "no containerd-v*.xz in $src"; failed_shared=1; }
}

# ---------------------------------------------------------------- (a') official release tarballs
releases=${CONTAINERD_RELEASES_URL:-https://github.com/containerd/containerd/releases/download}
release_sums=${CONTAINERD_RELEASE_SUMS:-$repo/scripts/containerd-releases.sha256}
fetch_releases() {
  local want name version out tmp have
  [ -r "$release_sums" ] || { warn "$release_sums missing"; failed_shared=1; return; }
  command -v curl > /dev/null || { warn "curl is needed to download release tarballs"; failed_shared=1; return; }
  while read -r want name; do
    case $want in ''|'#'*) continue ;; esac
    version=${name#containerd-}; version=${version%-linux-amd64.tar.gz}
    out=$bindir/containerd-$version
    if [ -x "$out" ] && [ "$refresh" = 0 ]; then continue; fi
    tmp=$(mktemp -d "$bindir/.release.XXXXXX")
    if ! curl -fsSL --retry 2 --max-time "${FETCH_CONTAINERD_TIMEOUT:-300}" -o "$tmp/$name" "$releases/v$version/$name"; then
      rm -rf "$tmp"; warn "$name: download failed"; failed_shared=1; continue
    fi
    have=$(sha256sum < "$tmp/$name" | cut -d' ' -f1)
    if [ "$have" != "$want" ]; then
      rm -rf "$tmp"; warn "$name: sha256 $have does not match the pinned $want; not used"; failed_shared=1; continue
    fi
    if ! tar -xzf "$tmp/$name" -C "$tmp" bin/containerd || [ ! -f "$tmp/bin/containerd" ]; then
      rm -rf "$tmp"; warn "$name: no bin/containerd in the tarball"; failed_shared=1; continue
    fi
    chmod 0755 "$tmp/bin/containerd" && mv -f "$tmp/bin/containerd" "$out"
    rm -rf "$tmp"
    say "downloaded $(basename "$out") (sha256 ok)"
  done < "$release_sums"
}

# ---------------------------------------------------------------- (b) Debian packages
# Suites to fetch, with the release line each is expected to carry (informational only; the
# binary is named after the version actually found).
debian_suites=(bookworm trixie sid)

debroot=$cache/debian
aptdir=$debroot/apt
host=''   # archive host, only used to mask it in messages

# The main Debian archive URI and its keyring, from this machine's own apt sources (deb822
# .sources files first, then one-line .list files). Security and ports archives are skipped.
# Prints "URI<TAB>KEYRING".
debian_archive() {
  python3 - <<'PY'
import glob, os, re, sys

def candidates():
    for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
        try:
            text = open(path, encoding="utf-8", errors="replace").read()
        except OSError:
            continue
        for stanza in re.split(r"\n\s*\n", text):
            fields, key = {}, None
            for line in stanza.splitlines():
                if not line.strip() or line.lstrip().startswith("#"):
                    continue
                if line[0] in " \t" and key:
                    fields[key] += " " + line.strip()
                    continue
                key, _, value = line.partition(":")
                key = key.strip().lower()
                fields[key] = value.strip()
            if fields.get("enabled", "yes").lower() == "no":
                continue
            if "deb" not in fields.get("types", "").split():
                continue
            suites = fields.get("suites", "").split()
            for uri in fields.get("uris", "").split():
                yield uri, suites, fields.get("signed-by", "")
    lists = ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list"))
    for path in lists:
        try:
            lines = open(path, encoding="utf-8", errors="replace").read().splitlines()
        except OSError:
            continue
        for line in lines:
            line = line.split("#", 1)[0].strip()
            m = re.match(r"deb\s+(\[[^\]]*\]\s+)?(\S+)\s+(\S+)", line)
            if not m:
                continue
            opts = m.group(1) or ""
            k = re.search(r"signed-by=(\S+?)\s*[\]\s]", opts + " ")
            yield m.group(2), [m.group(3)], k.group(1) if k else ""

best = None
for uri, suites, keyring in candidates():
    if "security" in uri or any("security" in s for s in suites):
        continue
    if "ports" in uri or not re.match(r"[a-z+]+://", uri):
        continue
    # a plain release suite (no -updates/-backports) marks the main archive
    plain = any(re.fullmatch(r"[a-z]+", s) for s in suites)
    score = (plain, "debian" in uri)
    if best is None or score > best[0]:
        best = (score, uri.rstrip("/"), keyring)
if best is None:
    sys.exit(1)
keyring = best[2] if best[2].startswith("/") else ""
if not keyring and os.path.exists("/usr/share/keyrings/debian-archive-keyring.gpg"):
    keyring = "/usr/share/keyrings/debian-archive-keyring.gpg"
print(best[1] + "\t" + keyring)
PY
}

mask() { if [ -n "$host" ]; then sed -e "s#[a-z+]*://[^ ]*#<archive>#g" -e "s#$host#<archive>#g"; else sed -e "s#[a-z+]*://[^ ]*#<archive>#g"; fi; }

apt_opts=()
setup_apt() {
  local archive uri keyring arch signed
  archive=$(debian_archive) || { warn "no Debian archive found in /etc/apt sources"; return 1; }
  uri=${archive%%$'\t'*}
  keyring=${archive#*$'\t'}
  host=$(printf '%s\n' "$uri" | sed -E 's#^[a-z+]+://([^/@]*@)?([^/:]+).*#\2#')
  arch=$(dpkg --print-architecture 2>/dev/null || echo amd64)
  mkdir -p "$aptdir/lists/partial" "$aptdir/cache/archives/partial" "$debroot/debs"
  signed=''
  [ -n "$keyring" ] && signed=" signed-by=$keyring"
  : > "$aptdir/sources.list"
  for suite in "${debian_suites[@]}"; do
    echo "deb [arch=$arch$signed] $uri $suite main" >> "$aptdir/sources.list"
  done
  # A main config file read after /etc/apt/apt.conf.d: keeps the machine's settings (proxies,
  # ...) but drops hooks that would touch system state (e.g. docker-clean deletes
  # /var/cache/apt/*.bin after every update).
  {
    [ -f /etc/apt/apt.conf ] && echo '#include "/etc/apt/apt.conf";'
    echo '#clear APT::Update::Pre-Invoke;'
    echo '#clear APT::Update::Post-Invoke;'
    echo '#clear APT::Update::Post-Invoke-Success;'
    echo '#clear DPkg::Pre-Invoke;'
    echo '#clear DPkg::Post-Invoke;'
    echo '#clear DPkg::Pre-Install-Pkgs;'
  } > "$aptdir/apt.conf"
  echo "Dir::Etc::main \"$aptdir/apt.conf\";" > "$aptdir/apt-config"
  apt_opts=(
    -o "Dir::Etc::sourcelist=$aptdir/sources.list"
    -o "Dir::Etc::sourceparts=-"
    -o "Dir::State::Lists=$aptdir/lists"
    -o "Dir::Cache=$aptdir/cache"
    -o "Dir::Etc::preferencesparts=$aptdir/preferences.d"
    -o "Dir::Etc::preferences=$aptdir/preferences"
    -o "APT::Get::List-Cleanup=0"
    -o "Acquire::Languages=none"
    -o "Acquire::Retries=2"
    -o "Acquire::http::Timeout=30"
  )
  : > "$aptdir/preferences"; mkdir -p "$aptdir/preferences.d"  # no pinning from /etc/apt
  # root: fetch as root into our own dirs instead of warning that _apt cannot write there
  [ "$(id -u)" = 0 ] && apt_opts+=(-o "APT::Sandbox::User=root")
  return 0
}

# bounded, so that a hanging network costs minutes, not the CI run
apt_side() { APT_CONFIG=$aptdir/apt-config timeout "${FETCH_CONTAINERD_APT_TIMEOUT:-300}" apt-get -q "${apt_opts[@]}" "$@"; }

apt_updated=0
apt_update() {
  [ "$apt_updated" = 1 ] && return 0
  say "apt-get update (private lists in $aptdir) ..."
  if apt_side update > "$aptdir/update.log" 2>&1; then
    apt_updated=1
    # a suite that failed is reported per package below; show apt's own warnings masked
    grep -E '^(W|E):' "$aptdir/update.log" | mask | sed 's/^/  apt: /' >&2 || true
    return 0
  fi
  warn "apt-get update failed:"; tail -n 5 "$aptdir/update.log" | mask | sed 's/^/  apt: /' >&2
  # keep going with whatever lists did arrive
  apt_updated=1
  return 0
}

upstream_version() {  # 1:1.7.24~ds1-6+deb13u1 -> 1.7.24
  printf '%s\n' "$1" | sed -E 's/^[0-9]+://; s/-[^-]*$//; s/[~+](ds|dfsg).*$//'
}

debian_ok=()
debian_failed=()
fetch_debian_suite() {
  local suite=$1 stamp deb ver up dest out
  stamp=$debroot/$suite.version
  if [ "$refresh" = 0 ] && [ -s "$stamp" ]; then
    up=$(upstream_version "$(cat "$stamp")")
    if [ -x "$bindir/containerd-debian-$up" ]; then
      debian_ok+=("$suite=$(cat "$stamp")"); return 0
    fi
  fi
  apt_update
  rm -f "$debroot/debs/.new"; mkdir -p "$debroot/debs/.new"
  if ! (cd "$debroot/debs/.new" && apt_side download "containerd/$suite") > "$debroot/download-$suite.log" 2>&1; then
    warn "$suite: apt-get download containerd/$suite failed:"
    tail -n 3 "$debroot/download-$suite.log" | mask | sed 's/^/  apt: /' >&2
    rm -rf "$debroot/debs/.new"; debian_failed+=("$suite"); return 1
  fi
  deb=$(find "$debroot/debs/.new" -maxdepth 1 -name 'containerd_*.deb' | head -n1)
  [ -n "$deb" ] || { warn "$suite: no .deb downloaded"; debian_failed+=("$suite"); return 1; }
  ver=$(dpkg-deb -f "$deb" Version)
  up=$(upstream_version "$ver")
  mv -f "$deb" "$debroot/debs/" && rm -rf "$debroot/debs/.new"
  deb=$debroot/debs/$(basename "$deb")
  rm -rf "$debroot/root"  # left by older versions of this script
  dest=$(mktemp -d "$debroot/x-$suite.XXXXXX")
  dpkg-deb -x "$deb" "$dest"
  if [ ! -x "$dest/usr/bin/containerd" ]; then
    rm -rf "$dest"; warn "$suite: package has no usr/bin/containerd"; debian_failed+=("$suite"); return 1
  fi
  out=$bindir/containerd-debian-$up
  cp -f "$dest/usr/bin/containerd" "$out.tmp" && chmod 0755 "$out.tmp" && mv -f "$out.tmp" "$out"
  rm -rf "$dest"  # the .deb stays in $debroot/debs; only the binary is needed
  if ! "$out" --version > /dev/null 2>&1; then
    warn "$suite: containerd $ver does not run on this machine: $("$out" --version 2>&1 | head -n1)"
    rm -f "$out"; debian_failed+=("$suite"); return 1
  fi
  printf '%s\n' "$ver" > "$stamp"
  say "Debian $suite: containerd $ver -> $(basename "$out")"
  debian_ok+=("$suite=$ver")
}

fetch_debian() {
  if ! command -v apt-get > /dev/null || ! command -v dpkg-deb > /dev/null; then
    warn "apt-get/dpkg-deb not available: no Debian builds"; debian_failed=("${debian_suites[@]}"); return
  fi
  mkdir -p "$debroot"
  local need=0 suite up
  for suite in "${debian_suites[@]}"; do
    if [ "$refresh" = 1 ] || [ ! -s "$debroot/$suite.version" ]; then need=1; continue; fi
    up=$(upstream_version "$(cat "$debroot/$suite.version")")
    [ -x "$bindir/containerd-debian-$up" ] || need=1
  done
  if [ "$need" = 1 ]; then
    setup_apt || { debian_failed=("${debian_suites[@]}"); return; }
  fi
  for suite in "${debian_suites[@]}"; do
    fetch_debian_suite "$suite" || true
  done
}

# ---------------------------------------------------------------- run
if [ -d "$shared/bin" ]; then
  fetch_shared
else
  say "no $shared/bin: downloading the official release tarballs"
  fetch_releases
fi
if [ "$failed_shared" = 1 ]; then
  if [ "$ci" = 1 ]; then die "the upstream containerd binaries are required when CI=true"; fi
  warn "some shared binaries are missing; the oracle tests for them will skip"
fi

if [ "$no_debian" = 0 ]; then
  fetch_debian
  if [ "${#debian_failed[@]}" -gt 0 ]; then
    if [ "$require_debian" = 1 ]; then die "Debian containerd not available for: ${debian_failed[*]}"; fi
    warn "Debian containerd not available for: ${debian_failed[*]} (best-effort; use --require-debian to fail)"
  fi
fi

# ---------------------------------------------------------------- summary
echo "containerd binaries in $bindir:"
shopt -s nullglob
n=0
for b in "$bindir"/containerd-*; do
  [ -x "$b" ] || continue
  v=$("$b" --version 2>/dev/null | head -n1 | awk '{print $3, $4}') || v='(does not run)'
  printf '  %-32s %s\n' "$(basename "$b")" "${v:-(does not run)}"
  n=$((n + 1))
done
[ "$n" -gt 0 ] || echo "  (none)"
for s in "${debian_ok[@]}"; do echo "  Debian ${s%%=*}: containerd ${s#*=}"; done
