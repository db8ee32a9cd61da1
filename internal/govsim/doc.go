// Package govsim holds simulators of the outside systems Chancery works with in
// demo mode: two government systems its data exchange connects to as
// members, and a payment gateway. They are
// simulators, named so in code, on the wire and on screen; they hold
// fictional data and are not the real systems.
//
//   - The National Population Database simulator (Bộ Công an, Cơ sở dữ liệu
//     quốc gia về dân cư) answers synchronous lookups of citizens by their
//     12-digit identity number: GET {PopulationURL}/v1/citizens/{id}.
//   - The National Public Service Portal simulator (Văn phòng Chính phủ,
//     Cổng Dịch vụ công quốc gia) receives asynchronous dossier status
//     updates: POST {NationalPortalURL}/v1/dossier-statuses.
//   - The payment gateway simulator (Cổng thanh toán (mô phỏng)) takes
//     orders for fees (POST {PaymentURL}/v1/orders), shows a checkout page
//     (/v1/checkout/{order}) and reports each payment to the merchant with
//     a signed callback (internal/payment).
//
// Start serves all three on one loopback listener of their own, never on
// Chancery's public router: a population database must not be reachable
// from the internet. Only the staff console's page of what the national
// portal simulator received (see Handler) joins Chancery's router. In this
// package "portal" always means the National Public Service Portal (the
// national portal), never Chancery's own public site.
package govsim
