// Package operations is the operations view of the ministry (issue 15,
// item 4): per ministry, unit and mission, the indicators that matter —
// dossiers received, resolved and overdue, the Decision 766 indices,
// leadership tasks, reports outstanding, the exchange link and its
// backlog, security alerts — with weekly trends, a world map of the
// missions coloured by status, and a weekly brief per unit as a PDF.
//
// The figures come from a Source (the capabilities' own tables now,
// the analytics store's fact tables where they serve); who sees which
// unit's figures, and which classified figures, is decided by authz
// (KindOperations): an officer sees their own unit, a leader every unit
// and the ministry; another unit answers as a missing one.
package operations
