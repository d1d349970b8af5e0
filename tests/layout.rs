//! Layout test: our hand-written headers against the real Wireshark headers.
//!
//! For every supported version whose Debian headers have been gathered
//! (`tests/fetch-wireshark-headers.sh`, run by `make test`, which records
//! where each piece came from in `X.Y/PROVENANCE`), this compiles, with the
//! `cc` crate's compiler:
//!
//! 1. `ours.c` — our variant header alone; prints size/alignment of every
//!    struct we declare and offset/size of each member;
//! 2. `real.c` — the real headers; prints the same for the real types;
//! 3. `signatures.c` — the real headers, then ours with struct bodies left
//!    out: the C compiler rejects any function or typedef we declare with a
//!    type incompatible with the real one; it prints each PM_ constant next
//!    to the real expression named in its `probe:` comment.
//!
//! Before 4.6, struct wtap is in wiretap/wtap-int.h, which only the source
//! package has. Its member offsets are also read from the machine code of the
//! real libwiretap of the same version (`layout_support/wtap_binary.rs`), so
//! they are verified even when the source package cannot be fetched; where
//! both exist they must agree.
//!
//! Any difference fails the test with the version, the item and both values.
//! A version whose pieces could not be fetched (archive 404, no network) does
//! not fail: the report (printed, and kept in target/layout-report.txt, which
//! `make test` prints) says exactly what was NOT verified. The installed
//! Wireshark's own headers are local: missing, they fail the test.

#[path = "layout_support/wtap_binary.rs"]
mod wtap_binary;

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
    "epan/tap.h",
    "epan/stat_tap_ui.h",
    "wiretap/wtap.h",
    "wiretap/file_wrappers.h",
    "wsutil/wmem/wmem.h",
];

#[test]
fn our_headers_match_real_wireshark_headers() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let real_root = std::env::var_os("PKTMATCH_REAL_HEADERS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/wireshark-headers"));
    let installed = installed_version();
    let mut problems = Vec::new();
    let mut report = Vec::new();
    for version in VERSIONS {
        let dir = real_root.join(version);
        let provenance = Provenance::read(&dir);
        let variant = root
            .join("wireshark-headers")
            .join(version)
            .join("wireshark-abi.h");
        let is_installed = installed.as_deref() == Some(*version);
        let (lines, found) = check_version(version, &variant, &dir, &provenance, is_installed);
        report.extend(lines);
        problems.extend(found);
    }
    let report = report.join("\n");
    let report_path = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("layout-report.txt");
    fs::write(&report_path, format!("{report}\n")).unwrap();
    println!("{report}");
    assert!(
        problems.is_empty(),
        "header mismatches:\n{}\n\n{report}",
        problems.join("\n")
    );
}

/// The installed Wireshark's major.minor (pkg-config, as the header fetcher
/// asks), else the Makefile's WIRESHARK_VERSION.
fn installed_version() -> Option<String> {
    let from_pkg_config = Command::new("pkg-config")
        .args(["--modversion", "wireshark"])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .and_then(|out| {
            let v = String::from_utf8_lossy(&out.stdout).into_owned();
            let mut parts = v.trim().split('.');
            Some(format!("{}.{}", parts.next()?, parts.next()?))
        });
    from_pkg_config.or_else(|| {
        std::env::var("WIRESHARK_VERSION")
            .ok()
            .filter(|v| !v.is_empty())
    })
}

/// Where each piece of one version came from: `Ok(description)` or
/// `Err(why it could not be had)`, as tests/fetch-wireshark-headers.sh wrote it.
struct Provenance {
    headers: Result<String, String>,
    library: Result<String, String>,
    wtap_int: Result<String, String>,
}

impl Provenance {
    fn read(dir: &Path) -> Self {
        let text = fs::read_to_string(dir.join("PROVENANCE")).unwrap_or_default();
        let mut map: BTreeMap<&str, &str> =
            text.lines().filter_map(|l| l.split_once('=')).collect();
        let inc = dir.join("usr/include/wireshark");
        let mut piece = |key: &str, present: bool, missing: &str| {
            match map.remove(key) {
                Some(v) if v.starts_with("NOT obtainable") => {
                    Err(v.trim_start_matches("NOT obtainable: ").to_owned())
                }
                Some(v) => Ok(v.to_owned()),
                // No PROVENANCE (headers given by PKTMATCH_REAL_HEADERS): by presence.
                None if present => Ok("given".to_owned()),
                None => Err(missing.to_owned()),
            }
        };
        Provenance {
            headers: piece(
                "headers",
                inc.join("epan/proto.h").exists(),
                "not fetched: run tests/fetch-wireshark-headers.sh (make test does)",
            ),
            library: piece(
                "library",
                dir.join("lib/libwiretap.so").exists(),
                "not fetched",
            ),
            wtap_int: piece(
                "wtap_int",
                inc.join("wiretap/wtap-int.h").exists()
                    || inc.join("wiretap/wtap_module.h").exists(),
                "not fetched",
            ),
        }
    }
}

