//! partnerdeck: a terminal console for WhatsApp Business Platform partner operations.

pub mod audit;
pub mod cli;
pub mod config;
pub mod graph;
