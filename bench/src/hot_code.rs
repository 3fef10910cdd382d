//! Hot code first: the linker script `functions/hot-code.ld`, which puts
//! the functions that ran while the benchmark drove each Lambda function
//! into one output section (`.text.hot`) ahead of the rest of `.text`.
//!
//! Why: a function's peak memory is mostly its own code pages, and the
//! kernel maps file pages in 64 KiB windows around each fault. The code a
//! request runs is about a third of `.text`, but spread over nearly every
//! window of it, so nearly all of `.text` became resident (run 11:
//! 3.9 MiB of directory-me's 4.4 MB). Linked together, it fills few
//! windows. Nothing changes in what the code does.
//!
//! `scripts/hot-code` runs every function under callgrind (symbols kept,
//! otherwise the release build) and hands its dumps here. The patterns
//! leave out what differs between builds and targets (the hash of a
//! legacy Rust symbol, a crate's disambiguator in a v0 symbol, LTO's
//! `.llvm.N` suffix), so one script serves the x86_64 build the benchmark
//! measures and the arm64 build that is deployed. A function added since
//! the last profile still links; its own code is just not placed first.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

/// The names of the functions that ran, from callgrind's output files:
/// those whose object is under `binaries` (the Lambda functions; not the C
/// library or the dynamic loader).
pub fn executed_functions(
    dumps: impl IntoIterator<Item = String>,
    binaries: &Path,
) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for dump in dumps {
        // Names are compressed per file: `ob=(3) /path` defines object 3,
        // a later `ob=(3)` refers to it; functions likewise.
        let mut objects: HashMap<String, String> = HashMap::new();
        let mut functions: HashMap<String, String> = HashMap::new();
        let mut object = String::new();
        for line in dump.lines() {
            if let Some(spec) = line.strip_prefix("ob=") {
                object = resolve(spec, &mut objects);
            } else if let Some(spec) = line.strip_prefix("fn=") {
                let name = resolve(spec, &mut functions);
                if object == UNKNOWN_OBJECT || Path::new(&object).starts_with(binaries) {
                    names.insert(without_recursion_mark(&name).to_string());
                }
            } else if let Some(spec) = line.strip_prefix("cob=") {
                // A callee's names are defined in the same tables; the
                // callee itself appears as `fn=` where its own cost is.
                resolve(spec, &mut objects);
            } else if let Some(spec) = line.strip_prefix("cfn=") {
                resolve(spec, &mut functions);
            }
        }
    }
    names
}

/// Valgrind reads a binary's code range from its `.text`: functions a
/// script already placed in `.text.hot` keep their names but lose their
/// object. Names from elsewhere only match no section of ours.
const UNKNOWN_OBJECT: &str = "???";

/// `(id) name` defines `id`; `(id)` refers to it; a bare name is itself.
fn resolve(spec: &str, table: &mut HashMap<String, String>) -> String {
    match spec.strip_prefix('(').and_then(|s| s.split_once(')')) {
        Some((id, rest)) => {
            let name = rest.trim_start();
            if name.is_empty() {
                table.get(id).cloned().unwrap_or_default()
            } else {
                table.insert(id.to_string(), name.to_string());
                name.to_string()
            }
        }
        None => spec.to_string(),
    }
}

/// Callgrind names a recursive call's deeper levels `f'2`, `f'3`.
fn without_recursion_mark(name: &str) -> &str {
    match name.rsplit_once('\'') {
        Some((base, level)) if level.chars().all(|c| c.is_ascii_digit()) => base,
        _ => name,
    }
}

/// A symbol as a section-name pattern that matches it in any build:
/// `None` for what no section is named after (an address, a name with
/// characters the linker reads as pattern syntax).
pub fn pattern(symbol: &str) -> Option<String> {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_$.".contains(c);
    if symbol.is_empty() || symbol.starts_with("0x") || !symbol.chars().all(plain) {
        return None;
    }
    let (symbol, llvm_suffix) = without_local_suffix(symbol);
    let symbol = if let Some(rest) = aws_lc_unversioned(symbol) {
        format!("aws_lc_*_{}*", without_cpu_variant(rest))
    } else if symbol.starts_with("_ZN") {
        legacy_without_hash(symbol)
    } else if symbol.starts_with("_R") {
        v0_without_disambiguators(symbol)
    } else {
        symbol.to_string()
    };
    Some(format!("{symbol}{llvm_suffix}"))
}

/// LTO renames what it made local: `name.llvm.123` when promoted, `name.57`
/// when two local functions share a name. The number differs per build.
fn without_local_suffix(symbol: &str) -> (&str, &'static str) {
    if let Some(i) = symbol.find(".llvm.") {
        return (&symbol[..i], ".llvm.*");
    }
    match symbol.rsplit_once('.') {
        Some((name, n)) if !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()) => (name, "*"),
        _ => (symbol, ""),
    }
}

