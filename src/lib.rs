//! partnerdeck: a terminal console for WhatsApp Business Platform partner operations.

pub mod app;
pub mod graph;
pub mod ui;
