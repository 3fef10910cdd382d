//! Build script of every function (`build = "../hot-code.rs"`): in the
//! release build, the one deployed and benchmarked, the code the function
//! ran at init and per request while the benchmark drove it is linked
//! together ahead of the rest of `.text`. `hot-code.txt` (written by
//! `scripts/hot-code`) says which code each function ran; this writes the
//! function's own linker script from it. Why and what it saves:
//! bench/src/hot_code.rs and docs/performance.md, runs 12 and 13. Debug
//! and test builds link as usual.
//!
//! Written as a linker script rather than lld's `--symbol-ordering-file`:
//! zig, which cargo-lambda links the arm64 build with, passes `-T` on but
//! refuses that flag.

// The benchmark writes the layout; the build only reads it.
#[allow(dead_code)]
#[path = "hot-code-layout.rs"]
mod layout;

use std::path::Path;

fn main() {
    // Cargo sets these when it compiles and runs the build script.
    let layout_file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../hot-code.txt");
    println!("cargo::rerun-if-changed={}", layout_file.display());
    if std::env::var("PROFILE").as_deref() != Ok("release") {
        return;
    }
    let (Ok(out_dir), Ok(function)) = (std::env::var("OUT_DIR"), std::env::var("CARGO_PKG_NAME"))
    else {
        println!("cargo::warning=no OUT_DIR or CARGO_PKG_NAME: linked without hot code first");
        return;
    };
    let layout = std::fs::read_to_string(&layout_file)
        .map_err(|e| e.to_string())
        .and_then(|text| layout::Layout::read(&text));
    let script = Path::new(&out_dir).join("hot-code.ld");
    match layout.and_then(|l| {
        std::fs::write(&script, l.linker_script(&function)).map_err(|e| e.to_string())
    }) {
        Ok(()) => println!("cargo::rustc-link-arg-bins=-Wl,-T,{}", script.display()),
        Err(e) => println!(
            "cargo::warning={}: {e}; linked without hot code first",
            layout_file.display()
        ),
    }
}
