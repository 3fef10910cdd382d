//! The hot-code layout: which code each function ran while the benchmark
//! drove it (`functions/hot-code.txt`, written by `scripts/hot-code`), and
//! the linker script that puts a function's own into `.text.hot`, ahead of
//! the rest of `.text`. Why: bench/src/hot_code.rs.
//!
//! One file serves the functions' build script (`hot-code.rs`, which
//! writes a function's script into its build folder) and the benchmark
//! (which writes the layout), so the format is read and written in one
//! place. Plain std only: a build script has no dependencies here.
//!
//! The layout names each piece of code once, as a section-name pattern,
//! under the functions that ran it:
//!
//! ```text
//! # a comment
//! profiled: absence-list directory-me
//! ran by: all
//! _ZN5tokio7runtime4park17h*E
//! ran by: directory-me
//! _ZN7skolnav9directory2me17h*E
//! ```
//!
//! Patterns hold no spaces, so a line with one is a header. Then the code a
//! function ran only during init, which its script gathers apart so that
//! init can hand its pages back (shared/src/init_code.rs):
//!
//! ```text
//! ran only at init by: directory-me
//! _ZN7rustls11RootCertStore3add17h*E
//! ```

use std::collections::{BTreeMap, BTreeSet};

/// The functions the benchmark drove, and the patterns each ran.
#[derive(Debug, Default, PartialEq)]
pub struct Layout {
    pub profiled: BTreeSet<String>,
    /// Pattern to the functions that ran it, at init or serving events.
    pub ran: BTreeMap<String, BTreeSet<String>>,
    /// Pattern to the functions that ran it only at init (each of them
    /// is also among `ran`'s).
    pub init_only: BTreeMap<String, BTreeSet<String>>,
}

const PROFILED: &str = "profiled: ";
const RAN_BY: &str = "ran by: ";
const INIT_ONLY_BY: &str = "ran only at init by: ";
/// The markers of the init block (shared/src/init_code.rs).
const INIT_BEGIN: &str = "skolnav_init_code_begin";
const INIT_END: &str = "skolnav_init_code_end";
/// Space between the init block and the code invocations run: the width
/// of the kernel's fault-around window, so that no fault in the one maps
/// pages of the other.
const WINDOW: u32 = 0x10000;
const ALL: &str = "all";

impl Layout {
    /// The layout as text: the patterns grouped by who ran them, what all
    /// ran first, then the groups of more functions before those of fewer.
    pub fn write(&self, comment: &str) -> String {
        let mut s = String::new();
        for line in comment.lines() {
            s.push_str(&format!("# {line}\n"));
        }
        let names: Vec<&str> = self.profiled.iter().map(String::as_str).collect();
        s.push_str(&format!("{PROFILED}{}\n", names.join(" ")));
        self.write_groups(RAN_BY, &self.ran, &mut s);
        self.write_groups(INIT_ONLY_BY, &self.init_only, &mut s);
        s
    }

    /// The patterns grouped by who ran them, what all ran first, then the
    /// groups of more functions before those of fewer.
    fn write_groups(&self, header: &str, ran: &BTreeMap<String, BTreeSet<String>>, s: &mut String) {
        let mut groups: BTreeMap<Vec<&str>, Vec<&str>> = BTreeMap::new();
        for (pattern, functions) in ran {
            let who = if *functions == self.profiled {
                vec![ALL]
            } else {
                functions.iter().map(String::as_str).collect()
            };
            groups.entry(who).or_default().push(pattern);
        }
        let mut groups: Vec<_> = groups.into_iter().collect();
        groups.sort_by_key(|(who, _)| (who != &[ALL], std::cmp::Reverse(who.len())));
        for (who, patterns) in groups {
            s.push_str(&format!("{header}{}\n", who.join(" ")));
            for p in patterns {
                s.push_str(p);
                s.push('\n');
            }
        }
    }

    /// Reads what `write` wrote; the error names the line it cannot read.
    pub fn read(text: &str) -> Result<Layout, String> {
        let mut layout = Layout::default();
        // Who ran the patterns that follow, and whether only at init.
        let mut group: Option<(BTreeSet<String>, bool)> = None;
        for (i, line) in text.lines().enumerate() {
            let at = || format!("line {}", i + 1);
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let header = [(RAN_BY, false), (INIT_ONLY_BY, true)]
                .into_iter()
                .find_map(|(h, init)| line.strip_prefix(h).map(|names| (names, init)));
            if let Some(names) = line.strip_prefix(PROFILED) {
                layout.profiled = names.split_whitespace().map(str::to_string).collect();
            } else if let Some((names, init)) = header {
                let who: BTreeSet<String> = names.split_whitespace().map(str::to_string).collect();
                let who = if who.len() == 1 && who.contains(ALL) {
                    layout.profiled.clone()
                } else if let Some(stranger) = who.difference(&layout.profiled).next() {
                    return Err(format!(
                        "{}: {stranger} ran code but was not profiled",
                        at()
                    ));
                } else {
                    who
                };
                group = Some((who, init));
            } else if line.contains(' ') {
                return Err(format!("{}: neither a header nor a pattern: {line}", at()));
            } else {
                let (who, init) = group
                    .clone()
                    .ok_or_else(|| format!("{}: a pattern before any \"{RAN_BY}\"", at()))?;
                if init {
                    let ran = layout.ran.get(line).cloned().unwrap_or_default();
                    if let Some(stranger) = who.difference(&ran).next() {
                        return Err(format!(
                            "{}: {stranger} ran {line} only at init but not at all",
                            at()
                        ));
                    }
                    layout.init_only.insert(line.to_string(), who);
                } else {
                    layout.ran.insert(line.to_string(), who);
                }
            }
        }
        Ok(layout)
    }

