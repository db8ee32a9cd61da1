// Package analytics is the ministry's data repository: a catalogue of its
// shared datasets, with their quality checks and the last result of each,
// and an analytics store of daily facts that a BI tool can read.
//
// # The analytics store
//
// The Feeder reads the audit ledger's integrated events in sequence
// order: every change a capability commits appends its ledger event in
// the same transaction, so an event exists exactly when its change
// committed. From each event of interest it adds a count to
// analytics_facts, keyed by the day (in the unit's time zone, with a
// working-day flag from the unit's calendar), the unit, the procedure and
// the unit's country. The cursor (analytics_cursor) moves in the
// transaction that adds the counts, so each event is counted once,
// across restarts and replicas. A fresh store catches up from the
// ledger's first event. Counts that no ledger event carries (exchange
// traffic, security alerts, dossiers passing their deadline) are taken
// from their tables by the feeder's sweep, idempotently. Store is the Go
// query API over the facts.
//
// # The BI views
//
// BI tools (Superset, Metabase) read these views, and on PostgreSQL the
// role chancery_bi (NOLOGIN until the operator grants LOGIN) may read
// only them. Their columns are stable; new ones may be added.
//
//   - bi_units: unit_id, unit_code, unit_name_vi, unit_name_en, unit_kind,
//     parent_unit_id, country, timezone, status — the directory of units.
//   - bi_facts: day (YYYY-MM-DD), working_day (1/0), unit_id, unit_code,
//     unit_kind, country, procedure_code, measure, value — one row per
//     day, unit, procedure, country and measure (see Measure).
//   - bi_daily: day, working_day, unit_id, unit_code, country,
//     procedure_code, and one column per measure — bi_facts pivoted.
//   - bi_datasets: dataset_code, name_vi, name_en, description,
//     owner_unit_id, owner_unit_code, classification (0 unclassified to 3
//     top secret), personal_data, source_system, refresh, users, builtin,
//     refreshed_us, updated_us — the catalogue.
//   - bi_dataset_checks: dataset_code, check_name, kind, column_name,
//     threshold, last_run_us, last_ok, last_value, last_detail — quality
//     checks and their last result.
//
// Times ending in _us are microseconds since 1970 UTC.
package analytics
