//! Runs the real `tshark` with our freshly built plugins.
//!
//! Each [`Wireshark`] gets its own HOME with the plugins in the personal
//! plugin directory (`~/.local/lib/wireshark/plugins/X.Y/{epan,wiretap}`).
//! tshark ignores personal plugins when started as root, so as root the
//! commands run as `nobody` (setpriv, or `chroot --userspec` in compat mode);
//! as a normal user they run directly.
//!
//! Environment:
//! * `PKTMATCH_PLUGIN_DIR`: where libpktmatch_{epan,wiretap}.so are
//!   (default target/release, as `make` builds them);
//! * `PKTMATCH_FAULT_PLUGIN_DIR`: the fault-injection build
//!   (default target/fault/release, as `make test` builds it);
//! * `PKTMATCH_TSHARK_ROOT`: run tshark inside this root file system
//!   (tests/compat: Debian trixie or sid with tshark 4.4 / 4.6).

#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Wireshark major.minor the plugins were built for.
pub const ABI: &str = env!("PKTMATCH_WIRESHARK_ABI");
/// The uid/gid tests drop to when running as root.
const NOBODY: u32 = 65534;

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn dir_from_env(var: &str, default: &str) -> PathBuf {
    std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(default))
}

/// The release build of both plugins.
pub fn release_plugins() -> (PathBuf, PathBuf) {
    plugins_in(
        &dir_from_env("PKTMATCH_PLUGIN_DIR", "target/release"),
        "make",
    )
}

/// The epan plugin built with the `fault-injection` feature, beside the
/// release wiretap plugin.
pub fn fault_plugins() -> (PathBuf, PathBuf) {
    let dir = dir_from_env("PKTMATCH_FAULT_PLUGIN_DIR", "target/fault/release");
    let epan = existing(dir.join("libpktmatch_epan.so"), "make test");
    (epan, release_plugins().1)
}

fn plugins_in(dir: &Path, how: &str) -> (PathBuf, PathBuf) {
    (
        existing(dir.join("libpktmatch_epan.so"), how),
        existing(dir.join("libpktmatch_wiretap.so"), how),
    )
}

fn existing(lib: PathBuf, how: &str) -> PathBuf {
    assert!(
        lib.exists(),
        "{} is missing: build it with `{how}`",
        lib.display()
    );
    lib
}

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// A private Wireshark setup: HOME with our plugins installed.
pub struct Wireshark {
    /// Root file system tshark runs in ("/" normally).
    root: PathBuf,
    /// HOME as tshark sees it.
    home: PathBuf,
}

static NEXT: AtomicUsize = AtomicUsize::new(0);

impl Wireshark {
    /// Installs the given plugin libraries as pktmatch.so (epan) and
    /// ctrace.so (wiretap), the names `make install` uses.
    pub fn with_plugins((epan, wiretap): (PathBuf, PathBuf)) -> Self {
        let ws = Self::empty_home();
        let plugins = ws
            .host_path(&ws.home)
            .join(format!(".local/lib/wireshark/plugins/{ABI}"));
        fs::create_dir_all(plugins.join("epan")).unwrap();
        fs::create_dir_all(plugins.join("wiretap")).unwrap();
        fs::copy(epan, plugins.join("epan/pktmatch.so")).unwrap();
        fs::copy(wiretap, plugins.join("wiretap/ctrace.so")).unwrap();
        ws.give_home_to_nobody();
        ws
    }

    /// The same Wireshark without our plugins: what a user sees who has not
    /// installed them (e.g. to check a filter matches the same frames).
    pub fn without_plugins() -> Self {
        let ws = Self::empty_home();
        ws.give_home_to_nobody();
        ws
    }

    fn empty_home() -> Self {
        let root = std::env::var_os("PKTMATCH_TSHARK_ROOT")
            .map(PathBuf::from)
            .unwrap_or_else(|| "/".into());
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let home = PathBuf::from(format!("/tmp/pktmatch-test-{}-{n}", std::process::id()));
        let ws = Wireshark { root, home };
        let _ = fs::remove_dir_all(ws.host_path(&ws.home));
        fs::create_dir_all(ws.config_dir()).unwrap();
        ws
    }

    fn host_path(&self, inside: &Path) -> PathBuf {
        self.root.join(inside.strip_prefix("/").unwrap_or(inside))
    }

    /// Wireshark's personal configuration directory, on the host.
    pub fn config_dir(&self) -> PathBuf {
        self.host_path(&self.home).join(".config/wireshark")
    }