    /// The linker script of `function`: the code it ran only at init in
    /// `.text.init`, between the init block's markers and a fault-around
    /// window away from the rest of the code it ran, in `.text.hot`. For a
    /// function added since the last profile, what any function ran, all
    /// in `.text.hot` (the runtime and the SDK it shares with them).
    pub fn linker_script(&self, function: &str) -> String {
        let own = self.profiled.contains(function);
        let init_only = |p: &str| {
            own && self
                .init_only
                .get(p)
                .is_some_and(|who| who.contains(function))
        };
        let ran: Vec<&str> = self
            .ran
            .iter()
            .filter(|(_, who)| !own || who.contains(function))
            .map(|(p, _)| p.as_str())
            .collect();
        let (init, hot): (Vec<&str>, Vec<&str>) = ran.into_iter().partition(|p| init_only(p));
        let mut s = format!(
            "/* Written by functions/hot-code.rs from functions/hot-code.txt: the code {} ran\n   while the benchmark drove it, {} patterns, linked first; {} of them ran only at init. */\n",
            if own {
                function
            } else {
                "any profiled function"
            },
            init.len() + hot.len(),
            init.len()
        );
        s.push_str("SECTIONS\n{\n  .text.init :\n  {\n");
        // What runs first in every process: the C runtime's entry point and
        // the libraries' constructors.
        s.push_str(
            "    *crt1.o(.text)\n    *crtbegin*.o(.text)\n    *(.text.startup .text.startup.*)\n",
        );
        s.push_str(&format!("    *(.text.{INIT_BEGIN})\n"));
        for p in init {
            place(p, &mut s);
        }
        s.push_str(&format!("    *(.text.{INIT_END})\n"));
        s.push_str(&format!(
            "    . = . + {WINDOW:#x};\n  }}\n  .text.hot :\n  {{\n"
        ));
        for p in hot {
            place(p, &mut s);
        }
        s.push_str("  }\n}\nINSERT BEFORE .text;\n");
        s
    }
}

