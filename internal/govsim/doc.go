// Package govsim holds simulators of two outside government systems that
// Chancery's data exchange connects to as members in demo mode. They are
// simulators, named so in code, on the wire and on screen; they hold
// fictional data and are not the real systems.
//
//   - The National Population Database simulator (Bộ Công an, Cơ sở dữ liệu
//     quốc gia về dân cư) answers synchronous lookups of citizens by their
//     12-digit identity number: GET {PopulationURL}/v1/citizens/{id}.
//   - The National Public Service Portal simulator (Văn phòng Chính phủ,
//     Cổng Dịch vụ công quốc gia) receives asynchronous dossier status
//     updates: POST {PortalURL}/v1/dossier-statuses.
//
// Start serves both on one loopback listener of their own, never on
// Chancery's public router: a population database must not be reachable
// from the internet. Only the staff console's page of what the portal
// simulator received (see Handler) joins Chancery's router.
package govsim
