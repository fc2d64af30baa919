//! The integration tests: one binary (one link on a small CI machine), one module per area.

mod app_update;
mod bsp;
mod client_against_sim;
mod client_credit;
mod client_wabas;
mod common;
mod credit_flow;
mod credit_update;
mod e2e_pty;
mod events_cli;
mod fault_matrix;
mod fuzz_props;
mod graph_client;
mod hostile_answers;
mod partner_kind;
mod process_hygiene;
mod sim_solutions;
mod snapshot_cli;
mod store;
mod terminal_process;
mod tp_console;
mod ui_credit;
mod ui_render;
mod waba_update;
mod webhooks;
mod webhooks_sim;
