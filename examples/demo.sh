#!/bin/sh
# A first session with leadctl on the default database (or $LEADCTL_DB).
# Safe to run twice: the import merges what is already there.
set -e

echo "== import examples/leads.csv (a CRM export with one duplicate and one bad row)"
leadctl import "$(dirname "$0")/leads.csv" || echo "(one row was rejected: see examples/leads.rejects.csv)"

echo "== score every lead with the shipped rules, then list the hottest"
leadctl score
leadctl list --sort score --limit 10

echo "== work one lead: contact it, log a call, schedule the next one"
id=$(leadctl list --search brightpath --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
leadctl status "$id" contacted 2>/dev/null || true
leadctl log "$id" --type call --outcome "interested, wants pricing"
leadctl schedule "$id" "tomorrow 10:00"
leadctl show "$id"

echo "== where do the leads come from?"
leadctl report sources
leadctl report funnel
