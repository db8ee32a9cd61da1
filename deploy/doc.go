// Package deploy holds what an operator needs to run Chancery in production
// — systemd units, a container image, the NATS cluster's configuration,
// HAProxy, PostgreSQL settings, backup and restore scripts and the runbook
// (RUNBOOK.md) — and, in its tests, the checks that keep them true to the
// program: flags chancery knows, configuration nats-server and HAProxy
// accept, shell scripts bash parses.
package deploy
