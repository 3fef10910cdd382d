//! Which pages of its own binary a process has mapped, section by section
//! (`SKOLNAV_BENCH_PAGES=DIR`, the warm process as it ends).
//!
//! Why: peak RSS is mostly the function's own code and read-only data, and
//! the kernel maps them 64 KiB around each page read (fault-around), so
//! smaps' totals say how much is mapped but not which data is read. This
//! lists it per section, from `/proc/<pid>/pagemap`. Run with readahead off
//! and the binary out of the page cache, fault-around finds no neighbours
//! to map and the list is exactly the pages read (docs/performance.md,
//! run 20: how to set that up, and what it found).

use std::fmt::Write as _;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

const PAGE: u64 = 4096;
/// Bit 63 of a pagemap entry: the page is present in memory.
const PRESENT: u64 = 1 << 63;

/// One mapping of the binary: where it is in memory, where in the file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mapping {
    pub start: u64,
    pub end: u64,
    pub offset: u64,
}

/// The mappings of `binary` in the text of `/proc/<pid>/maps`.
pub fn mappings_of(maps: &str, binary: &Path) -> Vec<Mapping> {
    let binary = binary.to_string_lossy();
    maps.lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let range = fields.next()?;
            let offset = fields.nth(1)?;
            let path = fields.nth(2)?;
            if path != binary {
                return None;
            }
            let (start, end) = range.split_once('-')?;
            Some(Mapping {
                start: u64::from_str_radix(start, 16).ok()?,
                end: u64::from_str_radix(end, 16).ok()?,
                offset: u64::from_str_radix(offset, 16).ok()?,
            })
        })
        .collect()
}

/// The pages of `mappings` whose pagemap entries (`entry(page address)`)
/// say present, as link-time addresses: a position-independent binary's
/// first mapping (file offset 0) is its load address, where the link put 0.
pub fn present_pages(
    mappings: &[Mapping],
    mut entry: impl FnMut(u64) -> std::io::Result<u64>,
) -> std::io::Result<Vec<u64>> {
    let Some(base) = mappings.iter().find(|m| m.offset == 0).map(|m| m.start) else {
        return Ok(Vec::new());
    };
    let mut pages = Vec::new();
    for m in mappings {
        for page in (m.start..m.end).step_by(PAGE as usize) {
            if entry(page)? & PRESENT != 0 {
                pages.push(page - base);
            }
        }
    }
    Ok(pages)
}

/// KiB mapped of each allocated section of the ELF file `elf`, with its
/// size in KiB; a page two sections share counts for both.
pub fn per_section(elf: &[u8], pages: &[u64]) -> Result<Vec<(String, u64, u64)>, String> {
    use object::{Object, ObjectSection};
    let file = object::File::parse(elf).map_err(|e| e.to_string())?;
    let mut rows = Vec::new();
    for section in file.sections() {
        let (start, size) = (section.address(), section.size());
        if start == 0 || size == 0 {
            continue;
        }
        let first = start / PAGE * PAGE;
        let mapped = pages
            .iter()
            .filter(|&&p| p >= first && p < start + size)
            .count() as u64
            * PAGE
            / 1024;
        let name = section.name().unwrap_or("?").to_string();
        rows.push((name, mapped, size.div_ceil(1024)));
    }
    Ok(rows)
}

/// With `SKOLNAV_BENCH_PAGES=DIR`, writes `DIR/<function>.pages`: KiB
/// mapped per section of the binary process `pid` runs (`bin`, or what its
/// wrapper runs), then each mapped page's link-time address.
pub fn keep(bin: &Path, pid: u32) {
    let Some(dir) = std::env::var_os("SKOLNAV_BENCH_PAGES") else {
        return;
    };
    let name = bin.file_name().unwrap_or_default().to_string_lossy();
    let out = Path::new(&dir).join(format!("{name}.pages"));
    if let Err(e) = write(&pid.to_string(), &out) {
        eprintln!("bench: {}: {e}", out.display());
    }
}

