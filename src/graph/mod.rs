//! The Graph API: typed models, and (in the client modules) HTTP, auth, errors and paging.
//! Nothing here knows about the screen.

pub mod model;
