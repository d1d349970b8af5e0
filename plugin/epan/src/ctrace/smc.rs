//! The SMC extension of format-8 records (SMC-R, SMC-D), as far as the one
//! public reader of it (S3-SMC, 2cUTC's dissector) goes: positions from
//! `ctrace::layout::smc`, all unverified, so every field is named "(S3)"
//! and the bytes after what is known are shown raw.

use ctrace::layout::{smc, Field};
use wireshark_ffi::packet::{Packet, Tree};
use wireshark_ffi::register::{
    Base, BytesField, Registration, StringField, Subtree, Uint64Field, UintField, UintWidth,
};
use wireshark_ffi::statics;

statics!(Subtree: ETT_SMC);
statics!(UintField: EXT_LEN, EXT_TYPE, PROD_FLAGS, CONN_STATE, RMT_CONN_INDEX, LCL_CONN_INDEX,
    LCL_CONN_ID, RMT_CONN_ID, RMT_QP, LCL_QP, LLC_TYPE, LLC_LEN, LLC_FLAGS, LLC_LINK_ID, LLC_REASON);
statics!(Uint64Field: PROD_CURSOR, CONS_CURSOR, RMT_GID, LCL_GID);
statics!(StringField: KIND);
statics!(BytesField: REST);

pub fn register(reg: &Registration) {
    use UintWidth::{U16, U32, U8};
    let blurb = c"Read as AnSyNova's 2cUTC SMC dissector reads it; not verified";
    reg.fields(vec![
        KIND.def(
            c"SMC kind",
            c"ctrace.smc.kind",
            c"SMC-D or SMC-R, by the interface name (EZAISM, EZARI) as 2cUTC tells them",
        ),
        EXT_LEN.def(
            c"(S3) Extension length",
            c"ctrace.smc.ext_len",
            U16,
            Base::Dec,
            blurb,
        ),
        EXT_TYPE.def(
            c"(S3) Extension type",
            c"ctrace.smc.ext_type",
            U16,
            Base::Hex,
            blurb,
        ),
        PROD_CURSOR.def(
            c"(S3) Producer cursor",
            c"ctrace.smc.prod_cursor",
            Base::Hex,
            blurb,
        ),
        CONS_CURSOR.def(
            c"(S3) Consumer cursor",
            c"ctrace.smc.cons_cursor",
            Base::Hex,
            blurb,
        ),
        PROD_FLAGS.def(
            c"(S3) Producer flags",
            c"ctrace.smc.prod_flags",
            U8,
            Base::Hex,
            blurb,
        ),
        CONN_STATE.def(
            c"(S3) Connection state",
            c"ctrace.smc.conn_state",
            U8,
            Base::Hex,
            blurb,
        ),
        RMT_CONN_INDEX.def(
            c"(S3) Remote connection index",
            c"ctrace.smc.rmt_conn_index",
            U8,
            Base::Dec,
            blurb,
        ),
        LCL_CONN_INDEX.def(
            c"(S3) Local connection index",
            c"ctrace.smc.lcl_conn_index",
            U8,
            Base::Dec,
            blurb,
        ),
        LCL_CONN_ID.def(
            c"(S3) Local connection id",
            c"ctrace.smc.lcl_conn_id",
            U32,
            Base::Hex,
            blurb,
        ),
        RMT_CONN_ID.def(
            c"(S3) Remote connection id",
            c"ctrace.smc.rmt_conn_id",
            U32,
            Base::Hex,
            blurb,
        ),
        RMT_GID.def(c"(S3) Remote GID", c"ctrace.smc.rmt_gid", Base::Hex, blurb),
        LCL_GID.def(c"(S3) Local GID", c"ctrace.smc.lcl_gid", Base::Hex, blurb),
        RMT_QP.def(
            c"(S3) Remote QP",
            c"ctrace.smc.rmt_qp",
            U32,
            Base::Dec,
            blurb,
        ),
        LCL_QP.def(
            c"(S3) Local QP",
            c"ctrace.smc.lcl_qp",
            U32,
            Base::Dec,
            blurb,
        ),
        LLC_TYPE.def(
            c"(S3) LLC function",
            c"ctrace.smc.llc.type",
            U8,
            Base::Dec,
            blurb,
        ),
        LLC_LEN.def(
            c"(S3) LLC length",
            c"ctrace.smc.llc.len",
            U16,
            Base::Dec,
            blurb,
        ),
        LLC_FLAGS.def(
            c"(S3) LLC flags",
            c"ctrace.smc.llc.flags",
            U8,
            Base::Hex,
            blurb,
        ),
        LLC_LINK_ID.def(
            c"(S3) LLC link id",
            c"ctrace.smc.llc.link_id",
            U8,
            Base::Dec,
            blurb,
        ),
        LLC_REASON.def(
            c"(S3) LLC reason code",
            c"ctrace.smc.llc.reason",
            U32,
            Base::Hex,
            blurb,
        ),
        REST.def(
            c"SMC bytes not described",
            c"ctrace.smc.rest",
            c"No public source says what these are",
        ),
    ]);
    reg.subtrees(&[&ETT_SMC]);
}