/// The input sections of the code a pattern names.
fn place(p: &str, s: &mut String) {
    // LLVM puts a function's cold part in `.text.unlikely.<name>`.
    s.push_str(&format!("    *(.text.{p} .text.unlikely.{p})\n"));
    // aws-lc's assembly has no section per routine: each s2n-bignum
    // routine is a file of its own name.
    if let Some(routine) = p.strip_prefix("aws_lc_*_") {
        s.push_str(&format!("    *{routine}.o(.text)\n"));
        // Its perlasm hashes are a file per algorithm and target,
        // every CPU variant inside: sha512-x86_64.o, sha512-armv8.o.
        if let Some(hash) = routine.strip_suffix("_block_data_order*") {
            s.push_str(&format!("    *{hash}-*.o(.text)\n"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    fn sample() -> Layout {
        Layout {
            profiled: set(&["absence-list", "directory-me", "talk-book"]),
            ran: [
                (
                    "_ZN5tokio4park17h*E",
                    set(&["absence-list", "directory-me", "talk-book"]),
                ),
                ("_ZN2me4read17h*E", set(&["directory-me"])),
                ("_ZN4list4read17h*E", set(&["absence-list", "talk-book"])),
                ("aws_lc_*_bignum_mod_n25519*", set(&["talk-book"])),
                ("_ZN6rustls3add17h*E", set(&["directory-me", "talk-book"])),
            ]
            .into_iter()
            .map(|(p, who)| (p.to_string(), who))
            .collect(),
            // talk-book also ran it serving an event (say, a reconnection).
            init_only: [("_ZN6rustls3add17h*E", set(&["directory-me"]))]
                .into_iter()
                .map(|(p, who)| (p.to_string(), who))
                .collect(),
        }
    }

    #[test]
    fn a_layout_reads_back_as_it_was_written() {
        let text = sample().write("two lines\nof comment");
        assert!(text.starts_with("# two lines\n# of comment\nprofiled: absence-list directory-me talk-book\nran by: all\n_ZN5tokio4park17h*E\nran by: absence-list talk-book\n"), "{text}");
        assert!(
            text.ends_with("ran only at init by: directory-me\n_ZN6rustls3add17h*E\n"),
            "{text}"
        );
        assert_eq!(Layout::read(&text), Ok(sample()));
    }

    #[test]
    fn a_function_places_only_the_code_it_ran() {
        let script = sample().linker_script("directory-me");
        assert!(script.contains("    *(.text._ZN2me4read17h*E .text.unlikely._ZN2me4read17h*E)\n"));
        assert!(script.contains("_ZN5tokio4park17h*E"), "what all ran");
        assert!(!script.contains("_ZN4list4read"), "{script}");
        assert!(script.contains("directory-me ran"));
        assert!(script.contains("3 patterns"));
        assert!(script.contains("    *crt1.o(.text)\n"));
        assert!(script.trim_end().ends_with("INSERT BEFORE .text;"));
    }

    /// Whether `script` holds every one of `needles`, each after the one
    /// before it.
    fn in_order(script: &str, needles: &[&str]) -> bool {
        let mut from = 0;
        needles
            .iter()
            .all(|needle| match script[from..].find(needle) {
                Some(at) => {
                    from += at + needle.len();
                    true
                }
                None => false,
            })
    }

    #[test]
    fn code_a_function_ran_only_at_init_lies_between_the_markers_a_window_before_the_rest() {
        let script = sample().linker_script("directory-me");
        assert!(
            in_order(
                &script,
                &[
                    // The C runtime starts the segment.
                    "*crt1.o(.text)",
                    "    *(.text.skolnav_init_code_begin)\n",
                    "*(.text._ZN6rustls3add17h*E",
                    "    *(.text.skolnav_init_code_end)\n    . = . + 0x10000;\n  }\n  .text.hot :\n",
                    "*(.text._ZN2me4read17h*E",
                ]
            ),
            "{script}"
        );
        assert!(script.contains("3 patterns, linked first; 1 of them ran only at init"));
    }

    #[test]
    fn code_another_function_also_ran_serving_stays_with_that_functions_hot_code() {
        let script = sample().linker_script("talk-book");
        assert!(
            in_order(
                &script,
                &["skolnav_init_code_end", ".text.hot", "_ZN6rustls3add"]
            ),
            "{script}"
        );
        assert!(!in_order(
            &script,
            &[
                "skolnav_init_code_begin",
                "_ZN6rustls3add",
                "skolnav_init_code_end"
            ]
        ));
    }

    #[test]
    fn a_function_added_since_the_profile_places_what_any_function_ran() {
        let script = sample().linker_script("news-publish");
        for p in [
            "_ZN2me4read",
            "_ZN4list4read",
            "_ZN5tokio4park",
            "_ZN6rustls3add",
        ] {
            assert!(
                in_order(&script, &[".text.hot", p]),
                "{p} with the hot code, none released: {script}"
            );
        }
        assert!(script.contains("any profiled function"));
    }

    #[test]
    fn an_aws_lc_routine_also_places_its_assembly_file() {
        let script = sample().linker_script("talk-book");
        assert!(
            script.contains("    *(.text.aws_lc_*_bignum_mod_n25519* .text.unlikely.aws_lc_*_bignum_mod_n25519*)\n    *bignum_mod_n25519*.o(.text)\n"),
            "{script}"
        );
    }

    #[test]
    fn an_aws_lc_hash_places_the_perlasm_file_of_every_target() {
        let mut layout = sample();
        layout.ran.insert(
            "aws_lc_*_sha512_block_data_order*".to_string(),
            set(&["directory-me"]),
        );
        let script = layout.linker_script("directory-me");
        assert!(
            script.contains("    *sha512_block_data_order*.o(.text)\n    *sha512-*.o(.text)\n"),
            "{script}"
        );
        assert!(
            script.contains("    *crtbegin*.o(.text)\n"),
            "the C runtime's frame_dummy"
        );
    }

    #[test]
    fn a_layout_that_cannot_be_read_names_its_line() {
        assert_eq!(
            Layout::read("profiled: a\n_ZN1x17h*E\n"),
            Err("line 2: a pattern before any \"ran by: \"".to_string())
        );
        assert_eq!(
            Layout::read("profiled: a\nran by: a b\n"),
            Err("line 2: b ran code but was not profiled".to_string())
        );
        assert_eq!(
            Layout::read("profiled: a\nran by: a\nnot a pattern\n"),
            Err("line 3: neither a header nor a pattern: not a pattern".to_string())
        );
        assert_eq!(
            Layout::read(
                "profiled: a b\nran by: a\n_ZN1x17h*E\nran only at init by: b\n_ZN1x17h*E\n"
            ),
            Err("line 5: b ran _ZN1x17h*E only at init but not at all".to_string())
        );
    }
}
