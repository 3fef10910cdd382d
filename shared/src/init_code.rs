//! The code only init runs, handed back once init is done.
//!
//! A function's init (reading the environment and the root certificates,
//! building the clients, reading the identity provider's keys) runs code
//! that no invocation runs again: about 200-260 KB in each function, by
//! the benchmark's profile. Placed among the code the invocations run, it
//! stays resident for the life of the process, because the kernel maps
//! code in 64 KiB windows around each fault. So the release build's
//! linker script (functions/hot-code-layout.rs) gathers it in a block of
//! its own, `.text.init`, between the two markers below, and a window's
//! width away from the code invocations run. When init is done, its pages
//! are unmapped, as Linux frees its own `__init` code after boot.
//!
//! Nothing is lost: they are clean pages of the binary's code, so code in
//! them that does run again (say, connecting again after DynamoDB closed
//! the connection) is read back from the file by the fault that reaches it.
//! In a build without the layout (debug, tests) the markers sit wherever
//! the linker put them, and what lies between them is unmapped just as
//! harmlessly.

/// The first thing in the init block.
#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn skolnav_init_code_begin() -> u8 {
    // Different bodies, so the two markers are never merged into one.
    std::hint::black_box(1)
}

/// The last thing in the init block.
#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn skolnav_init_code_end() -> u8 {
    std::hint::black_box(2)
}

/// Where the init block is: its start and length (None when the end
/// marker does not follow the start marker).
pub fn block() -> Option<(usize, usize)> {
    let begin = skolnav_init_code_begin as *const () as usize;
    let end = skolnav_init_code_end as *const () as usize;
    (end > begin).then(|| (begin, end - begin))
}

/// Unmaps the pages wholly inside the init block; returns how many bytes
/// that was.
pub fn release() -> usize {
    block().map_or(0, crate::relocations::unmap_whole_pages)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::relocations::tests::mapped;

    #[test]
    fn the_pages_between_the_markers_are_unmapped_once_released_and_still_run() {
        let page = 4096;
        // The test binary has no layout: the markers are wherever the
        // linker put them, in either order.
        match block().and_then(|b| crate::relocations::whole_pages(b, page)) {
            Some((first, len)) => {
                assert_eq!(release(), len);
                assert!(mapped(first, len).iter().all(|&m| !m), "released");
            }
            None => assert_eq!(release(), 0, "nothing whole to release"),
        }
        // The markers are code at the block's edges: calling them faults
        // their pages back in from the file.
        assert_eq!((skolnav_init_code_begin(), skolnav_init_code_end()), (1, 2));
    }
}