/// Which field shows a table row.
fn uint_field(f: &Field) -> Option<&'static UintField> {
    let pairs: [(&Field, &'static UintField); 13] = [
        (&smc::D_PROD_FLAGS, &PROD_FLAGS),
        (&smc::D_CONN_STATE, &CONN_STATE),
        (&smc::D_RMT_CONN_INDEX, &RMT_CONN_INDEX),
        (&smc::D_LCL_CONN_INDEX, &LCL_CONN_INDEX),
        (&smc::LCL_CONN_ID, &LCL_CONN_ID),
        (&smc::RMT_CONN_ID, &RMT_CONN_ID),
        (&smc::R_RMT_QP, &RMT_QP),
        (&smc::R_LCL_QP, &LCL_QP),
        (&smc::LLC_TYPE, &LLC_TYPE),
        (&smc::LLC_LEN, &LLC_LEN),
        (&smc::LLC_FLAGS, &LLC_FLAGS),
        (&smc::LLC_LINK_ID, &LLC_LINK_ID),
        (&smc::LLC_REASON, &LLC_REASON),
    ];
    pairs.iter().find(|(t, _)| *t == f).map(|(_, u)| *u)
}

fn uint64_field(f: &Field) -> Option<&'static Uint64Field> {
    let pairs: [(&Field, &'static Uint64Field); 6] = [
        (&smc::D_PROD_CURSOR, &PROD_CURSOR),
        (&smc::D_CONS_CURSOR, &CONS_CURSOR),
        (&smc::D_RMT_GID, &RMT_GID),
        (&smc::D_LCL_GID, &LCL_GID),
        (&smc::R_RMT_GID, &RMT_GID),
        (&smc::R_LCL_GID, &LCL_GID),
    ];
    pairs.iter().find(|(t, _)| *t == f).map(|(_, u)| *u)
}

/// Adds the fields of `fields` that lie within `base..end`.
fn add(packet: &Packet, sub: Tree, base: usize, end: usize, fields: &[&Field]) -> usize {
    let mut shown = base;
    for f in fields {
        let r = f.at(base);
        if r.end > end {
            continue;
        }
        if let Some(u) = uint_field(f) {
            packet.add_uint_at(sub, u, r.clone());
        } else if let Some(u) = uint64_field(f) {
            packet.add_uint64_at(sub, u, r.clone());
        }
        shown = shown.max(r.end);
    }
    shown
}

/// Shows the SMC extension that starts at `ext` (PTHDR_T + 92) of a record
/// whose traced bytes end at `end`; `interface` tells SMC-D from SMC-R.
/// Returns the kind shown (for the Info column).
pub fn show(packet: &Packet, root: Tree, ext: usize, end: usize, interface: &str) -> &'static str {
    if end < ext + smc::HEADER_LEN {
        if ext < end {
            packet.add_bytes_at(root, &REST, ext..end);
        }
        return "SMC";
    }
    let item = packet.add_uint_at(root, &EXT_LEN, smc::EXT_LEN.at(ext));
    let ext_len = packet.be_at(smc::EXT_LEN.at(ext)) as usize;
    let ext_end = (ext + ext_len.max(smc::HEADER_LEN)).min(end);
    packet.set_len(item, ext_end - ext);
    let sub = packet.subtree(item, &ETT_SMC);
    packet.add_uint_at(sub, &EXT_TYPE, smc::EXT_TYPE.at(ext));
    let (kind, fields): (&str, &[&Field]) = if interface.starts_with(smc::D_PREFIX) {
        ("SMC-D", smc::SMC_D)
    } else if interface.starts_with(smc::R_PREFIX) {
        ("SMC-R", smc::SMC_R)
    } else {
        ("unknown (interface name neither EZAISM nor EZARI)", &[])
    };
    let k = packet.add_string(sub, &KIND, ext, 0, kind);
    packet.set_generated(k);
    add(packet, sub, ext, ext_end, fields);
    let mut next = ext_end;
    if kind == "SMC-R" && end > ext_end {
        let llc_end = end;
        let shown = add(packet, root, ext_end, llc_end, smc::LLC);
        if shown > ext_end {
            next = shown;
        }
    }
    if next < end {
        packet.add_bytes_at(root, &REST, next..end);
    }
    match kind {
        "SMC-D" | "SMC-R" => kind,
        _ => "SMC",
    }
}