    fn give_home_to_nobody(&self) {
        if !is_root() {
            return;
        }
        let status = Command::new("chown")
            .args(["-R", &format!("{NOBODY}:{NOBODY}")])
            .arg(self.host_path(&self.home))
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Copies a file into HOME; returns its path as tshark sees it.
    pub fn add_file(&self, source: &Path) -> String {
        let inside = self.home.join(source.file_name().unwrap());
        fs::copy(source, self.host_path(&inside)).unwrap();
        self.give_home_to_nobody();
        inside.to_string_lossy().into_owned()
    }

    /// Writes Wireshark's personal preferences file.
    pub fn write_preferences(&self, text: &str) {
        fs::write(self.config_dir().join("preferences"), text).unwrap();
        self.give_home_to_nobody();
    }

    /// Runs tshark with `args`; returns its output whatever the exit status.
    pub fn tshark(&self, args: &[&str]) -> Output {
        self.tool("tshark", args)
    }

    /// Runs a Wireshark command line tool (tshark, capinfos, editcap…) the
    /// way [`Wireshark::tshark`] runs tshark: with our plugins, as nobody
    /// when root.
    pub fn tool(&self, program: &str, args: &[&str]) -> Output {
        let home = self.home.to_string_lossy().into_owned();
        let config = format!("{home}/.config");
        let mut cmd;
        if self.root != Path::new("/") {
            cmd = Command::new("chroot");
            cmd.arg(format!("--userspec={NOBODY}:{NOBODY}"))
                .arg(&self.root);
            cmd.args(["env", "-i", "PATH=/usr/bin:/bin", "LC_ALL=C.UTF-8"]);
            cmd.arg(format!("HOME={home}"))
                .arg(format!("XDG_CONFIG_HOME={config}"));
            cmd.arg(program);
        } else if is_root() {
            cmd = Command::new("setpriv");
            cmd.args([
                &format!("--reuid={NOBODY}"),
                &format!("--regid={NOBODY}"),
                "--clear-groups",
                program,
            ]);
        } else {
            cmd = Command::new(program);
        }
        cmd.env("HOME", &home)
            .env("XDG_CONFIG_HOME", &config)
            .env_remove("WIRESHARK_CONFIG_DIR");
        cmd.args(args).current_dir(self.host_path(&self.home));
        cmd.output()
            .expect("cannot run tshark: install it (apt-get install tshark)")
    }

    /// `tshark -r FILE -T fields` with every occurrence of each of `names`
    /// (comma-separated, booleans as 1/0), keyed by frame number.  tshark prints a field
    /// asked for twice only once, so each is asked for once.  Fails on a
    /// non-zero exit and on any "Dissector bug" warning.
    pub fn fields(
        &self,
        file: &str,
        extra: &[&str],
        names: &[&str],
    ) -> std::collections::BTreeMap<u32, Vec<String>> {
        let mut unique: Vec<&str> = names.to_vec();
        unique.sort_unstable();
        unique.dedup();
        let mut asked = vec!["frame.number"];
        asked.extend(&unique);
        self.field_rows(file, extra, &asked, ",")
            .into_iter()
            .map(|row| {
                let by_name: std::collections::BTreeMap<&str, &String> =
                    unique.iter().copied().zip(&row[1..]).collect();
                let values = names.iter().map(|n| same_booleans(by_name[n])).collect();
                (row[0].parse().unwrap(), values)
            })
            .collect()
    }

    /// `tshark -r FILE -T fields` rows, one column per name, every
    /// occurrence joined by `aggregator`.  Fails on a non-zero exit and on
    /// any "Dissector bug" warning.
    pub fn field_rows(
        &self,
        file: &str,
        extra: &[&str],
        names: &[&str],
        aggregator: &str,
    ) -> Vec<Vec<String>> {
        let aggregate = format!("aggregator={aggregator}");
        let mut args = vec!["-r", file, "-T", "fields", "-E", "occurrence=a"];
        args.extend(["-E", &aggregate]);
        args.extend(extra);
        for name in names {
            args.extend(["-e", name]);
        }
        let out = self.tshark(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && !stderr.contains("Dissector bug"),
            "tshark {args:?}: {}\n{stderr}",
            out.status
        );
        rows(&String::from_utf8_lossy(&out.stdout))
    }

    /// Runs tshark, asserts exit status 0, returns stdout.
    pub fn tshark_ok(&self, args: &[&str]) -> String {
        let out = self.tshark(args);
        assert!(
            out.status.success(),
            "tshark {args:?} failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Wireshark {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(self.host_path(&self.home));
    }
}

/// Makes a pcap from a text2pcap hex dump in tests/data, with UDP ports.
/// text2pcap (Wireshark's own tool) wraps each dumped payload in
/// Ethernet/IPv4/UDP headers.
pub fn pcap_from_hex(hex_name: &str, udp_ports: (u16, u16), out_dir: &Path) -> PathBuf {
    let input = repo_root().join("tests/data").join(hex_name);
    let output = out_dir.join(
        Path::new(hex_name)
            .with_extension("pcap")
            .file_name()
            .unwrap(),
    );
    let status = Command::new("text2pcap")
        .arg("-q")
        .arg("-u")
        .arg(format!("{},{}", udp_ports.0, udp_ports.1))
        .arg(&input)
        .arg(&output)
        .status()
        .expect("cannot run text2pcap (package wireshark-common)");
    assert!(status.success(), "text2pcap failed on {}", input.display());
    output
}

/// tshark 4.0 prints booleans as 1/0, 4.4 and later as True/False: 1/0.
fn same_booleans(values: &str) -> String {
    values
        .split(',')
        .map(|v| match v {
            "True" => "1",
            "False" => "0",
            other => other,
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Splits `tshark -T fields` output into rows of columns.
pub fn rows(fields_output: &str) -> Vec<Vec<String>> {
    fields_output
        .lines()
        .map(|line| line.split('\t').map(str::to_owned).collect())
        .collect()
}

/// `pktmatch convert INPUT -o OUTPUT` with every option at its default,
/// after removing an OUTPUT an earlier run of the test left (convert
/// itself refuses to overwrite without --force).
pub fn convert_args(input: &Path, output: &Path) -> pktmatch::convert::Args {
    let _ = fs::remove_file(output);
    pktmatch::convert::Args {
        input: input.to_owned(),
        output: output.to_owned(),
        raw_cte: false,
        leap_seconds: 0,
        force: false,
        report_local_offset: 0,
    }
}