/// aws-lc prefixes its C symbols with its version (`aws_lc_0_47_0_`).
fn aws_lc_unversioned(symbol: &str) -> Option<&str> {
    let mut rest = symbol.strip_prefix("aws_lc_")?;
    for _ in 0..3 {
        let digits = rest.find(|c: char| !c.is_ascii_digit())?;
        rest = rest[digits..].strip_prefix('_').filter(|_| digits > 0)?;
    }
    Some(rest)
}

/// aws-lc picks an implementation by the CPU at run time (`_avx2`,
/// `_nohw`, s2n-bignum's `_alt`), and callgrind's CPU is not the one the
/// function runs on: every variant of a routine that ran is placed.
const CPU_VARIANTS: [&str; 10] = [
    "_nohw", "_hw", "_avx512", "_avx2", "_avx", "_ssse3", "_shaext", "_neon", "_armv8", "_alt",
];

fn without_cpu_variant(routine: &str) -> &str {
    CPU_VARIANTS
        .iter()
        .find_map(|v| routine.strip_suffix(v))
        .unwrap_or(routine)
}

/// `..17h0123456789abcdefE` (the hash of the crate and instance) to `17h*E`.
fn legacy_without_hash(symbol: &str) -> String {
    let hash_len = "17h".len() + 16 + "E".len();
    if symbol.len() > hash_len {
        let (path, hash) = symbol.split_at(symbol.len() - hash_len);
        let is_hash = hash.starts_with("17h")
            && hash.ends_with('E')
            && hash[3..19].chars().all(|c| c.is_ascii_hexdigit());
        if is_hash {
            return format!("{path}17h*E");
        }
    }
    symbol.to_string()
}

