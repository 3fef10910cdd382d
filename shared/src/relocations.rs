//! The binary's relocation table, handed back once the loader has applied it.
//!
//! A position-independent binary carries a table of the pointers the loader
//! must fix up for the address it was loaded at (`.rela.dyn`: 18,033 entries,
//! 435,504 bytes in directory-me). The loader reads the whole table before
//! `main` and never again: every entry of it is applied at load (`BIND_NOW`;
//! lazy binding uses `.rela.plt`, not this table). Yet its pages stay mapped
//! for the life of the process and count in its resident set: about 7% of a
//! function's peak RSS, the largest single thing in it that does no work.
//!
//! `madvise(MADV_DONTNEED)` unmaps them. They are clean pages of the binary's
//! read-only segment, so nothing is lost: a later read (none is expected)
//! would bring them back from the file. A non-PIE link would remove the
//! table (and give up address randomisation of the code), and packed
//! relocations would shrink it (they need glibc 2.36; Amazon Linux 2023 has
//! 2.34); docs/performance.md, runs 10 and 16.
//!
//! Written by hand over `dl_iterate_phdr`: no crate does this, and it is
//! the program headers and the dynamic section, read as the loader left them.

/// Unmaps the pages wholly inside the running binary's relocation table;
/// returns how many bytes that was (0 when there is no table, or it is not
/// where a loader would have read it from: in a read-only segment).
pub fn release() -> usize {
    match table() {
        Some(table) => unmap_whole_pages(table),
        None => 0,
    }
}

/// Where the relocation table is mapped: start address and length.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn table() -> Option<(usize, usize)> {
    use std::ffi::c_void;
    use std::os::raw::c_int;

    use libc::{PF_R, PT_DYNAMIC, PT_LOAD};
    // libc has the program header's constants but not the dynamic section's.
    const DT_NULL: i64 = 0;
    const DT_RELA: i64 = 7;
    const DT_RELASZ: i64 = 8;

    /// An entry of the dynamic section (Elf64_Dyn).
    #[repr(C)]
    struct Dyn {
        tag: i64,
        value: u64,
    }

    unsafe extern "C" fn main_program(
        info: *mut libc::dl_phdr_info,
        _size: usize,
        found: *mut c_void,
    ) -> c_int {
        // SAFETY: the loader hands a valid description of a loaded object
        // whose program headers and dynamic section are mapped; `found` is
        // the Option below, which outlives the call.
        unsafe {
            let info = &*info;
            let found = &mut *(found as *mut Option<(usize, usize)>);
            let base = info.dlpi_addr as usize;
            let headers = std::slice::from_raw_parts(info.dlpi_phdr, info.dlpi_phnum as usize);
            let Some(dynamic) = headers.iter().find(|h| h.p_type == PT_DYNAMIC) else {
                return 1;
            };
            let (mut rela, mut size) = (0usize, 0usize);
            let mut entry = (base + dynamic.p_vaddr as usize) as *const Dyn;
            while (*entry).tag != DT_NULL {
                match (*entry).tag {
                    DT_RELA => rela = (*entry).value as usize,
                    DT_RELASZ => size = (*entry).value as usize,
                    _ => {}
                }
                entry = entry.add(1);
            }
            // glibc rewrites the address to where the table is mapped; a
            // loader that does not leaves the link-time address.
            if rela != 0 && rela < base {
                rela += base;
            }
            let read_only_segment = headers.iter().any(|h| {
                let start = base + h.p_vaddr as usize;
                h.p_type == PT_LOAD
                    && h.p_flags == PF_R
                    && start <= rela
                    && rela + size <= start + h.p_memsz as usize
            });
            if size > 0 && read_only_segment {
                *found = Some((rela, size));
            }
        }
        // The main program comes first; the libraries are not ours to touch.
        1
    }

    let mut found: Option<(usize, usize)> = None;
    // SAFETY: the callback only reads what the loader describes and writes
    // `found`, which lives across the call.
    unsafe {
        libc::dl_iterate_phdr(
            Some(main_program),
            &mut found as *mut Option<(usize, usize)> as *mut c_void,
        );
    }
    found
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn table() -> Option<(usize, usize)> {
    None
}

/// The pages wholly inside `start..start + len`: the table's first and last
/// pages may hold other sections, which stay.
pub(crate) fn whole_pages((start, len): (usize, usize), page: usize) -> Option<(usize, usize)> {
    let first = start.div_ceil(page) * page;
    let end = (start + len) / page * page;
    (end > first).then(|| (first, end - first))
}

#[cfg(unix)]
pub(crate) fn unmap_whole_pages(table: (usize, usize)) -> usize {
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    let Some((first, len)) = whole_pages(table, page.max(4096) as usize) else {
        return 0;
    };
    // SAFETY: the range is whole pages of the binary's read-only mapping,
    // which nothing writes; dropping them only makes the next read fault
    // them in again from the file.
    let done = unsafe { libc::madvise(first as *mut libc::c_void, len, libc::MADV_DONTNEED) };
    if done == 0 { len } else { 0 }
}

#[cfg(not(unix))]
pub(crate) fn unmap_whole_pages(_table: (usize, usize)) -> usize {
    0
}

#[cfg(test)]
pub(crate) mod tests;
