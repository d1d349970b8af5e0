//! Layout test: our hand-written headers against the real Wireshark headers.
//!
//! For every supported version whose Debian headers have been fetched
//! (`tests/fetch-wireshark-headers.sh`, run by `make test`), this compiles,
//! with the `cc` crate's compiler:
//!
//! 1. `ours.c` — our variant header alone; prints size/alignment of every
//!    struct we declare and offset/size of each member;
//! 2. `real.c` — the real headers; prints the same for the real types;
//! 3. `signatures.c` — the real headers, then ours with struct bodies left
//!    out: the C compiler rejects any function or typedef we declare with a
//!    type incompatible with the real one; it prints each PM_ constant next
//!    to the real expression named in its `probe:` comment.
//!
//! Any difference fails the test with the version, the item and both values.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const VERSIONS: &[&str] = &["4.0", "4.4", "4.6"];

const REAL_INCLUDES: &[&str] = &[
    "epan/packet.h",
    "epan/proto.h",
    "epan/expert.h",
    "epan/prefs.h",
    "epan/column-utils.h",
    "epan/epan.h",
    "wiretap/wtap.h",
    "wsutil/wmem/wmem.h",
];

#[test]
fn our_headers_match_real_wireshark_headers() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let real_root = std::env::var_os("PKTMATCH_REAL_HEADERS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/wireshark-headers"));
    let mut problems = Vec::new();
    for version in VERSIONS {
        let real = real_root.join(version).join("usr/include/wireshark");
        assert!(
            real.join("epan/proto.h").exists(),
            "no Wireshark {version} headers under {}: run tests/fetch-wireshark-headers.sh (make test does)",
            real.display()
        );
        let variant = root
            .join("wireshark-headers")
            .join(version)
            .join("wireshark-abi.h");
        problems.extend(check_version(version, &variant, &real));
    }
    assert!(
        problems.is_empty(),
        "header mismatches:\n{}",
        problems.join("\n")
    );
}

fn check_version(version: &str, variant: &Path, real: &Path) -> Vec<String> {
    let declared = Declarations::read(variant);
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("layout-{version}"));
    fs::create_dir_all(&work).unwrap();
    let mut problems = declared.problems.clone();

    let ours = run_program(&work, "ours", &declared.layout_program(variant, false), &[]);
    let theirs = run_program(
        &work,
        "real",
        &declared.layout_program(variant, true),
        &[real],
    );
    let (ours, theirs) = match (ours, theirs) {
        (Ok(o), Ok(t)) => (o, t),
        (o, t) => {
            for err in [o.err(), t.err()].into_iter().flatten() {
                problems.push(format!("{version}: {err}"));
            }
            return problems;
        }
    };
    let ours = parse_pairs(&ours);
    let theirs = parse_pairs(&theirs);
    let expected_items: usize = declared
        .structs
        .iter()
        .map(|(_, members)| 2 + 2 * members.len())
        .sum();
    if ours.len() != expected_items {
        problems.push(format!(
            "{version}: {} layout items printed, {expected_items} declared",
            ours.len()
        ));
    }
    for (item, our_value) in &ours {
        match theirs.get(item) {
            Some(real_value) if real_value == our_value => {}
            Some(real_value) => problems.push(format!(
                "{version}: {item}: ours {our_value}, real {real_value}"
            )),
            None => problems.push(format!("{version}: {item}: missing from the real probe")),
        }
    }

    match run_program(
        &work,
        "signatures",
        &declared.signature_program(variant),
        &[real],
    ) {
        Err(err) => problems.push(format!("{version}: signatures differ:\n{err}")),
        Ok(out) => {
            for line in out.lines() {
                let mut words = line.split_whitespace();
                let (name, ours, real) = (words.next(), words.next(), words.next());
                if let (Some(name), Some(ours), Some(real)) = (name, ours, real) {
                    if ours != real {
                        problems.push(format!("{version}: {name} is {ours}, real value {real}"));
                    }
                }
            }
            let checked = out.lines().count();
            if checked != declared.constants.len() {
                problems.push(format!(
                    "{version}: {checked} constants printed, {} declared",
                    declared.constants.len()
                ));
            }
        }
    }
    problems
}

