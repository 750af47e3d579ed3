#!/bin/sh
# Start the Connect worker. The capture role's password goes into the file the
# worker's FileConfigProvider reads (the connector config only holds a
# ${file:...} reference to it), exactly as the local stack does; the directory
# is a tmpfs, so the password never lands on a disk.
set -eu
: "${CATALOG_VIEW_CDC_PASSWORD:?set CATALOG_VIEW_CDC_PASSWORD}"
: "${CATALOG_VIEW_DATA_DIR:?set CATALOG_VIEW_DATA_DIR}"
secrets="$CATALOG_VIEW_DATA_DIR/connect/secrets.properties"
mkdir -p "$(dirname "$secrets")"
umask 077
printf 'cdc_password=%s\n' "$CATALOG_VIEW_CDC_PASSWORD" > "$secrets"
exec /opt/kafka/bin/connect-distributed.sh "$1"
