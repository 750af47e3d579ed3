#!/bin/sh
# Submit the catalog-view job to the session cluster, detached, with the job
# arguments given to this script (the spec of flink_jobs/arguments.py, as the
# local stack renders it) plus one --jar per connector jar.
# Re-runnable: a job already running under the same name is left alone.
set -eu
: "${CATALOG_VIEW_STORE_PASSWORD:?set CATALOG_VIEW_STORE_PASSWORD}"
if flink list -r -m jobmanager:8081 | grep -q ' : catalog-view ('; then
    echo "submit-job: catalog-view is already running on jobmanager:8081"
    exit 0
fi
for jar in /opt/catalog-view/jars/*.jar; do
    set -- "$@" --jar "file://$jar"
done
exec flink run -m jobmanager:8081 --detached -pym flink_jobs "$@"
