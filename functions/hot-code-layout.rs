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
//! Patterns hold no spaces, so a line with one is a header.

use std::collections::{BTreeMap, BTreeSet};

/// The functions the benchmark drove, and the patterns each ran.
#[derive(Debug, Default, PartialEq)]
pub struct Layout {
    pub profiled: BTreeSet<String>,
    /// Pattern to the functions that ran it.
    pub ran: BTreeMap<String, BTreeSet<String>>,
}

const PROFILED: &str = "profiled: ";
const RAN_BY: &str = "ran by: ";
const ALL: &str = "all";

impl Layout {
    /// The layout as text: the patterns grouped by who ran them, what all
    /// ran first, then the groups of more functions before those of fewer.
    pub fn write(&self, comment: &str) -> String {
        let mut groups: BTreeMap<Vec<&str>, Vec<&str>> = BTreeMap::new();
        for (pattern, functions) in &self.ran {
            let who = if *functions == self.profiled {
                vec![ALL]
            } else {
                functions.iter().map(String::as_str).collect()
            };
            groups.entry(who).or_default().push(pattern);
        }
        let mut groups: Vec<_> = groups.into_iter().collect();
        groups.sort_by_key(|(who, _)| (who != &[ALL], std::cmp::Reverse(who.len())));
        let mut s = String::new();
        for line in comment.lines() {
            s.push_str(&format!("# {line}\n"));
        }
        let names: Vec<&str> = self.profiled.iter().map(String::as_str).collect();
        s.push_str(&format!("{PROFILED}{}\n", names.join(" ")));
        for (who, patterns) in groups {
            s.push_str(&format!("{RAN_BY}{}\n", who.join(" ")));
            for p in patterns {
                s.push_str(p);
                s.push('\n');
            }
        }
        s
    }

    /// Reads what `write` wrote; the error names the line it cannot read.
    pub fn read(text: &str) -> Result<Layout, String> {
        let mut layout = Layout::default();
        let mut group: Option<BTreeSet<String>> = None;
        for (i, line) in text.lines().enumerate() {
            let at = || format!("line {}", i + 1);
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(names) = line.strip_prefix(PROFILED) {
                layout.profiled = names.split_whitespace().map(str::to_string).collect();
            } else if let Some(names) = line.strip_prefix(RAN_BY) {
                let who: BTreeSet<String> = names.split_whitespace().map(str::to_string).collect();
                group = Some(if who.len() == 1 && who.contains(ALL) {
                    layout.profiled.clone()
                } else if let Some(stranger) = who.difference(&layout.profiled).next() {
                    return Err(format!(
                        "{}: {stranger} ran code but was not profiled",
                        at()
                    ));
                } else {
                    who
                });
            } else if line.contains(' ') {
                return Err(format!("{}: neither a header nor a pattern: {line}", at()));
            } else {
                let who = group
                    .clone()
                    .ok_or_else(|| format!("{}: a pattern before any \"{RAN_BY}\"", at()))?;
                layout.ran.insert(line.to_string(), who);
            }
        }
        Ok(layout)
    }

    /// The linker script of `function`: the code it ran, or, for a function
    /// added since the last profile, what any function ran (the runtime and
    /// the SDK it shares with them).
    pub fn linker_script(&self, function: &str) -> String {
        let own = self.profiled.contains(function);
        let patterns: Vec<&str> = self
            .ran
            .iter()
            .filter(|(_, who)| !own || who.contains(function))
            .map(|(p, _)| p.as_str())
            .collect();
        let mut s = format!(
            "/* Written by functions/hot-code.rs from functions/hot-code.txt: the code {} ran\n   while the benchmark drove it, {} patterns, linked first. */\n",
            if own {
                function
            } else {
                "any profiled function"
            },
            patterns.len()
        );
        s.push_str("SECTIONS\n{\n  .text.hot :\n  {\n");
        // What runs first in every process: the C runtime's entry point and
        // the libraries' constructors.
        s.push_str(
            "    *crt1.o(.text)\n    *crtbegin*.o(.text)\n    *(.text.startup .text.startup.*)\n",
        );
        for p in patterns {
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
        s.push_str("  }\n}\nINSERT BEFORE .text;\n");
        s
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
            ]
            .into_iter()
            .map(|(p, who)| (p.to_string(), who))
            .collect(),
        }
    }

    #[test]
    fn a_layout_reads_back_as_it_was_written() {
        let text = sample().write("two lines\nof comment");
        assert!(text.starts_with("# two lines\n# of comment\nprofiled: absence-list directory-me talk-book\nran by: all\n_ZN5tokio4park17h*E\nran by: absence-list talk-book\n"), "{text}");
        assert_eq!(Layout::read(&text), Ok(sample()));
    }

    #[test]
    fn a_function_places_only_the_code_it_ran() {
        let script = sample().linker_script("directory-me");
        assert!(script.contains("    *(.text._ZN2me4read17h*E .text.unlikely._ZN2me4read17h*E)\n"));
        assert!(script.contains("_ZN5tokio4park17h*E"), "what all ran");
        assert!(!script.contains("_ZN4list4read"), "{script}");
        assert!(script.contains("directory-me ran"));
        assert!(script.contains("2 patterns"));
        assert!(script.contains("    *crt1.o(.text)\n"));
        assert!(script.trim_end().ends_with("INSERT BEFORE .text;"));
    }

    #[test]
    fn a_function_added_since_the_profile_places_what_any_function_ran() {
        let script = sample().linker_script("news-publish");
        for p in ["_ZN2me4read", "_ZN4list4read", "_ZN5tokio4park"] {
            assert!(script.contains(p), "{p} in {script}");
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
    }
}