/// A v0 crate root `Cs<base62>_<len><name>`: its disambiguator to `*`.
fn v0_without_disambiguators(symbol: &str) -> String {
    let mut out = String::with_capacity(symbol.len());
    let mut rest = symbol;
    while let Some(i) = rest.find("Cs") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let digits = after
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(after.len());
        let crate_name_follows = after[digits..].starts_with('_')
            && after[digits + 1..].starts_with(|c: char| c.is_ascii_digit());
        if digits > 0 && crate_name_follows {
            out.push_str("Cs*_");
            rest = &after[digits + 1..];
        } else {
            out.push_str("Cs");
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// The linker script: one output section of the executed functions'
/// sections (LLVM puts a cold function in `.text.unlikely.<name>`),
/// inserted before `.text`, so the default layout stays as it is.
pub fn linker_script(executed: &BTreeSet<String>, profiled: &[String]) -> String {
    let patterns: BTreeSet<String> = executed.iter().filter_map(|s| pattern(s)).collect();
    let mut s = String::new();
    s.push_str(&format!(
        "/* Written by scripts/hot-code; do not edit. The code that ran while the\n   benchmark drove {} functions ({}), linked\n   first: see bench/src/hot_code.rs. {} patterns. */\n",
        profiled.len(),
        profiled.join(", "),
        patterns.len()
    ));
    s.push_str("SECTIONS\n{\n  .text.hot :\n  {\n");
    // What runs first in every process: the C runtime's entry point and
    // the libraries' constructors.
    s.push_str("    *crt1.o(.text)\n    *(.text.startup .text.startup.*)\n");
    for p in &patterns {
        s.push_str(&format!("    *(.text.{p} .text.unlikely.{p})\n"));
        // aws-lc's assembly has no section per routine: each s2n-bignum
        // routine is a file of its own name.
        if let Some(routine) = p.strip_prefix("aws_lc_*_") {
            s.push_str(&format!("    *{routine}.o(.text)\n"));
        }
    }
    s.push_str("  }\n}\nINSERT BEFORE .text;\n");
    s
}

/// The size of a binary's `.text.hot` section; `None` when it has none
/// (linked without the script) or is not an ELF file.
pub fn hot_section_bytes(binary: &Path) -> Option<u64> {
    use object::{Object, ObjectSection};
    let data = std::fs::read(binary).ok()?;
    let file = object::File::parse(&*data).ok()?;
    file.section_by_name(".text.hot").map(|s| s.size())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DUMP: &str = "\
version: 1
creator: callgrind-3.22.0
events: Ir
ob=(1) /work/target/hot-code/release/directory-me
fl=(1) ???
fn=(1) _ZN7skolnav6lambda8run_http17h0123456789abcdefE
0 12
cob=(2) /usr/lib/x86_64-linux-gnu/libc.so.6
cfn=(2) memcpy
calls=1 0
0 40
fn=(3) _ZN5tokio7runtime4park17hfedcba9876543210E'2
0 3
ob=(3) ???
fn=(4) _ZN7skolnav3api8dispatch17h0011223344556677E
0 9
ob=(2)
fn=(2)
0 40
ob=(1)
fn=(1)
0 5
";

    #[test]
    fn only_functions_of_the_profiled_binaries_or_of_no_known_object_count_as_executed() {
        let names = executed_functions(
            [DUMP.to_string()],
            Path::new("/work/target/hot-code/release"),
        );
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "_ZN5tokio7runtime4park17hfedcba9876543210E",
                "_ZN7skolnav3api8dispatch17h0011223344556677E",
                "_ZN7skolnav6lambda8run_http17h0123456789abcdefE",
            ]
        );
    }

    #[test]
    fn a_legacy_symbol_matches_whatever_its_hash() {
        assert_eq!(
            pattern("_ZN7skolnav6lambda8run_http17h0123456789abcdefE").as_deref(),
            Some("_ZN7skolnav6lambda8run_http17h*E")
        );
        assert_eq!(
            pattern("_ZN4core3fmt5write17h0123456789abcdefE.llvm.1234567").as_deref(),
            Some("_ZN4core3fmt5write17h*E.llvm.*")
        );
    }

    #[test]
    fn a_function_lto_made_local_matches_whatever_its_number() {
        assert_eq!(
            pattern("_RNvNtNtCsgEmfK2I1SDS_4core9core_arch3x865xsave7__xgetbv.2419").as_deref(),
            Some("_RNvNtNtCs*_4core9core_arch3x865xsave7__xgetbv*")
        );
        assert_eq!(
            pattern("_ZN4core3ptr13drop_in_place$LT$core..fmt..Arguments$GT$17h0123456789abcdefE")
                .as_deref(),
            Some("_ZN4core3ptr13drop_in_place$LT$core..fmt..Arguments$GT$17h*E"),
            "the dots inside a legacy path are not a suffix"
        );
    }

    #[test]
    fn a_v0_symbol_matches_whatever_its_crates_disambiguators() {
        assert_eq!(
            pattern("_RNvNtNtCsjrHSEGnQ3l9_3std6thread7current12init_current").as_deref(),
            Some("_RNvNtNtCs*_3std6thread7current12init_current")
        );
        assert_eq!(
            pattern("_RINvNtCs6d7GoaNTBIz_10std_detectCsgEmfK2I1SDS_4core").as_deref(),
            Some("_RINvNtCs*_10std_detectCs*_4core")
        );
    }

    #[test]
    fn names_no_section_carries_are_left_out() {
        assert_eq!(pattern("0x0000000000003410"), None);
        assert_eq!(pattern("(below main)"), None);
        assert_eq!(pattern("weird[name]"), None);
        assert_eq!(
            pattern("CRYPTO_load_u64_le").as_deref(),
            Some("CRYPTO_load_u64_le")
        );
    }

    #[test]
    fn an_aws_lc_routine_also_places_its_assembly_file() {
        let executed: BTreeSet<String> = ["aws_lc_0_47_0_bignum_mod_n25519_alt".to_string()].into();
        let script = linker_script(&executed, &["directory-me".to_string()]);
        assert!(script.contains("    *(.text.aws_lc_*_bignum_mod_n25519* .text.unlikely.aws_lc_*_bignum_mod_n25519*)\n"), "{script}");
        assert!(
            script.contains("    *bignum_mod_n25519*.o(.text)\n"),
            "{script}"
        );
    }

    #[test]
    fn an_aws_lc_symbol_matches_whatever_its_version() {
        assert_eq!(
            pattern("aws_lc_0_47_0_sha256_block_data_order").as_deref(),
            Some("aws_lc_*_sha256_block_data_order*")
        );
        assert_eq!(
            pattern("aws_lc_0_47_0_sha512_block_data_order_avx").as_deref(),
            Some("aws_lc_*_sha512_block_data_order*"),
            "the run's CPU chose avx; another picks nohw or avx2"
        );
        assert_eq!(pattern("aws_lc_x_y").as_deref(), Some("aws_lc_x_y"));
    }

    #[test]
    fn the_script_places_each_function_and_its_cold_part_before_text() {
        let executed: BTreeSet<String> = [
            "_ZN1a1f17h0123456789abcdefE".to_string(),
            "_ZN1a1f17hfedcba9876543210E".to_string(),
            "0x1234".to_string(),
        ]
        .into();
        let script = linker_script(&executed, &["directory-me".to_string()]);
        assert!(script.contains("    *(.text._ZN1a1f17h*E .text.unlikely._ZN1a1f17h*E)\n"));
        assert_eq!(script.matches("*(.text._ZN").count(), 1, "{script}");
        assert!(script.contains("1 patterns"));
        assert!(script.contains("    *crt1.o(.text)\n"));
        assert!(script.trim_end().ends_with("INSERT BEFORE .text;"));
    }
}
