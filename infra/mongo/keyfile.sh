#!/bin/sh
# Compose service `mongo-keyfile` (image mongo:8.0, as root): writes the replica set's shared
# key (internal authentication between the members; --keyFile also turns on client
# authentication) from IM_MONGO_REPLSET_KEY into the volume the members mount read-only.
# mongod refuses a keyfile that group or others can read, and runs as the image's `mongodb`
# user (uid/gid 999), so the file is 0400 and owned by 999:999. Safe to run on every `up`:
# the file is replaced atomically with the key now in .env.
set -eu
target="${IM_MONGO_KEYFILE:-/keyfile/rs.key}"
owner="${IM_MONGO_KEYFILE_OWNER:-999:999}"
# MongoDB ignores whitespace in a key; 6 to 1024 characters of the base64 alphabet.
key="$(printf '%s' "${IM_MONGO_REPLSET_KEY:-}" | tr -d '[:space:]')"
if ! printf '%s' "$key" | grep -Eqx '[A-Za-z0-9+/=]{6,1024}'; then
    echo "mongo-keyfile: IM_MONGO_REPLSET_KEY must be 6 to 1024 base64 characters" \
         "(see .env.example)" >&2
    exit 1
fi
umask 077
tmp="$target.new"
printf '%s\n' "$key" > "$tmp"
chown "$owner" "$tmp"
chmod 0400 "$tmp"
mv -f "$tmp" "$target"
echo "mongo-keyfile: wrote $target (owner $owner, mode 0400)"