/// The binary process `proc` (a pid, or `self`) runs, and the link-time
/// addresses of its pages present in memory.
fn binary_pages(proc: &str) -> Result<(PathBuf, Vec<u64>), String> {
    let binary: PathBuf =
        std::fs::read_link(format!("/proc/{proc}/exe")).map_err(|e| format!("its binary: {e}"))?;
    let maps = std::fs::read_to_string(format!("/proc/{proc}/maps")).map_err(|e| e.to_string())?;
    let mut pagemap =
        std::fs::File::open(format!("/proc/{proc}/pagemap")).map_err(|e| e.to_string())?;
    let pages = present_pages(&mappings_of(&maps, &binary), |page| {
        let mut entry = [0u8; 8];
        pagemap.seek(SeekFrom::Start(page / PAGE * 8))?;
        pagemap.read_exact(&mut entry)?;
        Ok(u64::from_le_bytes(entry))
    })
    .map_err(|e| format!("pagemap: {e}"))?;
    Ok((binary, pages))
}

fn write(proc: &str, out: &Path) -> Result<(), String> {
    let (binary, pages) = binary_pages(proc)?;
    let elf = std::fs::read(&binary).map_err(|e| format!("{}: {e}", binary.display()))?;
    let mut text = format!(
        "# pages of {} mapped as the process ended\n# section KiB-mapped KiB-in-section\n",
        binary.display()
    );
    for (name, mapped, size) in per_section(&elf, &pages)? {
        let _ = writeln!(text, "{name} {mapped} {size}");
    }
    text.push_str("# page addresses (link-time)\n");
    for page in pages {
        let _ = writeln!(text, "{page:#x}");
    }
    std::fs::create_dir_all(out.parent().unwrap_or(Path::new(".")))
        .and_then(|()| std::fs::write(out, text))
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAPS: &str = "\
55d0a0000000-55d0a0010000 r--p 00000000 fe:00 42 /work/target/release/directory-me
55d0a0010000-55d0a0030000 r-xp 0000f000 fe:00 42 /work/target/release/directory-me
55d0a0030000-55d0a0031000 rw-p 00020000 fe:00 42 /work/target/release/directory-me
7f0000000000-7f0000100000 r-xp 00000000 fe:00 7 /usr/lib/x86_64-linux-gnu/libc.so.6
7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0 [stack]
";

    #[test]
    fn only_the_binarys_own_mappings_are_read_from_the_map() {
        let found = mappings_of(MAPS, Path::new("/work/target/release/directory-me"));
        assert_eq!(found.len(), 3);
        assert_eq!(
            found[1],
            Mapping {
                start: 0x55d0_a001_0000,
                end: 0x55d0_a003_0000,
                offset: 0xf000
            }
        );
    }

    #[test]
    fn present_pages_are_given_at_their_link_address_and_absent_ones_left_out() {
        let found = mappings_of(MAPS, Path::new("/work/target/release/directory-me"));
        let present = [0x55d0_a000_1000u64, 0x55d0_a001_2000, 0x55d0_a003_0000];
        let pages = present_pages(&found, |page| {
            Ok(if present.contains(&page) {
                PRESENT | 77
            } else {
                77
            })
        })
        .expect("pages");
        assert_eq!(pages, vec![0x1000, 0x1_2000, 0x3_0000]);
    }

    #[test]
    fn a_binary_without_a_mapping_at_offset_zero_has_no_pages() {
        let mapping = Mapping {
            start: 0x1000,
            end: 0x3000,
            offset: 0x1000,
        };
        let pages = present_pages(&[mapping], |_| Ok(PRESENT)).expect("pages");
        assert!(pages.is_empty());
    }

    #[test]
    fn this_process_has_the_pages_of_its_running_code_and_not_all_of_its_file() {
        let (binary, pages) = binary_pages("self").expect("pages");
        let elf = std::fs::read(&binary).expect("the test binary");
        let rows = per_section(&elf, &pages).expect("sections");
        let text = rows.iter().find(|r| r.0 == ".text").expect(".text");
        assert!(text.1 > 0, "the code running this test is mapped");
        assert!(
            text.1 < text.2,
            "a debug test binary's {} KiB of code are not all mapped: {} KiB",
            text.2,
            text.1
        );
    }
}
