//! Keeping the process's resident memory close to what it holds. A book of 100,000 WABAs is
//! read page by page on several threads every round: with glibc's default of one allocation
//! arena per thread (up to 8 per core), and freed pages kept for reuse, the resident set grows
//! far beyond the live model. Two arenas, and handing free pages back once a round is done,
//! keep it near the model's size (README, Performance). Elsewhere these are no-ops.

/// At most two allocation arenas. Call first thing in `main`, before any thread starts.
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only sets an allocator parameter; called before other threads exist.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// Give the pages the allocator holds free back to the system (a round's transient buffers).
/// Walks the heap once: call after a round, not per message.
pub fn return_free_pages() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` is thread-safe and only releases memory no allocation uses.
    unsafe {
        libc::malloc_trim(0);
    }
}
