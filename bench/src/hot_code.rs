//! Hot code first: `functions/hot-code.txt`, the code each Lambda function
//! ran while the benchmark drove it, from which the functions' build
//! script links that code into one output section (`.text.hot`) ahead of
//! the rest of `.text` (the format and the script: functions/hot-code-layout.rs).
//!
//! Why: a function's peak memory is mostly its own code pages, and the
//! kernel maps file pages in 64 KiB windows around each fault. The code a
//! request runs is about a third of `.text`, but spread over nearly every
//! window of it, so nearly all of `.text` became resident (run 11:
//! 3.9 MiB of directory-me's 4.4 MB). Linked together, it fills few
//! windows. Nothing changes in what the code does. Each function places
//! only what it ran itself (run 13): run 12's one section for all of them
//! held code a function links but never runs (2.1 MB in directory-me,
//! whose own run needs 1.5 MB).
//!
//! `scripts/hot-code` runs every function under callgrind (symbols kept,
//! otherwise the release build) and hands its dumps here. The patterns
//! leave out what differs between builds and targets (the hash of a
//! legacy Rust symbol, a crate's disambiguator in a v0 symbol, LTO's
//! `.llvm.N` suffix), so one layout serves the x86_64 build the benchmark
//! measures and the arm64 build that is deployed. A function added since
//! the last profile still links; it places what any function ran.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

// The benchmark writes the layout; the functions' build reads it.
#[allow(dead_code)]
#[path = "../../functions/hot-code-layout.rs"]
mod layout;
pub use layout::Layout;

/// The names of the functions one Lambda function ran: during init (up to
/// its first request for an event) and serving events.
#[derive(Debug, Default)]
pub struct Ran {
    pub at_init: BTreeSet<String>,
    pub serving: BTreeSet<String>,
}

/// The layout of the profiled functions, from the names of the functions
/// each ran (`executed_functions` of its dumps). What a function ran at
/// init and whose pattern nothing it ran serving events shares is its
/// init-only code, which its script gathers apart (shared/src/init_code.rs).
pub fn layout(executed: BTreeMap<String, Ran>) -> Layout {
    let mut layout = Layout {
        profiled: executed.keys().cloned().collect(),
        ..Layout::default()
    };
    let patterns = |names: &BTreeSet<String>| -> BTreeSet<String> {
        names.iter().filter_map(|n| pattern(n)).collect()
    };
    for (function, ran) in executed {
        let (at_init, serving) = (patterns(&ran.at_init), patterns(&ran.serving));
        // The linker places init-only code first, so a pattern that also
        // covers code run serving (`sha2::sha256::*`, from the probe run
        // once at init, covers the `compress256` every request signs with)
        // would take that code into the block init hands back.
        let covers_serving = |p: &String| serving.iter().any(|q| glob_covers(p, q));
        for p in at_init.difference(&serving).filter(|p| !covers_serving(p)) {
            layout
                .init_only
                .entry(p.clone())
                .or_default()
                .insert(function.clone());
        }
        for p in at_init.into_iter().chain(serving) {
            layout.ran.entry(p).or_default().insert(function.clone());
        }
    }
    layout
}

/// Adds to `layout` what `previous` (the layout written before) holds of
/// the functions not profiled this time for which `keep` is true (those
/// still in the workspace): a profile of some functions replaces their
/// patterns and keeps everyone else's, whether or not their callgrind
/// dumps are still on disk (a new checkout has none). Returns the names
/// kept.
pub fn keep_unprofiled(
    layout: &mut Layout,
    previous: &Layout,
    keep: impl Fn(&str) -> bool,
) -> Vec<String> {
    let kept: Vec<String> = previous
        .profiled
        .difference(&layout.profiled)
        .filter(|f| keep(f))
        .cloned()
        .collect();
    let carry = |from: &BTreeMap<String, BTreeSet<String>>,
                 into: &mut BTreeMap<String, BTreeSet<String>>| {
        for (pattern, who) in from {
            let who: Vec<&String> = who.iter().filter(|f| kept.contains(f)).collect();
            if !who.is_empty() {
                into.entry(pattern.clone())
                    .or_default()
                    .extend(who.into_iter().cloned());
            }
        }
    };
    carry(&previous.ran, &mut layout.ran);
    carry(&previous.init_only, &mut layout.init_only);
    layout.profiled.extend(kept.iter().cloned());
    kept
}