/// Checks one version; returns its report lines and the problems found.
fn check_version(
    version: &str,
    variant: &Path,
    dir: &Path,
    provenance: &Provenance,
    is_installed: bool,
) -> (Vec<String>, Vec<String>) {
    let mut report = Vec::new();
    let mut problems = Vec::new();
    let headers = match &provenance.headers {
        Ok(h) => h,
        Err(why) => {
            let line = format!(
                "Wireshark {version}: headers NOT obtainable: {why}; NOTHING verified for {version}"
            );
            if is_installed {
                problems.push(format!("{version} is the installed version: {line}"));
            }
            report.push(format!("{line} <<< WARNING"));
            return (report, problems);
        }
    };
    let real = dir.join("usr/include/wireshark");
    let wtap_struct =
        real.join("wiretap/wtap_module.h").exists() || real.join("wiretap/wtap-int.h").exists();
    let declared = Declarations::read(variant);
    let compiled = compile_checks(
        version,
        variant,
        &real,
        &declared,
        wtap_struct,
        &mut problems,
    );
    report.push(format!(
        "Wireshark {version}: headers: {headers}\n  compiled against them: {compiled}"
    ));

    // struct wtap: the compiler (real header) and/or the library's machine code.
    let wtap_constants = declared.wtap_member_constants();
    let binary = provenance
        .library
        .clone()
        .and_then(|lib| Ok((lib, wtap_binary::offsets(&dir.join("lib/libwiretap.so"))?)));
    let by_binary = match &binary {
        Ok((lib, offsets)) => {
            let mut agreed = 0;
            for (name, member, ours) in &wtap_constants {
                match offsets.get(member.as_str()) {
                    Some(real) if real == ours => agreed += 1,
                    Some(real) => problems.push(format!(
                        "{version}: {name} is {ours}, the machine code of {lib} reads struct wtap.{member} at {real}"
                    )),
                    None => {}
                }
            }
            Some((lib.clone(), agreed))
        }
        Err(_) => None,
    };
    let n = wtap_constants.len();
    let wtap_line = match (&provenance.wtap_int, wtap_struct, &by_binary) {
        (Ok(src), true, Some((lib, agreed))) => format!(
            "struct wtap: {src}: {n} member offsets and the reader callback types compiled; \
             the machine code of {lib} agrees on {agreed}/{n}"
        ),
        (Ok(src), true, None) => format!(
            "struct wtap: {src}: {n} member offsets and the reader callback types compiled \
             (machine code not read: {})",
            binary.as_ref().err().unwrap()
        ),
        (Err(why), _, Some((lib, agreed))) if *agreed == n => format!(
            "struct wtap: wtap-int.h NOT obtainable: {why}; {agreed}/{n} member offsets verified \
             from the machine code of {lib} instead; the reader callback types \
             (subtype_read_func, subtype_seek_read_func) NOT verified for {version} <<< WARNING"
        ),
        (Err(why), _, _) => {
            let line = format!(
                "struct wtap: wtap-int.h NOT obtainable: {why}; machine code: {}; \
                 struct wtap layout NOT verified for {version} <<< WARNING",
                match &binary {
                    Ok((lib, _)) => format!("{lib} did not give every member"),
                    Err(e) => e.clone(),
                }
            );
            if is_installed {
                problems.push(format!("{version} is the installed version: {line}"));
            }
            line
        }
        (Ok(src), false, _) => {
            problems.push(format!(
                "{version}: PROVENANCE says wtap-int.h is {src}, but it is not there"
            ));
            String::new()
        }
    };
    report.push(format!("  {wtap_line}"));
    (report, problems)
}

/// The three compile probes; returns what they covered.
fn compile_checks(
    version: &str,
    variant: &Path,
    real: &Path,
    declared: &Declarations,
    wtap_struct: bool,
    problems: &mut Vec<String>,
) -> String {
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("layout-{version}"));
    fs::create_dir_all(&work).unwrap();
    problems.extend(declared.problems.iter().cloned());
    // wiretap/file_wrappers.h (file_read, file_seek, ... which we declare)
    // includes wsutil/file_util.h, installed only from 4.6 on and otherwise
    // in the source package. Without it, a stand-in declares the one type
    // file_wrappers.h takes from it, as an opaque struct (only pointers to it
    // appear), after every real include directory.
    let stand_in = work.join("stand-in");
    let stand_in_used = !real.join("wsutil/file_util.h").exists();
    if stand_in_used {
        fs::create_dir_all(stand_in.join("wsutil")).unwrap();
        fs::write(
            stand_in.join("wsutil/file_util.h"),
            "/* pktmatch layout test: stand-in, see tests/layout.rs */\n\
             typedef struct pm_stand_in_statb64 ws_statb64;\n",
        )
        .unwrap();
    }
    let real_dirs: Vec<&Path> = if stand_in_used {
        vec![real, &stand_in]
    } else {
        vec![real]
    };

    let ours = run_program(&work, "ours", &declared.layout_program(variant, None), &[]);
    let theirs = run_program(
        &work,
        "real",
        &declared.layout_program(variant, Some(wtap_struct)),
        &real_dirs,
    );
    let (ours, theirs) = match (ours, theirs) {
        (Ok(o), Ok(t)) => (o, t),
        (o, t) => {
            for err in [o.err(), t.err()].into_iter().flatten() {
                problems.push(format!("{version}: {err}"));
            }
            return "FAILED to compile".into();
        }
    };
    let ours = parse_pairs(&ours);
    let theirs = parse_pairs(&theirs);
    let members: usize = declared.structs.iter().map(|(_, m)| m.len()).sum();
    let expected_items = 2 * declared.structs.len() + 2 * members;
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

    let constants: Vec<&(String, String)> = declared
        .constants
        .iter()
        .filter(|(_, expr)| wtap_struct || !needs_wtap_struct(expr))
        .collect();
    match run_program(
        &work,
        "signatures",
        &declared.signature_program(variant, &constants, wtap_struct),
        &real_dirs,
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
            if checked != constants.len() {
                problems.push(format!(
                    "{version}: {checked} constants printed, {} expected",
                    constants.len()
                ));
            }
        }
    }
    format!(
        "{} structs ({members} members: offset, size, alignment), {} of {} constants, \
         every declared function and typedef{}",
        declared.structs.len(),
        constants.len(),
        declared.constants.len(),
        if stand_in_used {
            " (wsutil/file_util.h not installed: a stand-in declares ws_statb64 opaque)"
        } else {
            ""
        }
    )
}

