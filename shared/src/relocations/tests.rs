//! The test binary is position-independent too, with a table of its own.

use super::{release, table, whole_pages};
use std::io::{Read, Seek, SeekFrom};

const PAGE: usize = 4096;

/// Whether each page of `start..start + len` is mapped into this process
/// (`/proc/self/pagemap`, bit 63 of each page's entry).
pub(crate) fn mapped(start: usize, len: usize) -> Vec<bool> {
    let mut pagemap = std::fs::File::open("/proc/self/pagemap").expect("pagemap");
    pagemap
        .seek(SeekFrom::Start((start / PAGE * 8) as u64))
        .expect("seek");
    let mut entries = vec![0u8; len / PAGE * 8];
    pagemap.read_exact(&mut entries).expect("read pagemap");
    entries
        .chunks_exact(8)
        .map(|e| u64::from_le_bytes(e.try_into().expect("8 bytes")) >> 63 == 1)
        .collect()
}

/// Reads every byte of the range (so its pages are mapped) and sums them.
fn checksum(start: usize, len: usize) -> u64 {
    (start..start + len)
        // SAFETY: the range is the loaded binary's relocation table.
        .map(|a| u64::from(unsafe { std::ptr::read_volatile(a as *const u8) }))
        .sum()
}

#[test]
fn the_relocation_tables_pages_are_unmapped_once_released_and_read_back_unchanged() {
    let table = table().expect("a PIE test binary has a relocation table");
    let (first, len) = whole_pages(table, PAGE).expect("the table spans whole pages");
    let before = checksum(table.0, table.1);
    assert!(mapped(first, len).iter().all(|&m| m), "read, so mapped");

    assert_eq!(release(), len);
    assert!(mapped(first, len).iter().all(|&m| !m), "released");

    assert_eq!(
        checksum(table.0, table.1),
        before,
        "the file gives the same table back"
    );
}

#[test]
fn a_table_keeps_the_pages_it_shares_with_other_sections() {
    assert_eq!(
        whole_pages((0x1aa8, 435_504), PAGE),
        Some((0x2000, 0x69000))
    );
    assert_eq!(
        whole_pages((0x2000, 2 * PAGE), PAGE),
        Some((0x2000, 2 * PAGE))
    );
    assert_eq!(whole_pages((0x1aa8, 100), PAGE), None);
    assert_eq!(whole_pages((0x1aa8, PAGE), PAGE), None);
}