/// What our headers declare, read from the disciplined layout described in
/// wireshark-headers/common/plugin.h.
#[derive(Default)]
struct Declarations {
    /// (C type as we name it, members)
    structs: Vec<(String, Vec<String>)>,
    /// (PM_ name, real expression)
    constants: Vec<(String, String)>,
    problems: Vec<String>,
}

impl Declarations {
    fn read(variant: &Path) -> Self {
        let mut declared = Declarations::default();
        declared.read_file(variant);
        declared
    }

    fn read_file(&mut self, path: &Path) {
        let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut open: Option<(Option<String>, Vec<String>)> = None;
        for raw in text.lines() {
            let line = strip_comment(raw);
            let line = line.trim();
            if let Some(include) = raw.trim().strip_prefix("#include \"") {
                let name = include.trim_end_matches('"');
                self.read_file(&path.parent().unwrap().join(name));
                continue;
            }
            if let Some(rest) = raw.trim().strip_prefix("#define PM_") {
                let name = format!("PM_{}", rest.split_whitespace().next().unwrap());
                match raw.split_once("/* probe: ") {
                    Some((_, probe)) => {
                        let probe = probe.trim_end().trim_end_matches("*/").trim();
                        if !probe.starts_with("none") {
                            self.constants.push((name, probe.to_owned()));
                        }
                    }
                    None => self
                        .problems
                        .push(format!("{}: {name} has no probe: comment", path.display())),
                }
                continue;
            }
            if let Some((tag, members)) = open.as_mut() {
                if line.starts_with('}') {
                    let typedef_name = line
                        .trim_start_matches('}')
                        .trim()
                        .trim_end_matches(';')
                        .trim();
                    let c_type = if typedef_name.is_empty() {
                        format!("struct {}", tag.clone().expect("struct without a name"))
                    } else {
                        typedef_name.to_owned()
                    };
                    let members = std::mem::take(members);
                    self.structs.push((c_type, members));
                    open = None;
                } else if line.ends_with(';') {
                    members.push(member_name(line));
                }
                continue;
            }
            if line.ends_with('{')
                && (line.starts_with("struct ") || line.starts_with("typedef struct"))
            {
                let words: Vec<&str> = line.trim_end_matches('{').split_whitespace().collect();
                let tag = words
                    .last()
                    .filter(|w| **w != "struct")
                    .map(|w| w.to_string());
                open = Some((tag, Vec::new()));
            }
        }
    }

    /// C source printing "item value" lines for every struct and member.
    /// `real`: name the real types (pm_X → X) and include the real headers.
    fn layout_program(&self, variant: &Path, real: bool) -> String {
        let mut c = String::from("#include <stdio.h>\n#include <stddef.h>\n");
        if real {
            c += &real_includes();
        } else {
            c += &format!("#include \"{}\"\n", variant.display());
        }
        c += "int main(void) {\n";
        for (ours, members) in &self.structs {
            let c_type = if real { real_name(ours) } else { ours.clone() };
            c += &format!(
                "  printf(\"{ours}:size\\t%zu\\n{ours}:align\\t%zu\\n\", sizeof({c_type}), _Alignof({c_type}));\n"
            );
            for m in members {
                c += &format!(
                    "  printf(\"{ours}.{m}:offset\\t%zu\\n{ours}.{m}:size\\t%zu\\n\", offsetof({c_type}, {m}), sizeof((({c_type} *)0)->{m}));\n"
                );
            }
        }
        c + "  return 0;\n}\n"
    }

