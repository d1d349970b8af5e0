/*
 * pktmatch — the Wireshark 4.4.x API as pktmatch uses it.  This is the file
 * build.rs hands to bindgen when building for Wireshark 4.4; tests/layout.rs
 * checks it against Debian's libwireshark-dev/libwiretap-dev 4.4 headers.
 * Written for pktmatch; see common/plugin.h for the conventions.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef PKTMATCH_WIRESHARK_ABI_H
#define PKTMATCH_WIRESHARK_ABI_H

#define PM_WS_MAJOR 4 /* probe: none (the variant's version) */
#define PM_WS_MINOR 4 /* probe: none (the variant's version) */

/* The boolean type of preferences and wiretap callbacks: bool since 4.4. */
typedef _Bool pm_wbool;

#define PM_COL_PROTOCOL 34 /* probe: COL_PROTOCOL */
#define PM_COL_INFO 25 /* probe: COL_INFO */
#define PM_EI_INIT_VALUE (-1) /* probe: EI_INIT_EI */
#define PM_PINFO_OFFSET_POOL 408 /* probe: offsetof(packet_info, pool) */
#define PM_PINFO_OFFSET_MATCH_UINT 292 /* probe: offsetof(packet_info, match_uint) */

/* Optional since 4.4: what plugin_describe() returns, shown by -G plugins. */
#define PM_WS_PLUGIN_DESC_DISSECTOR 1 /* probe: WS_PLUGIN_DESC_DISSECTOR */
#define PM_WS_PLUGIN_DESC_FILE_TYPE 2 /* probe: WS_PLUGIN_DESC_FILE_TYPE */

#define PM_PINFO_OFFSET_SRC 208 /* probe: offsetof(packet_info, src) */
#define PM_PINFO_OFFSET_DST 232 /* probe: offsetof(packet_info, dst) */
#define PM_PINFO_OFFSET_SRCPORT 284 /* probe: offsetof(packet_info, srcport) */
#define PM_PINFO_OFFSET_DESTPORT 288 /* probe: offsetof(packet_info, destport) */
#define PM_PINFO_OFFSET_REC 96 /* probe: offsetof(packet_info, rec) */
/* wtap_rec packet header members and struct wtap members a file reader
 * sets, as offsets.  struct wtap is in wiretap/wtap-int.h (not installed:
 * tests/fetch-wireshark-headers.sh takes it from Debian's source package when
 * the archive serves it; tests/layout.rs also reads these offsets from the
 * machine code of the real libwiretap). */
#define PM_WTAP_REC_OFFSET_CAPLEN 64 /* probe: offsetof(wtap_rec, rec_header.packet_header.caplen) */
#define PM_WTAP_REC_OFFSET_LEN 68 /* probe: offsetof(wtap_rec, rec_header.packet_header.len) */
#define PM_WTAP_REC_OFFSET_PKT_ENCAP 72 /* probe: offsetof(wtap_rec, rec_header.packet_header.pkt_encap) */
#define PM_WTAP_REC_OFFSET_BLOCK 232 /* probe: offsetof(wtap_rec, block) */
#define PM_WTAP_OFFSET_FH 0 /* probe: offsetof(struct wtap, fh) */
#define PM_WTAP_OFFSET_RANDOM_FH 8 /* probe: offsetof(struct wtap, random_fh) */
#define PM_WTAP_OFFSET_FILE_TYPE_SUBTYPE 20 /* probe: offsetof(struct wtap, file_type_subtype) */
#define PM_WTAP_OFFSET_SNAPSHOT_LENGTH 24 /* probe: offsetof(struct wtap, snapshot_length) */
#define PM_WTAP_OFFSET_PRIV 96 /* probe: offsetof(struct wtap, priv) */
#define PM_WTAP_OFFSET_SUBTYPE_READ 112 /* probe: offsetof(struct wtap, subtype_read) */
#define PM_WTAP_OFFSET_SUBTYPE_SEEK_READ 120 /* probe: offsetof(struct wtap, subtype_seek_read) */
#define PM_WTAP_OFFSET_SUBTYPE_CLOSE 136 /* probe: offsetof(struct wtap, subtype_close) */
#define PM_WTAP_OFFSET_FILE_ENCAP 144 /* probe: offsetof(struct wtap, file_encap) */
#define PM_WTAP_OFFSET_FILE_TSPREC 148 /* probe: offsetof(struct wtap, file_tsprec) */

#define PM_PROTO_NODE_OFFSET_FINFO 32 /* probe: offsetof(proto_node, finfo) */

#include <stdint.h>

/* The value argument of proto_tree_add_boolean: uint64_t in 4.4. */
typedef uint64_t pm_boolean_value;

#include "../common/plugin.h"
#include "../common/epan.h"
#include "../common/tap.h"
#include "../common/wiretap.h"

proto_item *expert_add_info_format(packet_info *pinfo, proto_item *pi, expert_field *eiindex,
                                   const char *format, ...);

proto_item *proto_tree_add_boolean(proto_tree *tree, int hfindex, tvbuff_t *tvb, int start,
                                   int length, pm_boolean_value value);
void add_new_data_source(packet_info *pinfo, tvbuff_t *tvb, const char *name);

/* wtap_rec is used through offsets only; the signature probe names the
 * real type so that the callback types below are checked. */
#ifdef PKTMATCH_PROBE_SIGNATURES
#define pm_wtap_rec wtap_rec
#else
typedef struct pm_wtap_rec_opaque pm_wtap_rec;
#endif
/* File reader callbacks: before 4.6 the caller passes the data buffer. */
typedef pm_wbool (*pm_subtype_read_func)(struct wtap *, pm_wtap_rec *, Buffer *, int *, char **, int64_t *);
typedef pm_wbool (*pm_subtype_seek_read_func)(struct wtap *, int64_t, pm_wtap_rec *, Buffer *, int *, char **);
/* The real callback types are in wtap-int.h (wtap_module.h from 4.6); the
 * layout test defines PKTMATCH_NO_WTAP_STRUCT when it could not get it. */
#if defined(PKTMATCH_PROBE_SIGNATURES) && !defined(PKTMATCH_NO_WTAP_STRUCT)
_Static_assert(__builtin_types_compatible_p(pm_subtype_read_func, subtype_read_func), "subtype_read_func");
_Static_assert(__builtin_types_compatible_p(pm_subtype_seek_read_func, subtype_seek_read_func), "subtype_seek_read_func");
#endif

#endif
