//! The Graph API: typed models, and (in the client modules) HTTP, auth, errors and paging.
//! Nothing here knows about the screen.

pub mod client;
pub mod credit;
pub mod credit_model;
pub mod error;
pub mod model;
pub mod paging;
pub mod solutions;
pub mod waba_model;
pub mod wabas;

pub use client::{BatchGet, ClientConfig, GraphClient, MutationResponse, Usage};
pub use error::{ErrorKind, GraphError};
