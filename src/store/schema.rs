//! The schema, as append-only migrations. Other tools read this database: a released
//! migration is never edited, only followed by a new one (documented in docs/schema.md).

/// Migration `i` brings the database from `user_version = i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    // 1: the spine.
    r#"
CREATE TABLE provincial_dossier (
    dossier_id          TEXT PRIMARY KEY,
    code                TEXT NOT NULL,
    national_code       TEXT,
    local_code          TEXT NOT NULL,
    procedure_code      TEXT,
    procedure_name      TEXT,
    agency_code         TEXT,
    agency_name         TEXT,
    channel             TEXT NOT NULL,
    status_code         INTEGER,
    status_raw          TEXT NOT NULL,
    status_label        TEXT,
    received_at         TEXT,
    due_at              TEXT,
    finished_at         TEXT,
    returned_at         TEXT,
    has_due_date        INTEGER NOT NULL,
    paused_since        TEXT,
    supplement_requests INTEGER,
    handler             TEXT,
    updated_at          TEXT NOT NULL,
    row_hash            TEXT NOT NULL,
    raw_json            TEXT NOT NULL,
    source              TEXT NOT NULL,
    first_seen          TEXT NOT NULL,
    last_seen           TEXT NOT NULL,
    last_changed        TEXT NOT NULL
) STRICT;
CREATE INDEX provincial_dossier_national_code ON provincial_dossier(national_code);
CREATE INDEX provincial_dossier_agency ON provincial_dossier(agency_code);

CREATE TABLE provincial_history (
    id            INTEGER PRIMARY KEY,
    dossier_id    TEXT NOT NULL,
    observed_at   TEXT NOT NULL,
    run_id        INTEGER,
    status_code   INTEGER,
    status_raw    TEXT NOT NULL,
    received_at   TEXT,
    due_at        TEXT,
    finished_at   TEXT,
    returned_at   TEXT,
    updated_at    TEXT NOT NULL,
    row_hash      TEXT NOT NULL
) STRICT;
CREATE INDEX provincial_history_dossier ON provincial_history(dossier_id, id);

CREATE TABLE national_dossier (
    code            TEXT PRIMARY KEY,
    found           INTEGER NOT NULL,
    procedure_code  TEXT,
    status_code     INTEGER,
    status_raw      TEXT,
    received_at     TEXT,
    due_at          TEXT,
    finished_at     TEXT,
    returned_at     TEXT,
    unit_code       TEXT,
    unit_name       TEXT,
    duplicate_rows  INTEGER NOT NULL DEFAULT 0,
    raw_json        TEXT,
    first_seen      TEXT NOT NULL,
    last_lookup_at  TEXT NOT NULL,
    last_changed    TEXT NOT NULL
) STRICT;

CREATE TABLE national_history (
    id           INTEGER PRIMARY KEY,
    code         TEXT NOT NULL,
    observed_at  TEXT NOT NULL,
    run_id       INTEGER,
    found        INTEGER NOT NULL,
    status_code  INTEGER,
    status_raw   TEXT,
    received_at  TEXT,
    due_at       TEXT,
    finished_at  TEXT,
    returned_at  TEXT
) STRICT;
CREATE INDEX national_history_code ON national_history(code, id);

