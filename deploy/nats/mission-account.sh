#!/usr/bin/env bash
# Prints the NATS account of one mission node, and the lines headquarters'
# account needs for it, for deploy/nats/accounts.conf.
#
#   deploy/nats/mission-account.sh mission-fr-paris '$2a$10$…'
#
# The node id is the one headquarters assigned at enrolment (console,
# Exchange → Nodes); it is also the mission's JetStream domain. The subjects
# are those Chancery's own leaf hub grants a mission (internal/exchange
# leafGrants, between headquarters and the mission): its consumer on
# headquarters' EXCHANGE stream, headquarters' consumer on its stream, the
# gateway requests both ways, and the global configuration.
#
# The mission never reaches headquarters' JetStream API to create its
# consumer: an export of that subject would fix the consumer's name and
# filter but not the rest of its configuration (a hostile mission could
# point a push consumer into HQ's account). Instead the mission's account
# maps the creation subject onto chx.hub.create.hq.<id>, which it imports
# from HQ, who exports it to that account alone; headquarters' replicas
# answer it and create the consumer the transport uses, whatever the
# request says (internal/exchange createForLeaf).
#
# The second argument is the bcrypt hash of the leaf password enrolment
# gave the mission (headquarters keeps only the hash: the leaf_hash of the
# mission's exchange.enrol event, console: Audit; it starts with $2a$).
# The leaf user goes into the mission's own account, limited to leaf
# connections, with the hash written in the file: nats-server cannot
# reload a change of leafnodes.authorization's users, nor read a variable
# added to its environment after it started, so either would need a
# restart of every node; an account's users reload (internal/system
# TestAMissionAccountIsAddedByAReload). Two steps, each a reload of every
# node: first the account and HQ's exports to it, then HQ's imports from
# it. nats-server (v2.15.2) subscribes an account's service imports on a
# reload only if the account existed before it (server.go
# configureAccounts), so a new mission's link binds after the first reload
# but its imports are served from the second
# (TestAMissionReachesItsConsumersAcrossAReload); and a node that does not
# know the account yet when another node, already reloaded, serves
# headquarters a request through an import from it drops that node's
# subscription for the replies, for good: the mission's answers through
# it are lost until a restart
# (TestAMissionAccountReachesEveryServerBeforeHeadquartersImportsIt). The hash
# of 192 random bits tells nobody the password. Without it, the account is
# printed without its leaf user, which the mission then cannot join.
set -euo pipefail
id=${1:?usage: mission-account.sh NODE_ID [LEAF_HASH]}
hash=${2:-}
case $id in
  *[!A-Za-z0-9_-]*) echo "node id $id: only letters, digits, - and _ fit a NATS subject token as Chancery writes it" >&2; exit 2 ;;
esac
if [ -n "$hash" ] && ! printf %s "$hash" | grep -Eq '^\$2[abxy]\$[0-9]{2}\$[./A-Za-z0-9]{53}$'; then
  echo "leaf hash of $id: not a bcrypt hash (\$2a\$, its cost, \$ and 53 characters): copy the leaf_hash of the mission's exchange.enrol event" >&2; exit 2
fi
if [ -n "$hash" ]; then
  users="  users: [ { user: \"$id\", password: \"$hash\", allowed_connection_types: [\"LEAFNODE\"] } ]"
else
  users="  # users: none yet: run again with the leaf_hash of the mission's enrolment"
fi
acct=MISSION_$(printf %s "$id" | sed 's/^mission-//; s/-/_/g' | tr a-z A-Z)
in_m="EXCHANGE.in-$id~hq"   # the mission's consumer on headquarters' stream
in_hq="EXCHANGE.in-hq~$id"  # headquarters' consumer on the mission's stream

cat <<CONF
# --- $id: paste into the accounts block ---
$acct: {
  # the mission's leaf link, bound to this account; leaf connections only
$users
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
  # its consumer's creation, as the mission asks for it in headquarters'
  # domain or after the domain's mapping, goes to headquarters' replicas;
  # the rest of its consumer's API, asked for in headquarters' domain, to
  # the imports below. nats-server adds such mappings itself when the
  # leaf joins, but a reload drops them (the configuration's replace
  # the account's): these are in the configuration.
  mappings: {
    "\$JS.hq.API.CONSUMER.CREATE.$in_m.chx.out.hq.$id": "chx.hub.create.hq.$id"
    "\$JS.API.CONSUMER.CREATE.$in_m.chx.out.hq.$id": "chx.hub.create.hq.$id"
    "\$JS.hq.API.CONSUMER.DELETE.$in_m": "\$JS.API.CONSUMER.DELETE.$in_m"
    "\$JS.hq.API.CONSUMER.INFO.$in_m": "\$JS.API.CONSUMER.INFO.$in_m"
    "\$JS.hq.API.CONSUMER.MSG.NEXT.$in_m": "\$JS.API.CONSUMER.MSG.NEXT.$in_m"
  }
  imports: [
    # The account has no JetStream, so nats-server would import all of
    # \$JS.API.> from the system account into it, to answer "JetStream not
    # enabled for account" -- to the requests for the mission's consumer
    # too, ahead of headquarters' answer (two responders, the first wins).
    # It does not when the account imports \$JS.API.INFO from elsewhere:
    # from headquarters' chx.hub.nojs, which nobody answers.
    { service: { account: HQ, subject: "chx.hub.nojs" }, to: "\$JS.API.INFO" }
    { service: { account: HQ, subject: "chx.hub.create.hq.$id" } }
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
    { service: "chx.hub.create.hq.$id", accounts: [$acct] }
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
# --- $id: then: 1. the account and HQ's exports (not yet the imports) on every node, and reload every node (nats-server --signal reload, or systemctl reload nats-server) until each log says "Reloaded server configuration"; 2. HQ's imports on every node, and reload every node again
CONF