/// Whether the linker-script pattern `glob` (`*` for any run of
/// characters, the only wildcard patterns here use) matches `text`, itself
/// a pattern: its `*`s are taken as characters, which `glob`'s own `*`s
/// match. Hand-written: a dozen lines, for patterns no crate's glob syntax
/// would read as ours (`$`, `.` and `[` are plain characters in them).
fn glob_covers(glob: &str, text: &str) -> bool {
    let (glob, text) = (glob.as_bytes(), text.as_bytes());
    let (mut g, mut t) = (0, 0);
    // Where the last `*` was, and where in `text` it started matching.
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if g < glob.len() && glob[g] == b'*' {
            star = Some((g, t));
            g += 1;
        } else if g < glob.len() && glob[g] == text[t] {
            g += 1;
            t += 1;
        } else if let Some((sg, st)) = star {
            // Let the last `*` take one more character and try again.
            g = sg + 1;
            t = st + 1;
            star = Some((sg, st + 1));
        } else {
            return false;
        }
    }
    glob[g..].iter().all(|&c| c == b'*')
}

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
    if let Some(module) = cpu_dispatching_module(symbol) {
        return Some(module);
    }
    // The CPU intrinsics a backend calls without inlining them
    // (`core::core_arch::x86::sha::_mm_sha256msg1_epu32`): all of them, for
    // the same reason.
    if symbol.starts_with("_R") && symbol.contains("_4core9core_arch") {
        return Some("_R*_4core9core_arch*".to_string());
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

/// RustCrypto's crates (the `sha2` that signs every AWS request, the
/// `chacha20` behind the ids) pick a backend by the CPU at run time: a
/// `cpufeatures` probe (`<name>::init_get`) beside the backends, the
/// portable one in a module `soft`. Callgrind's CPU has no SHA extensions
/// and no AVX-512, so its profile shows the probe and `soft` where the
/// real CPU runs `x86` or `aarch64_sha2`: such a legacy symbol places
/// every module beside them (`sha2::sha256::*`).
fn cpu_dispatching_module(symbol: &str) -> Option<String> {
    // Where each enclosing path ends in `symbol`: `_ZN`, then each segment.
    let mut ends = vec!["_ZN".len()];
    let mut rest = symbol.strip_prefix("_ZN")?;
    while let Some(digits) = rest.find(|c: char| !c.is_ascii_digit()).filter(|&d| d > 0) {
        let len: usize = rest[..digits].parse().ok()?;
        let segment = rest.get(digits..digits + len)?;
        let module = match segment {
            "soft" => ends.len().checked_sub(1),
            "init_get" => ends.len().checked_sub(2),
            _ => None,
        };
        if let Some(m) = module.filter(|&m| m > 0) {
            return Some(format!("{}*", &symbol[..ends[m]]));
        }
        ends.push(ends[ends.len() - 1] + digits + len);
        rest = &rest[digits + len..];
    }
    None
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

/// The size of a binary's `.text.hot` section; `None` when it has none
/// (linked without the script) or is not an ELF file. Only the headers are
/// read: reading the whole binary would put all of it in the page cache
/// before its processes start, where fault-around maps pages no process
/// read (a page-precise run, `SKOLNAV_BENCH_PAGES`, found 644 KiB of
/// talk-bookings' `.rodata` mapped instead of the 260 it reads).
pub fn hot_section_bytes(binary: &Path) -> Option<u64> {
    hot_section_in(std::fs::File::open(binary).ok()?)
}

fn hot_section_in(binary: impl std::io::Read + std::io::Seek) -> Option<u64> {
    use object::{Object, ObjectSection};
    let cache = object::ReadCache::new(binary);
    let file = object::File::parse(&cache).ok()?;
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
            pattern("_RNvNtNtCsjrHSEGnQ3l9_3std6thread7current12init_current.2419").as_deref(),
            Some("_RNvNtNtCs*_3std6thread7current12init_current*")
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
    fn a_backend_chosen_by_the_cpu_places_the_other_backends_beside_it() {
        assert_eq!(
            pattern("_ZN4sha26sha2564soft8schedule17h0123456789abcdefE").as_deref(),
            Some("_ZN4sha26sha256*"),
            "the real CPU runs sha2::sha256::x86::digest_blocks"
        );
        assert_eq!(
            pattern("_ZN4sha26sha25611shani_cpuid8init_get10init_inner17h0123456789abcdefE")
                .as_deref(),
            Some("_ZN4sha26sha256*"),
            "the probe alone: the run inlined soft into its caller"
        );
        assert_eq!(
            pattern("_ZN8chacha2010avx2_cpuid8init_get17h0123456789abcdefE").as_deref(),
            Some("_ZN8chacha20*")
        );
        assert_eq!(
            pattern("_RNvNtNtCsgEmfK2I1SDS_4core9core_arch3x865xsave7__xgetbv.2419").as_deref(),
            Some("_R*_4core9core_arch*"),
            "an intrinsic left out of line: the SHA-NI ones run only natively"
        );
        assert_eq!(
            pattern("_ZN8software3run17h0123456789abcdefE").as_deref(),
            Some("_ZN8software3run17h*E"),
            "a segment that only starts with soft"
        );
        assert_eq!(
            pattern("_ZN4soft3run17h0123456789abcdefE").as_deref(),
            Some("_ZN4soft3run17h*E"),
            "a crate named soft has no modules beside it"
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

    /// What one function ran, at init and serving events.
    fn ran(function: &str, at_init: &[&str], serving: &[&str]) -> (String, Ran) {
        let names = |n: &[&str]| n.iter().map(|n| n.to_string()).collect();
        (
            function.to_string(),
            Ran {
                at_init: names(at_init),
                serving: names(serving),
            },
        )
    }

    #[test]
    fn each_function_places_the_code_it_ran_whatever_its_hashes() {
        let layout = layout(
            [
                ran(
                    "directory-me",
                    &["_ZN1a1f17h0123456789abcdefE", "0x1234"],
                    &["_ZN1a1f17hfedcba9876543210E"],
                ),
                ran(
                    "talk-book",
                    &["_ZN1a1f17h0000000000000000E"],
                    &["_ZN1b1g17h0123456789abcdefE"],
                ),
            ]
            .into(),
        );
        let script = layout.linker_script("directory-me");
        assert!(script.contains("    *(.text._ZN1a1f17h*E .text.unlikely._ZN1a1f17h*E)\n"));
        assert_eq!(script.matches("*(.text._ZN").count(), 1, "{script}");
        assert_eq!(layout.ran["_ZN1b1g17h*E"], ["talk-book".to_string()].into());
    }

    #[test]
    fn profiling_some_functions_replaces_their_patterns_and_keeps_the_others() {
        let previous = layout(
            [
                ran(
                    "directory-me",
                    &["_ZN1a4init17h0123456789abcdefE"],
                    &["_ZN1a5shared17h0123456789abcdefE"],
                ),
                ran(
                    "talk-bookings",
                    &["_ZN1a4init17h0123456789abcdefE"],
                    &["_ZN1t3old17h0123456789abcdefE"],
                ),
                ran(
                    "gone",
                    &["_ZN1a4init17h0123456789abcdefE"],
                    &["_ZN1g1f17h0123456789abcdefE"],
                ),
            ]
            .into(),
        );
        let mut now = layout(
            [ran(
                "talk-bookings",
                &["_ZN1a4init17h0123456789abcdefE"],
                &[
                    "_ZN1a5shared17h0123456789abcdefE",
                    "_ZN1t3new17h0123456789abcdefE",
                ],
            )]
            .into(),
        );
        let kept = keep_unprofiled(&mut now, &previous, |f| f != "gone");
        assert_eq!(kept, ["directory-me"]);
        let who = |p: &str| -> Vec<&str> {
            now.ran
                .get(p)
                .map(|w| w.iter().map(String::as_str).collect())
                .unwrap_or_default()
        };
        assert_eq!(who("_ZN1a5shared17h*E"), ["directory-me", "talk-bookings"]);
        assert_eq!(who("_ZN1t3new17h*E"), ["talk-bookings"]);
        assert!(
            who("_ZN1t3old17h*E").is_empty(),
            "replaced by the new profile"
        );
        assert!(who("_ZN1g1f17h*E").is_empty(), "a function no longer built");
        assert_eq!(
            now.init_only["_ZN1a4init17h*E"],
            ["directory-me".to_string(), "talk-bookings".to_string()].into()
        );
        // What is written reads back as it was built.
        assert_eq!(Layout::read(&now.write("")), Ok(now));
    }

    #[test]
    fn code_a_function_ran_at_init_and_serving_any_instance_of_is_not_init_only() {
        let layout = layout(
            [ran(
                "directory-me",
                &[
                    "_ZN6rustls3add17h0123456789abcdefE",
                    "_ZN3hyp4send17h0123456789abcdefE",
                ],
                // Another instance of the same generic function.
                &["_ZN3hyp4send17hfedcba9876543210E"],
            )]
            .into(),
        );
        assert_eq!(
            layout.init_only.keys().collect::<Vec<_>>(),
            ["_ZN6rustls3add17h*E"]
        );
        assert_eq!(layout.ran.len(), 2, "init-only code is code it ran");
    }

    #[test]
    fn a_module_run_only_at_init_that_holds_code_run_serving_is_not_init_only() {
        let layout = layout(
            [ran(
                "directory-me",
                // The CPU probe, run once: it stands for its whole module.
                &["_ZN4sha26sha25611shani_cpuid8init_get10init_inner17h0123456789abcdefE"],
                &["_ZN4sha26sha25611compress25617h0123456789abcdefE"],
            )]
            .into(),
        );
        assert!(
            layout.init_only.is_empty(),
            "the module's init-only pattern would have taken compress256 into the init block: {:?}",
            layout.init_only
        );
        assert_eq!(
            layout.ran.keys().collect::<Vec<_>>(),
            ["_ZN4sha26sha256*", "_ZN4sha26sha25611compress25617h*E"]
        );
    }

    /// Counts the bytes read through it.
    struct Counting<'a> {
        inner: std::io::Cursor<Vec<u8>>,
        read: &'a std::cell::Cell<usize>,
    }

    impl std::io::Read for Counting<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.inner.read(buf)?;
            self.read.set(self.read.get() + n);
            Ok(n)
        }
    }

    impl std::io::Seek for Counting<'_> {
        fn seek(&mut self, to: std::io::SeekFrom) -> std::io::Result<u64> {
            self.inner.seek(to)
        }
    }

    #[test]
    fn the_hot_code_size_is_read_from_the_headers_not_the_whole_binary() {
        let exe =
            std::fs::read(std::env::current_exe().expect("the test binary")).expect("its bytes");
        let len = exe.len();
        let read = std::cell::Cell::new(0);
        let size = hot_section_in(Counting {
            inner: std::io::Cursor::new(exe),
            read: &read,
        });
        assert_eq!(size, None, "a test binary is linked without the script");
        assert!(
            read.get() < len / 10,
            "{} of its {len} bytes read to find the section",
            read.get()
        );
        let script = hot_section_in(std::io::Cursor::new(b"#!/bin/sh\nexec x\n".to_vec()));
        assert_eq!(script, None, "a wrapper script is no ELF file");
    }

    #[test]
    fn a_pattern_covers_the_patterns_its_stars_can_stand_for() {
        assert!(glob_covers(
            "_ZN4sha26sha256*",
            "_ZN4sha26sha25611compress25617h*E"
        ));
        assert!(glob_covers(
            "aws_lc_*_sha256*",
            "aws_lc_*_sha256_block_data_order*"
        ));
        assert!(glob_covers("_ZN3hyp4send17h*E", "_ZN3hyp4send17h*E"));
        assert!(glob_covers("a*b*c", "aXXbYYc"));
        assert!(!glob_covers(
            "_ZN4sha26sha512*",
            "_ZN4sha26sha25611compress25617h*E"
        ));
        assert!(!glob_covers("_ZN3hyp4send17h*E", "_ZN3hyp4send17h*Ex"));
        assert!(!glob_covers("a*b", "ac"));
    }
}
