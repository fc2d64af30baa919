//! partnerdeck: a terminal console for WhatsApp Business Platform partner operations.

pub mod graph;
pub mod sim;
