//! struct wtap member offsets read from the machine code of a real
//! libwiretap, for the versions whose wiretap/wtap-int.h is not installed
//! (before 4.6) and cannot be fetched from a source package.
//!
//! Each offset comes from one exported function of wiretap/wtap.c whose body
//! is a fixed, public statement about that member (Wireshark's wtap.c, the
//! same in 4.0–4.6):
//!
//! | member | function | statement |
//! |---|---|---|
//! | file_type_subtype | `wtap_file_type_subtype` | `return wth->file_type_subtype;` |
//! | snapshot_length | `wtap_snapshot_length` | `return wth->snapshot_length;` |
//! | file_encap | `wtap_file_encap` | `return wth->file_encap;` |
//! | file_tsprec | `wtap_file_tsprec` | `return wth->file_tsprec;` |
//! | fh, random_fh | `wtap_fdclose` | `file_fdclose(wth->fh)`, then `file_fdclose(wth->random_fh)` |
//! | subtype_read | `wtap_read` | the one indirect call, `wth->subtype_read(...)` |
//! | subtype_seek_read | `wtap_seek_read` | the one indirect call, `wth->subtype_seek_read(...)` |
//! | subtype_close | `wtap_close` | the first indirect call, `(*wth->subtype_close)(wth)` |
//! | priv | `wtap_close` | the first `g_free(wth->priv)` |
//!
//! The machine code is x86-64 (AT&T syntax from binutils' objdump). The
//! method is checked wherever the real header is also at hand (4.0 with its
//! source package, 4.6 with its public wtap_module.h): there the offsets read
//! here must equal the compiler's, or the test fails.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// Member name → byte offset, for every member this module knows how to read.
pub type Offsets = BTreeMap<&'static str, u64>;

