/*
 * pktmatch — the Wireshark 4.6.x API as pktmatch uses it.  This is the file
 * build.rs hands to bindgen when building for Wireshark 4.6; tests/layout.rs
 * checks it against Debian's libwireshark-dev/libwiretap-dev 4.6 headers.
 * Written for pktmatch; see common/plugin.h for the conventions.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef PKTMATCH_WIRESHARK_ABI_H
#define PKTMATCH_WIRESHARK_ABI_H

#define PM_WS_MAJOR 4 /* probe: none (the variant's version) */
#define PM_WS_MINOR 6 /* probe: none (the variant's version) */

/* The boolean type of preferences and wiretap callbacks: bool since 4.4. */
typedef _Bool pm_wbool;

#define PM_COL_PROTOCOL 35 /* probe: COL_PROTOCOL */
#define PM_COL_INFO 25 /* probe: COL_INFO */
#define PM_EI_INIT_VALUE 0 /* probe: EI_INIT_EI */
#define PM_PINFO_OFFSET_POOL 416 /* probe: offsetof(packet_info, pool) */
#define PM_PINFO_OFFSET_MATCH_UINT 296 /* probe: offsetof(packet_info, match_uint) */

/* Optional since 4.4: what plugin_describe() returns, shown by -G plugins. */
#define PM_WS_PLUGIN_DESC_DISSECTOR 1 /* probe: WS_PLUGIN_DESC_DISSECTOR */
#define PM_WS_PLUGIN_DESC_FILE_TYPE 2 /* probe: WS_PLUGIN_DESC_FILE_TYPE */

#define PM_PINFO_OFFSET_SRC 208 /* probe: offsetof(packet_info, src) */
#define PM_PINFO_OFFSET_DST 232 /* probe: offsetof(packet_info, dst) */
#define PM_PINFO_OFFSET_SRCPORT 288 /* probe: offsetof(packet_info, srcport) */
#define PM_PINFO_OFFSET_DESTPORT 292 /* probe: offsetof(packet_info, destport) */
#define PM_PROTO_NODE_OFFSET_FINFO 40 /* probe: offsetof(proto_node, finfo) */

#include <stdint.h>

/* The value argument of proto_tree_add_boolean: uint64_t in 4.6. */
typedef uint64_t pm_boolean_value;

#include "../common/plugin.h"
#include "../common/epan.h"
#include "../common/wiretap.h"

proto_item *expert_add_info_format(packet_info *pinfo, proto_item *pi, expert_field *eiindex,
                                   const char *format, ...);

proto_item *proto_tree_add_boolean(proto_tree *tree, int hfindex, tvbuff_t *tvb, int start,
                                   int length, pm_boolean_value value);
struct data_source;
struct data_source *add_new_data_source(packet_info *pinfo, tvbuff_t *tvb, const char *name);

#endif
