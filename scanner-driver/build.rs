//! Generates the Rust declarations of SANE's C API from the system's `sane/sane.h` (Debian's
//! `libsane-dev`, installed by the bootstrap) and links against `libsane`.

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rustc-link-lib=sane");
    let bindings = bindgen::Builder::default()
        .header_contents("sohoa-sane.h", "#include <sane/sane.h>\n#include <sane/saneopts.h>\n")
        .allowlist_function("sane_.*")
        .allowlist_type("SANE_.*")
        .allowlist_var("SANE_.*")
        // SANE's enums are plain integers on the wire: constants named as in the header.
        .prepend_enum_name(false)
        .layout_tests(false)
        .generate()
        .expect("bindgen reads <sane/sane.h> (Debian package libsane-dev)");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR is set by cargo"));
    bindings.write_to_file(out.join("sane.rs")).expect("writes the SANE bindings");
}
