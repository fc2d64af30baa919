//! The Graph API: typed models, and (in the client modules) HTTP, auth, errors and paging.
//! Nothing here knows about the app, the screen or the settings: it depends on no other module
//! of the crate.

pub mod client;
pub mod credit;
pub mod credit_model;
pub mod error;
pub mod model;
pub mod packed;
pub mod paging;
pub mod secret;
pub mod solutions;
pub mod waba_model;
pub mod wabas;

pub use client::{BatchGet, ClientConfig, GraphClient, MutationResponse, Usage};
pub use error::{ErrorKind, GraphError};
pub use secret::Token;
