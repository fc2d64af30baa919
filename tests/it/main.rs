//! The integration tests: one binary (one link on a small CI machine), one module per area.

mod app_update;
mod client_against_sim;
mod client_credit;
mod client_wabas;
mod common;
mod credit_flow;
mod credit_update;
mod e2e_pty;
mod fault_matrix;
mod fuzz_props;
mod graph_client;
mod hostile_answers;
mod process_hygiene;
mod sim_solutions;
mod snapshot_cli;
mod terminal_process;
mod ui_credit;
mod ui_render;
mod waba_update;