/// Reads the offsets from `lib` (a libwiretap shared object).
pub fn offsets(lib: &Path) -> Result<Offsets, String> {
    if std::env::consts::ARCH != "x86_64" {
        return Err(format!(
            "machine code is read for x86-64 only, this is {}",
            std::env::consts::ARCH
        ));
    }
    let out = Command::new("objdump")
        .args(["-d", "--no-show-raw-insn"])
        .arg(lib)
        .output()
        .map_err(|e| format!("cannot run objdump (package binutils): {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "objdump -d {} failed: {}",
            lib.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    read_offsets(&functions(&String::from_utf8_lossy(&out.stdout)))
}

fn read_offsets(fns: &BTreeMap<String, Vec<String>>) -> Result<Offsets, String> {
    let body = |name: &str| {
        fns.get(name)
            .ok_or_else(|| format!("{name} not found in the library"))
    };
    let mut found = Offsets::new();
    for (member, function) in [
        ("file_type_subtype", "wtap_file_type_subtype"),
        ("snapshot_length", "wtap_snapshot_length"),
        ("file_encap", "wtap_file_encap"),
        ("file_tsprec", "wtap_file_tsprec"),
    ] {
        let insn = body(function)?
            .iter()
            .find(|i| !i.starts_with("endbr64"))
            .ok_or_else(|| format!("{function} is empty"))?;
        let off = load_from(insn, "%rdi")
            .filter(|_| insn.ends_with(",%eax"))
            .ok_or_else(|| format!("{function}: expected `mov OFF(%rdi),%eax`, found `{insn}`"))?;
        found.insert(member, off);
    }
    let closes: Vec<u64> = dedup(
        body("wtap_fdclose")?
            .iter()
            .filter(|i| i.ends_with(",%rdi"))
            .filter_map(|i| load_from_any(i)),
    );
    match closes.as_slice() {
        [fh, random_fh] => {
            found.insert("fh", *fh);
            found.insert("random_fh", *random_fh);
        }
        other => return Err(format!("wtap_fdclose: expected two loads, found {other:?}")),
    }
    found.insert(
        "subtype_read",
        first_indirect_call(body("wtap_read")?, "wtap_read")?,
    );
    found.insert(
        "subtype_seek_read",
        first_indirect_call(body("wtap_seek_read")?, "wtap_seek_read")?,
    );
    let close = body("wtap_close")?;
    found.insert("subtype_close", first_indirect_call(close, "wtap_close")?);
    let free = close
        .iter()
        .position(|i| i.contains("<g_free@plt>"))
        .ok_or("wtap_close: no call to g_free")?;
    let priv_load = close[..free]
        .iter()
        .rev()
        .find(|i| i.ends_with(",%rdi"))
        .and_then(|i| load_from_any(i))
        .ok_or("wtap_close: no load into %rdi before g_free")?;
    found.insert("priv", priv_load);
    Ok(found)
}

/// The memory offset an indirect call goes through: `call *OFF(%reg)`, or
/// `call *%reg` after `mov OFF(%base),%reg`.
fn first_indirect_call(body: &[String], function: &str) -> Result<u64, String> {
    for (n, insn) in body.iter().enumerate() {
        let Some(target) = insn.strip_prefix("call   *") else {
            continue;
        };
        if let Some(off) = parse_memory(target) {
            return Ok(off.0);
        }
        // call *%rax: the last load into that register before it.
        return body[..n]
            .iter()
            .rev()
            .find(|i| i.starts_with("mov ") && i.ends_with(&format!(",{target}")))
            .and_then(|i| load_from_any(i))
            .ok_or_else(|| format!("{function}: no load before `{insn}`"));
    }
    Err(format!("{function}: no indirect call"))
}

/// `mov OFF(%base),%dst` with the given base register → OFF.
fn load_from(insn: &str, base: &str) -> Option<u64> {
    let operands = insn.strip_prefix("mov ")?.trim_start();
    let (src, _) = operands.split_once(',')?;
    let (off, reg) = parse_memory(src)?;
    (reg == base).then_some(off)
}

fn load_from_any(insn: &str) -> Option<u64> {
    let operands = insn.strip_prefix("mov ")?.trim_start();
    let (src, _) = operands.split_once(',')?;
    parse_memory(src).map(|(off, _)| off)
}

/// `0x60(%rdi)` → (0x60, "%rdi"); `(%rdi)` → (0, "%rdi").
fn parse_memory(operand: &str) -> Option<(u64, &str)> {
    let (disp, rest) = operand.split_once('(')?;
    let reg = rest.strip_suffix(')')?;
    if reg.contains(',') || !reg.starts_with('%') {
        return None; // indexed addressing is not a member access
    }
    let off = match disp {
        "" => 0,
        hex => u64::from_str_radix(hex.strip_prefix("0x")?, 16).ok()?,
    };
    Some((off, reg))
}

fn dedup(values: impl Iterator<Item = u64>) -> Vec<u64> {
    let mut out = Vec::new();
    for v in values {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

/// objdump output → exported function name → its instructions (mnemonic and
/// operands, addresses and comments left out). A function's body ends at the
/// next blank line.
fn functions(disassembly: &str) -> BTreeMap<String, Vec<String>> {
    let mut fns = BTreeMap::new();
    let mut current: Option<(String, Vec<String>)> = None;
    for line in disassembly.lines() {
        if let Some(name) = line
            .strip_suffix(">:")
            .and_then(|l| l.split_once(" <"))
            .map(|(_, name)| name.split('@').next().unwrap_or(name).to_owned())
        {
            if let Some((n, b)) = current.take() {
                fns.insert(n, b);
            }
            current = Some((name, Vec::new()));
        } else if line.trim().is_empty() {
            if let Some((n, b)) = current.take() {
                fns.insert(n, b);
            }
        } else if let Some((_, body)) = current.as_mut() {
            if let Some((_, insn)) = line.split_once(":\t") {
                let insn = insn.split(" #").next().unwrap_or(insn).trim_end();
                body.push(insn.to_owned());
            }
        }
    }
    if let Some((n, b)) = current {
        fns.insert(n, b);
    }
    fns
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Shapes seen in Debian's 4.0 (no endbr64) and 4.6 (endbr64, other
    /// registers) builds.
    #[test]
    fn reads_members_from_both_code_shapes() {
        let dump = "\
0000000000005cc80 <wtap_file_type_subtype@@Base>:
   5cc80:\tmov    0x14(%rdi),%eax
   5cc83:\tret

0000000000005cc90 <wtap_snapshot_length@@Base>:
   5cc90:\tendbr64
   5cc94:\tmov    0x18(%rdi),%eax
   5cc97:\tret

0000000000005cca0 <wtap_file_encap@@Base>:
   5cca0:\tmov    0xa0(%rdi),%eax

0000000000005ccb0 <wtap_file_tsprec@@Base>:
   5ccb0:\tmov    0xa4(%rdi),%eax

000000000007b480 <wtap_fdclose@@Base>:
   7b484:\tmov    %rdi,%rax
   7b487:\tmov    (%rdi),%rdi
   7b498:\tcall   76b50 <file_error@@Base+0x80>
   7b4a2:\tmov    0x8(%rax),%rdi
   7b4c0:\tmov    0x8(%rax),%rdi

000000000005de10 <wtap_read@@Base>:
   5de21:\tmov    0x80(%rdi),%eax
   5de5f:\tcall   *0x60(%rdi)

000000000005e0d0 <wtap_seek_read@@Base>:
   5e117:\tcall   *0x68(%rdi)

000000000005dca0 <wtap_close@@Base>:
   5dca4:\tcall   12f80 <wtap_sequential_close@plt>
   5dca9:\tmov    0x78(%rbx),%rax
   5dcb5:\tcall   *%rax
   5dcb7:\tmov    0x8(%rbx),%rdi
   5dcc5:\tmov    0x50(%rbx),%rdi
   5dcc9:\tcall   133a0 <g_free@plt>
";
        let got = read_offsets(&functions(dump)).unwrap();
        let want: Offsets = [
            ("file_type_subtype", 0x14),
            ("snapshot_length", 0x18),
            ("file_encap", 0xa0),
            ("file_tsprec", 0xa4),
            ("fh", 0),
            ("random_fh", 8),
            ("subtype_read", 0x60),
            ("subtype_seek_read", 0x68),
            ("subtype_close", 0x78),
            ("priv", 0x50),
        ]
        .into_iter()
        .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn an_unexpected_body_is_an_error_not_a_guess() {
        let dump = "\
0000000000005cc80 <wtap_file_type_subtype@@Base>:
   5cc80:\tmov    %rdi,%rax
";
        let err = read_offsets(&functions(dump)).unwrap_err();
        assert!(err.contains("wtap_file_type_subtype"), "{err}");
    }
}
