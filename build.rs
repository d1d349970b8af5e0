//! Chooses the Wireshark ABI to build for and runs bindgen over our own
//! declarations of it (`wireshark-headers/<X.Y>/wireshark-abi.h`).
//!
//! The version comes from `WIRESHARK_VERSION` (`4.4`, `4.4.18`, …), else from
//! `pkg-config --modversion wireshark`, else from `tshark --version`.  A
//! plugin only loads into the Wireshark major.minor it was built for, so an
//! unsupported or undetectable version stops the build with one line.

use std::env;
use std::path::PathBuf;
use std::process::Command;

/// Versions whose variant header is checked by tests/layout.rs against the
/// real Debian headers.  4.2 has a variant that refuses to build: Debian ships
/// no 4.2 headers to verify it against (see docs/ffi.md).
const SUPPORTED: &[&str] = &["4.0", "4.4", "4.6"];

fn main() {
    println!("cargo:rerun-if-env-changed=WIRESHARK_VERSION");
    println!("cargo:rerun-if-changed=wireshark-headers");
    println!("cargo:rustc-check-cfg=cfg(ws_plugin_describe)");
    println!("cargo:rustc-check-cfg=cfg(ws_bool_is_c_bool)");
    println!("cargo:rustc-check-cfg=cfg(ws_rec_has_data)");

    let (version, source) = match detect_version() {
        Some(found) => found,
        None => fail(
            "cannot tell which Wireshark to build for: set WIRESHARK_VERSION (e.g. 4.0), \
             or install libwireshark-dev or tshark",
        ),
    };
    if !SUPPORTED.contains(&version.as_str()) {
        fail(&format!(
            "Wireshark {version} (from {source}) is not supported; supported: {}",
            SUPPORTED.join(", ")
        ));
    }
    let minor: u32 = version[2..].parse().expect("version checked above");
    // plugin_describe() exists from 4.4; gboolean became bool in 4.4.
    if minor >= 4 {
        println!("cargo:rustc-cfg=ws_plugin_describe");
        println!("cargo:rustc-cfg=ws_bool_is_c_bool");
    }
    // From 4.6 a wtap_rec carries its own data buffer; readers get no Buffer.
    if minor >= 6 {
        println!("cargo:rustc-cfg=ws_rec_has_data");
    }
    println!("cargo:rustc-env=PKTMATCH_WIRESHARK_ABI={version}");
    // For tests/layout.rs, which drives the C compiler through the cc crate.
    let target = env::var("TARGET").expect("cargo sets TARGET");
    println!("cargo:rustc-env=PKTMATCH_TARGET={target}");

    let header = PathBuf::from("wireshark-headers")
        .join(&version)
        .join("wireshark-abi.h");
    let bindings = bindgen::Builder::default()
        .header(header.to_string_lossy())
        .allowlist_file(".*wireshark-headers.*")
        .derive_default(true)
        .generate_cstr(true)
        .layout_tests(true)
        .generate()
        .unwrap_or_else(|e| fail(&format!("bindgen failed on {}: {e}", header.display())));
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    bindings
        .write_to_file(out.join("bindings.rs"))
        .unwrap_or_else(|e| fail(&format!("cannot write bindings: {e}")));
}

/// Returns ("X.Y", where it came from).
fn detect_version() -> Option<(String, &'static str)> {
    if let Ok(v) = env::var("WIRESHARK_VERSION") {
        return major_minor(&v).map(|v| (v, "WIRESHARK_VERSION"));
    }
    if let Some(v) = command_output("pkg-config", &["--modversion", "wireshark"]) {
        if let Some(v) = major_minor(&v) {
            return Some((v, "pkg-config"));
        }
    }
    // "TShark (Wireshark) 4.0.17 (Git v4.0.17 packaged as 4.0.17-0+deb12u3)."
    let text = command_output("tshark", &["--version"])?;
    let first = text.lines().next()?;
    let word = first.split_whitespace().nth(2)?;
    major_minor(word).map(|v| (v, "tshark --version"))
}

fn major_minor(text: &str) -> Option<String> {
    let mut parts = text.trim().split('.');
    let major: u32 = parts.next()?.parse().ok()?;
    let minor: u32 = parts.next()?.parse().ok()?;
    Some(format!("{major}.{minor}"))
}

fn command_output(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn fail(message: &str) -> ! {
    eprintln!("pktmatch: {message}");
    std::process::exit(1)
}