CREATE TABLE lookup_state (
    dossier_id            TEXT PRIMARY KEY,
    code                  TEXT NOT NULL,
    last_attempt_at       TEXT NOT NULL,
    last_outcome          TEXT NOT NULL CHECK (last_outcome IN ('found', 'not_found', 'error')),
    last_error            TEXT,
    last_success_at       TEXT,
    lookups_since_change  INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE sync_run (
    id                  INTEGER PRIMARY KEY,
    job                 TEXT NOT NULL,
    started_at          TEXT NOT NULL,
    finished_at         TEXT,
    outcome             TEXT NOT NULL CHECK (outcome IN ('running', 'ok', 'partial', 'failed')),
    provincial_rows     INTEGER NOT NULL DEFAULT 0,
    provincial_changed  INTEGER NOT NULL DEFAULT 0,
    lookups             INTEGER NOT NULL DEFAULT 0,
    lookup_errors       INTEGER NOT NULL DEFAULT 0,
    opened              INTEGER NOT NULL DEFAULT 0,
    reopened            INTEGER NOT NULL DEFAULT 0,
    resolved            INTEGER NOT NULL DEFAULT 0,
    problems            TEXT NOT NULL DEFAULT '[]',
    error               TEXT
) STRICT;

CREATE TABLE watermark (
    source      TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    run_id      INTEGER,
    updated_at  TEXT NOT NULL
) STRICT;

CREATE TABLE discrepancy (
    id                INTEGER PRIMARY KEY,
    dossier_id        TEXT NOT NULL,
    dossier_code      TEXT NOT NULL,
    kind              TEXT NOT NULL,
    state             TEXT NOT NULL CHECK (state IN ('open', 'acknowledged', 'resolved')),
    severity          TEXT NOT NULL,
    score_impact      REAL NOT NULL DEFAULT 0,
    period            TEXT,
    agency_code       TEXT,
    agency_name       TEXT,
    provincial_value  TEXT NOT NULL,
    national_value    TEXT NOT NULL,
    first_seen        TEXT NOT NULL,
    last_seen         TEXT NOT NULL,
    state_changed_at  TEXT NOT NULL,
    UNIQUE (dossier_id, kind)
) STRICT;
CREATE INDEX discrepancy_state ON discrepancy(state, kind);

CREATE TABLE discrepancy_event (
    id              INTEGER PRIMARY KEY,
    discrepancy_id  INTEGER NOT NULL REFERENCES discrepancy(id),
    at              TEXT NOT NULL,
    event           TEXT NOT NULL CHECK (event IN ('opened', 'acknowledged', 'resolved', 'auto_resolved', 'reopened')),
    actor           TEXT NOT NULL,
    note            TEXT,
    run_id          INTEGER
) STRICT;
CREATE INDEX discrepancy_event_discrepancy ON discrepancy_event(discrepancy_id, id);

CREATE VIEW v_open_discrepancies AS
SELECT d.id, d.dossier_code, d.kind, d.state, d.severity, d.score_impact, d.period,
       d.agency_code, d.agency_name, d.provincial_value, d.national_value,
       d.first_seen, d.last_seen
FROM discrepancy d
WHERE d.state IN ('open', 'acknowledged');

CREATE VIEW v_overdue_provincial AS
SELECT p.code AS dossier_code, p.agency_code, p.agency_name, p.procedure_code, p.status_code,
       p.received_at, p.due_at, p.finished_at,
       CASE WHEN p.finished_at IS NOT NULL THEN 'late' ELSE 'in_process_overdue' END AS category
FROM provincial_dossier p
WHERE p.due_at IS NOT NULL
  AND p.status_code IS NOT NULL AND p.status_code NOT IN (1, 3)
  AND ((p.finished_at IS NOT NULL AND p.finished_at > p.due_at)
       OR (p.finished_at IS NULL AND p.status_code NOT IN (7, 8, 9, 10)
           AND p.due_at < strftime('%Y-%m-%d %H:%M:%S', 'now', '+7 hours')));

CREATE VIEW v_overdue_national AS
SELECT n.code AS dossier_code, n.unit_code, n.unit_name, n.procedure_code, n.status_code,
       n.received_at, n.due_at, n.finished_at,
       CASE WHEN n.finished_at IS NOT NULL THEN 'late' ELSE 'in_process_overdue' END AS category
FROM national_dossier n
WHERE n.found = 1 AND n.due_at IS NOT NULL
  AND (n.status_code IS NULL OR n.status_code NOT IN (1, 3))
  AND ((n.finished_at IS NOT NULL AND n.finished_at > n.due_at)
       OR (n.finished_at IS NULL AND (n.status_code IS NULL OR n.status_code NOT IN (7, 8, 9, 10))
           AND n.due_at < strftime('%Y-%m-%d %H:%M:%S', 'now', '+7 hours')));
"#,
    // 2: published 766 scores and effective-dated agencies.
    r#"
CREATE TABLE published_score (
    id            INTEGER PRIMARY KEY,
    api           TEXT NOT NULL CHECK (api IN ('legacy', 'progress_tree')),
    year          INTEGER NOT NULL,
    month         INTEGER NOT NULL,
    unit_key      TEXT NOT NULL,
    unit_code     TEXT,
    unit_name     TEXT,
    total_received INTEGER,
    total_on_time INTEGER,
    total_overdue INTEGER,
    total_completed INTEGER,
    tdgq_score    REAL,
    max_score     REAL,
    total_score   REAL,
    rank          INTEGER,
    raw_json      TEXT NOT NULL,
    fetched_at    TEXT NOT NULL,
    UNIQUE (api, year, month, unit_key)
) STRICT;

CREATE TABLE agency (
    code            TEXT NOT NULL,
    name            TEXT NOT NULL,
    level           TEXT,
    valid_from      TEXT NOT NULL,
    valid_to        TEXT,
    successor_code  TEXT,
    PRIMARY KEY (code, valid_from)
) STRICT;
"#,
    // 3: freshness figures of a run.
    r#"
ALTER TABLE sync_run ADD COLUMN freshness_p50_s INTEGER;
ALTER TABLE sync_run ADD COLUMN freshness_p95_s INTEGER;
ALTER TABLE sync_run ADD COLUMN budget_used REAL;
"#,
    // 4: each side's timeliness verdict and the rule version, on a discrepancy.
    r#"
ALTER TABLE discrepancy ADD COLUMN provincial_verdict TEXT;
ALTER TABLE discrepancy ADD COLUMN national_verdict TEXT;
ALTER TABLE discrepancy ADD COLUMN rule_version TEXT;
DROP VIEW v_open_discrepancies;
CREATE VIEW v_open_discrepancies AS
SELECT d.id, d.dossier_code, d.kind, d.state, d.severity, d.score_impact, d.period,
       d.agency_code, d.agency_name, d.provincial_value, d.national_value,
       d.first_seen, d.last_seen, d.provincial_verdict, d.national_verdict, d.rule_version
FROM discrepancy d
WHERE d.state IN ('open', 'acknowledged');
"#,
    // 5: incremental reconciliation.
    r#"
CREATE TABLE reconcile_dirty (
    id   INTEGER PRIMARY KEY,
    pid  INTEGER NOT NULL
) STRICT;

CREATE TABLE reconcile_pass (
    id                INTEGER PRIMARY KEY CHECK (id = 1),
    full_at           TEXT NOT NULL,
    basis             TEXT NOT NULL,
    top_pid           INTEGER NOT NULL,
    calendar_problem  TEXT,
    run_id            INTEGER
) STRICT;

ALTER TABLE lookup_state ADD COLUMN row_hash_seen TEXT;
UPDATE lookup_state SET row_hash_seen =
    (SELECT p.row_hash FROM provincial_dossier p WHERE p.dossier_id = lookup_state.dossier_id);

CREATE TABLE month_tally (
    month               TEXT PRIMARY KEY,
    counted             INTEGER NOT NULL,
    early               INTEGER NOT NULL,
    on_time             INTEGER NOT NULL,
    late                INTEGER NOT NULL,
    in_process_in_time  INTEGER NOT NULL,
    in_process_overdue  INTEGER NOT NULL,
    computed_at         TEXT NOT NULL
) STRICT;
"#,
    // 6: the provincial pull's records, and the sweep in progress.
    r#"
CREATE TABLE provincial_pull (
    id              INTEGER PRIMARY KEY,
    run_id          INTEGER NOT NULL,
    source          TEXT NOT NULL,
    mode            TEXT NOT NULL CHECK (mode IN ('incremental', 'sweep')),
    first_page      INTEGER NOT NULL,
    pages           INTEGER NOT NULL,
    refetches       INTEGER NOT NULL,
    rows_read       INTEGER NOT NULL,
    duplicates      INTEGER NOT NULL,
    total_at_start  INTEGER,
    total_at_end    INTEGER,
    reached_end     INTEGER NOT NULL,
    sweep_rows      INTEGER,
    sweep_complete  INTEGER
) STRICT;
CREATE INDEX provincial_pull_run ON provincial_pull(run_id);

CREATE TABLE sweep_cursor (
    source          TEXT PRIMARY KEY,
    started_at      TEXT NOT NULL,
    next_page       INTEGER NOT NULL,
    total_at_start  INTEGER,
    newest          TEXT,
    bad_rows        INTEGER NOT NULL,
    duplicates      INTEGER NOT NULL,
    run_id          INTEGER NOT NULL,
    updated_at      TEXT NOT NULL
) STRICT;
"#,
    // 7: personal data by allowlist. Earlier versions stored each provincial row whole, minus a
    // list of personal-data keys, so a vendor's applicant block under any other name was kept;
    // the national rows kept their fields' values even when nested. Both are emptied: a
    // provincial row's `raw_json` is '' until the pull reads it again (it then holds only the
    // mapped and kept values, and its new row hash replaces the old one quietly when nothing
    // mapped changed), a national row's is NULL until its next look-up. `store::migrate`
    // rebuilds the file after this one (VACUUM), so no freed page keeps the old text.
    r#"
-- scrubs: raw rows
UPDATE provincial_dossier SET raw_json = '';
UPDATE national_dossier SET raw_json = NULL;
"#,
    // 8: a dossier whose look-ups keep failing (the planner backs it off; reported after
    // national.lookup_failing_after_hours).
    r#"
ALTER TABLE lookup_state ADD COLUMN consecutive_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE lookup_state ADD COLUMN failing_since TEXT;
ALTER TABLE lookup_state ADD COLUMN last_error_class TEXT;
CREATE INDEX lookup_state_failing ON lookup_state(failing_since) WHERE consecutive_failures > 0;
"#,
    // 9: an audit trail that holds. A manual event keeps the operating-system user beside
    // `--by` and what the discrepancy showed when the person acted; events are append-only
    // (earlier events keep NULL in the new columns: what was not recorded is not invented).
    r#"
ALTER TABLE discrepancy_event ADD COLUMN os_user TEXT;
ALTER TABLE discrepancy_event ADD COLUMN seen_state TEXT;
ALTER TABLE discrepancy_event ADD COLUMN seen_severity TEXT;
ALTER TABLE discrepancy_event ADD COLUMN seen_score_impact REAL;
ALTER TABLE discrepancy_event ADD COLUMN seen_provincial_value TEXT;
ALTER TABLE discrepancy_event ADD COLUMN seen_national_value TEXT;
CREATE TRIGGER discrepancy_event_no_update BEFORE UPDATE ON discrepancy_event
BEGIN
    SELECT RAISE(ABORT, 'discrepancy_event is append-only: an event is never changed');
END;
CREATE TRIGGER discrepancy_event_no_delete BEFORE DELETE ON discrepancy_event
BEGIN
    SELECT RAISE(ABORT, 'discrepancy_event is append-only: an event is never deleted');
END;
"#,
    // 10: frozen months. When a month closes, its report as it stood then: the figures the
    // document shows (for other tools) and the whole report (`report_json`, the
    // `report::MonthlyReport` as JSON), with the dossiers whose sync faults explained its gap
    // (Phụ lục III). A frozen month is never overwritten.
    r#"
CREATE TABLE frozen_month (
    month                   TEXT PRIMARY KEY,
    frozen_at               TEXT NOT NULL,
    published_score         REAL,
    national_view_score     REAL,
    provincial_view_score   REAL,
    national_average        REAL,
    counted_national        INTEGER NOT NULL,
    counted_provincial      INTEGER NOT NULL,
    report_json             TEXT NOT NULL
);
CREATE TABLE frozen_month_fault (
    month               TEXT NOT NULL REFERENCES frozen_month(month),
    dossier_code        TEXT NOT NULL,
    agency_code         TEXT NOT NULL,
    agency_name         TEXT NOT NULL,
    kind                TEXT NOT NULL,
    provincial_value    TEXT NOT NULL,
    national_value      TEXT NOT NULL,
    points              REAL NOT NULL
);
CREATE INDEX frozen_month_fault_month ON frozen_month_fault(month);
"#,
    // 11: the received and due times by procedure, for inferring a statutory time from the
    // province's own dossiers (docs/domain.md §2): the procedures with a dossier lacking a due
    // date, and each one's latest received dossiers, read from the index alone.
    r#"
CREATE INDEX provincial_dossier_procedure ON provincial_dossier(procedure_code, received_at, due_at);
"#,
    // 12: the facts derived from the provincial status history (docs/domain.md §2), kept at
    // ingest instead of grouping the whole history on every full pass and report: one row per
    // dossier whose history tells more than its row, written with each history row of the
    // dossier. `store::migrate` fills it from the existing history in the same transaction.
    r#"
-- derives: provincial facts
CREATE TABLE provincial_facts (
    dossier_id  TEXT PRIMARY KEY,
    facts       TEXT NOT NULL,
    history_id  INTEGER NOT NULL
) STRICT;
"#,
];

/// The first line of the migration that creates `provincial_facts`: `store::migrate` fills the
/// table from the stored history in the migration's transaction (`history::backfill_facts`).
pub(crate) const DERIVES_PROVINCIAL_FACTS: &str = "-- derives: provincial facts";

/// The first line of a migration that empties stored raw rows (migration 7): after it the
/// database file is rebuilt, and the backup taken before it is said to hold the old rows.
pub(crate) const SCRUBS_RAW_ROWS: &str = "-- scrubs: raw rows";