/// A probe expression that needs the complete struct wtap (wtap-int.h
/// before 4.6).
fn needs_wtap_struct(expr: &str) -> bool {
    expr.contains("struct wtap,")
}

/// What our headers declare, read from the disciplined layout described in
/// wireshark-headers/common/plugin.h.
#[derive(Default)]
struct Declarations {
    /// (C type as we name it, members)
    structs: Vec<(String, Vec<String>)>,
    /// (PM_ name, real expression)
    constants: Vec<(String, String)>,
    /// PM_ name → our value, where it is a plain number
    values: BTreeMap<String, u64>,
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
                let mut words = rest.split_whitespace();
                let name = format!("PM_{}", words.next().unwrap());
                if let Some(v) = words.next().and_then(|v| v.parse().ok()) {
                    self.values.insert(name.clone(), v);
                }
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
    /// `real`: None for ours, else Some(whether struct wtap is at hand).
    fn layout_program(&self, variant: &Path, real: Option<bool>) -> String {
        let mut c = String::from("#include <stdio.h>\n#include <stddef.h>\n");
        if let Some(wtap_struct) = real {
            c += &real_includes(wtap_struct);
        } else {
            c += &format!("#include \"{}\"\n", variant.display());
        }
        c += "int main(void) {\n";
        for (ours, members) in &self.structs {
            let c_type = if real.is_some() {
                real_name(ours)
            } else {
                ours.clone()
            };
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

    fn signature_program(
        &self,
        variant: &Path,
        constants: &[&(String, String)],
        wtap_struct: bool,
    ) -> String {
        let mut c = String::from("#include <stdio.h>\n#include <stddef.h>\n");
        c += &real_includes(wtap_struct);
        c += "#define PKTMATCH_PROBE_SIGNATURES 1\n";
        if !wtap_struct {
            c += "#define PKTMATCH_NO_WTAP_STRUCT 1\n";
        }
        for (ours, _) in &self.structs {
            if ours.starts_with("pm_") {
                c += &format!("#define {ours} {}\n", real_name(ours));
            }
        }
        c += &format!("#include \"{}\"\n", variant.display());
        c += "int main(void) {\n";
        for (name, expr) in constants {
            c += &format!(
                "  printf(\"{name} %lld %lld\\n\", (long long)({name}), (long long)({expr}));\n"
            );
        }
        c + "  return 0;\n}\n"
    }
}

/// (PM_ name, struct wtap member, our value) of every constant whose probe
/// is `offsetof(struct wtap, member)`.
impl Declarations {
    fn wtap_member_constants(&self) -> Vec<(String, String, u64)> {
        self.constants
            .iter()
            .filter_map(|(name, expr)| {
                let member = expr
                    .strip_prefix("offsetof(struct wtap, ")?
                    .strip_suffix(')')?
                    .trim();
                Some((name.clone(), member.to_owned(), *self.values.get(name)?))
            })
            .collect()
    }
}

fn real_includes(wtap_struct: bool) -> String {
    let mut c: String = REAL_INCLUDES
        .iter()
        .map(|h| format!("#include <{h}>\n"))
        .collect();
    c += "#if __has_include(<wsutil/plugins.h>)\n#include <wsutil/plugins.h>\n#endif\n";
    // struct wtap: public from 4.6, from the source package before.
    if wtap_struct {
        c += "#if __has_include(<wiretap/wtap_module.h>)\n#include <wiretap/wtap_module.h>\n";
        c += "#else\n#include <wiretap/wtap-int.h>\n#endif\n";
    }
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
    // The real headers first; any further directory only after the system's.
    for (n, dir) in real_include.iter().enumerate() {
        cmd.arg(if n == 0 { "-I" } else { "-idirafter" }).arg(dir);
    }
    if !real_include.is_empty() {
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
