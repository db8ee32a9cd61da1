#!/usr/bin/env bash
# Prints the NATS account of one mission node, and the lines headquarters'
# account needs for it, for deploy/nats/accounts.conf.
#
#   deploy/nats/mission-account.sh mission-fr-paris
#
# The node id is the one headquarters assigned at enrolment (console,
# Exchange → Nodes); it is also the mission's JetStream domain. The subjects
# are those Chancery's own leaf hub grants a mission (internal/exchange
# leafGrants, between headquarters and the mission): its consumer on
# headquarters' EXCHANGE stream, headquarters' consumer on its stream, the
# gateway requests both ways, and the global configuration.
#
# Known limit (RUNBOOK.md): the consumer-creation export below fixes the
# consumer's name and filter but not its delivery subject; until
# headquarters creates it on the mission's behalf on the cluster too, a
# hostile mission could point a push consumer into HQ's account.
set -euo pipefail
id=${1:?usage: mission-account.sh NODE_ID}
case $id in
  *[!A-Za-z0-9_-]*) echo "node id $id: only letters, digits, - and _ fit a NATS subject token as Chancery writes it" >&2; exit 2 ;;
esac
acct=MISSION_$(printf %s "$id" | sed 's/^mission-//; s/-/_/g' | tr a-z A-Z)
var=NATS_${acct}_PASSWORD
in_m="EXCHANGE.in-$id~hq"   # the mission's consumer on headquarters' stream
in_hq="EXCHANGE.in-hq~$id"  # headquarters' consumer on the mission's stream

cat <<CONF
# --- $id: paste into the accounts block ---
$acct: {
  exports: [
    # headquarters' consumer on this mission's stream, in its domain $id
    { service: "\$JS.$id.API.CONSUMER.CREATE.$in_hq.chx.out.$id.hq", accounts: [HQ] }
    { service: "\$JS.$id.API.CONSUMER.DELETE.$in_hq", accounts: [HQ] }
    { service: "\$JS.$id.API.CONSUMER.INFO.$in_hq", accounts: [HQ] }
    { service: "\$JS.$id.API.CONSUMER.MSG.NEXT.$in_hq", accounts: [HQ], response_type: stream }
    { service: "\$JS.ACK.$in_hq.>", accounts: [HQ] }
    # headquarters' requests to this mission's gateway
    { service: "chx.req.$id", accounts: [HQ] }
  ]
  imports: [
    { service: { account: HQ, subject: "\$JS.API.CONSUMER.CREATE.$in_m.chx.out.hq.$id" } }
    { service: { account: HQ, subject: "\$JS.API.CONSUMER.DELETE.$in_m" } }
    { service: { account: HQ, subject: "\$JS.API.CONSUMER.INFO.$in_m" } }
    { service: { account: HQ, subject: "\$JS.API.CONSUMER.MSG.NEXT.$in_m" } }
    { service: { account: HQ, subject: "\$JS.ACK.$in_m.>" } }
    { service: { account: HQ, subject: "chx.req.hq" } }
    { service: { account: HQ, subject: "chx.conf.get" } }
    { stream: { account: HQ, subject: "chx.conf" } }
  ]
}
# --- $id: add to HQ's exports ---
    { service: "\$JS.API.CONSUMER.CREATE.$in_m.chx.out.hq.$id", accounts: [$acct] }
    { service: "\$JS.API.CONSUMER.DELETE.$in_m", accounts: [$acct] }
    { service: "\$JS.API.CONSUMER.INFO.$in_m", accounts: [$acct] }
    { service: "\$JS.API.CONSUMER.MSG.NEXT.$in_m", accounts: [$acct], response_type: stream }
    { service: "\$JS.ACK.$in_m.>", accounts: [$acct] }
# --- $id: add to HQ's imports ---
    { service: { account: $acct, subject: "\$JS.$id.API.CONSUMER.CREATE.$in_hq.chx.out.$id.hq" } }
    { service: { account: $acct, subject: "\$JS.$id.API.CONSUMER.DELETE.$in_hq" } }
    { service: { account: $acct, subject: "\$JS.$id.API.CONSUMER.INFO.$in_hq" } }
    { service: { account: $acct, subject: "\$JS.$id.API.CONSUMER.MSG.NEXT.$in_hq" } }
    { service: { account: $acct, subject: "\$JS.ACK.$in_hq.>" } }
    { service: { account: $acct, subject: "chx.req.$id" } }
# --- $id: add to leafnodes.authorization.users (common.conf) ---
      { user: "$id", password: \$$var, account: $acct }
# --- $id: and the password to /etc/nats/nats.env: $var=\$(openssl rand -base64 24)
CONF