    fn signature_program(&self, variant: &Path) -> String {
        let mut c = String::from("#include <stdio.h>\n#include <stddef.h>\n");
        c += &real_includes();
        c += "#define PKTMATCH_PROBE_SIGNATURES 1\n";
        for (ours, _) in &self.structs {
            if ours.starts_with("pm_") {
                c += &format!("#define {ours} {}\n", real_name(ours));
            }
        }
        c += &format!("#include \"{}\"\n", variant.display());
        c += "int main(void) {\n";
        for (name, expr) in &self.constants {
            c += &format!(
                "  printf(\"{name} %lld %lld\\n\", (long long)({name}), (long long)({expr}));\n"
            );
        }
        c + "  return 0;\n}\n"
    }
}

fn real_includes() -> String {
    let mut c: String = REAL_INCLUDES
        .iter()
        .map(|h| format!("#include <{h}>\n"))
        .collect();
    c += "#if __has_include(<wsutil/plugins.h>)\n#include <wsutil/plugins.h>\n#endif\n";
    // struct wtap: public from 4.6, from the source package before.
    c += "#if __has_include(<wiretap/wtap_module.h>)\n#include <wiretap/wtap_module.h>\n";
    c += "#else\n#include <wiretap/wtap-int.h>\n#endif\n";
    c
}

fn real_name(ours: &str) -> String {
    ours.strip_prefix("pm_").unwrap_or(ours).to_owned()
}

fn strip_comment(line: &str) -> &str {
    line.split("/*").next().unwrap_or("")
}

/// `const char *name;`, `void (*cb)(void);`, `int x[4];` → the member name.
fn member_name(line: &str) -> String {
    let decl = line.trim_end_matches(';');
    if let Some((_, rest)) = decl.split_once("(*") {
        return rest.split(')').next().unwrap().trim().to_owned();
    }
    let decl = decl.split('[').next().unwrap();
    decl.rsplit(|c: char| c.is_whitespace() || c == '*')
        .next()
        .unwrap()
        .to_owned()
}

fn parse_pairs(out: &str) -> BTreeMap<String, String> {
    out.lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// Compiles `source` into an executable with the cc crate's compiler, runs
/// it and returns its stdout; Err carries the compiler's diagnostics.
fn run_program(
    work: &Path,
    name: &str,
    source: &str,
    real_include: &[&Path],
) -> Result<String, String> {
    let src = work.join(format!("{name}.c"));
    let exe = work.join(name);
    fs::write(&src, source).unwrap();
    let target = env!("PKTMATCH_TARGET");
    let compiler = cc::Build::new()
        .target(target)
        .host(target)
        .opt_level(0)
        .cargo_metadata(false)
        .get_compiler();
    let mut cmd = compiler.to_command();
    cmd.arg("-std=gnu11")
        .arg("-w")
        .arg("-o")
        .arg(&exe)
        .arg(&src);
    for dir in real_include {
        cmd.arg("-I").arg(dir);
        cmd.args(glib_cflags());
    }
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run the C compiler: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{name}.c does not compile:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let run = Command::new(&exe)
        .output()
        .map_err(|e| format!("cannot run {name}: {e}"))?;
    Ok(String::from_utf8_lossy(&run.stdout).into_owned())
}

fn glib_cflags() -> Vec<String> {
    let out = Command::new("pkg-config")
        .args(["--cflags", "glib-2.0"])
        .output()
        .expect("pkg-config is needed for the GLib include path (apt-get install pkg-config libglib2.0-dev)");
    assert!(
        out.status.success(),
        "pkg-config --cflags glib-2.0 failed: install libglib2.0-dev"
    );
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

#[test]
fn member_names_are_read_from_declarations() {
    assert_eq!(member_name("const char *name;"), "name");
    assert_eq!(
        member_name("void (*register_handoff)(void);"),
        "register_handoff"
    );
    assert_eq!(
        member_name("int (*can_write_encap)(int);"),
        "can_write_encap"
    );
    assert_eq!(member_name("header_field_info hfinfo;"), "hfinfo");
    assert_eq!(member_name("char name[16];"), "name");
}
