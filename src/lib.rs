//! partnerdeck: a terminal console for WhatsApp Business Platform partner operations.

pub mod app;
pub mod audit;
pub mod cli;
pub mod config;
pub mod graph;
pub mod logging;
pub mod runtime;
pub mod snapshot;
pub mod tasks;
pub mod ui;
