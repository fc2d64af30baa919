//! partnerdeck: a terminal console for WhatsApp Business Platform partner operations.

// `GraphError` carries Meta's whole error (code, subcode, trace id, messages, retry hint) by
// contract; it is returned once per network call, so its size does not matter.
#![allow(clippy::result_large_err)]

pub mod app;
pub mod audit;
pub mod bsp;
pub mod cli;
pub mod config;
pub mod domain;
pub mod effects;
pub mod events_cli;
pub mod graph;
pub mod logging;
pub mod memory;
pub mod pacing;
pub mod runtime;
pub mod snapshot;
pub mod store;
pub mod term;
pub mod text;
pub mod ui;
pub mod webhooks;
