//! The integration tests: one binary (one link of the library instead of one per file), one
//! module per area. Run one area with `cargo test --test it MODULE` (a name filter), e.g.
//! `cargo test --test it reliability_crash -- --ignored` for the long crash test.
//!
//! The tests share one process, and run in parallel: a test that needs something of the
//! process to itself says how it gets it — log capture goes through [`support::logs`] (one
//! global subscriber, each capture fed by the threads of its own runtime), and nothing sets
//! environment variables, changes the current directory or binds a fixed port (children get
//! their environment per command; servers bind port 0).

mod support;

mod audit_trail;
mod cli;
mod daemon_run;
mod faults_bad_input;
mod faults_matrix;
mod faults_secrets;
mod faults_tls;
mod first_run;
mod health_endpoint;
mod http_bounded;
mod http_logging;
mod http_policy;
mod http_redirects;
mod lookup_failing;
mod national_list;
mod personal_data;
mod probe;
mod provincial_profiles;
mod reconcile_carries;
mod reconcile_cases;
mod reconcile_incremental;
mod reliability_crash;
mod reliability_disk;
mod reliability_readers;
mod report_build;
mod report_cli;
mod report_docx_office;
mod report_frozen;
mod report_html_browser;
mod scores;
mod scores_recalculated;
mod spine;
mod statutory_inference;
mod systemd_unit;
mod vendor_habits;
mod web_browser;
mod web_proxy;
mod web_users;
