//! Keeping the process's resident memory close to what it holds. A book of 100,000 WABAs is
//! read page by page on several threads every round: with glibc's default of one allocation
//! arena per thread (up to 8 per core), and freed pages kept for reuse, the resident set grows
//! far beyond the live model. Two arenas, and handing free pages back once a round is done,
//! keep it near the model's size (README, Performance). Elsewhere these are no-ops.

/// Blocks of this size and more get their own mapping, handed back whole when freed.
const OWN_MAPPING_FROM: i32 = 128 * 1024;

/// At most two allocation arenas, and large blocks always in their own mapping. Call first
/// thing in `main`, before any thread starts.
///
/// glibc raises its mapping threshold (up to 32 MB) each time a mapped block is freed, after
/// which a round's large transient blocks (page bodies, vectors of a whole list) come from the
/// heap and leave holes between the long-lived model's small blocks. Fixed at 128 KB, by hand
/// at 100,000 WABAs: 151 → 136 MB resident for the same 122 MB in use.
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only sets allocator parameters; called before other threads exist.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
        libc::mallopt(libc::M_MMAP_THRESHOLD, OWN_MAPPING_FROM);
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
