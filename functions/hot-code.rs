//! Build script of every function (`build = "../hot-code.rs"`): in the
//! release build, the one deployed and benchmarked, the code a function
//! runs at init and per request is linked together ahead of the rest of
//! `.text` (`hot-code.ld`, written by `scripts/hot-code`). Why and what it
//! saves: bench/src/hot_code.rs and docs/performance.md, run 12. Debug and
//! test builds link as usual.
//!
//! Written as a linker script rather than lld's `--symbol-ordering-file`:
//! zig, which cargo-lambda links the arm64 build with, passes `-T` on but
//! refuses that flag.

use std::path::Path;

fn main() {
    // Cargo sets the package's folder when it compiles the build script.
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../hot-code.ld");
    println!("cargo::rerun-if-changed={}", script.display());
    if std::env::var("PROFILE").as_deref() == Ok("release") {
        println!("cargo::rustc-link-arg-bins=-Wl,-T,{}", script.display());
    }
}
