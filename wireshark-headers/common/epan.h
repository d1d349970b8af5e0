/*
 * pktmatch — declarations of the libwireshark (epan) API we use that are the
 * same in every supported version.  Version-specific pieces (pm_wbool, the
 * PM_ constants whose values moved, functions whose signature changed) come
 * from the variant header that includes this file.  Written for pktmatch from
 * the documented API (doc/README.dissector, Doxygen of epan/); checked by
 * tests/layout.rs against Debian's libwireshark-dev.  Conventions: see plugin.h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef PKTMATCH_WS_EPAN_H
#define PKTMATCH_WS_EPAN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* ---- opaque types: we only ever hold pointers to these ---- */
typedef struct tvbuff tvbuff_t;
typedef struct _packet_info packet_info;
typedef struct _proto_node proto_node;
typedef proto_node proto_tree;
typedef proto_node proto_item;
typedef struct epan_column_info column_info;
typedef struct pref_module module_t;
typedef struct expert_module expert_module_t;
typedef struct dissector_handle *dissector_handle_t;
typedef struct dissector_table *dissector_table_t;
typedef struct _wmem_allocator_t wmem_allocator_t;

typedef int (*dissector_t)(tvbuff_t *, packet_info *, proto_tree *, void *);

/* ---- structures we fill in ourselves ---- */
typedef struct _header_field_info header_field_info;
#ifndef PKTMATCH_PROBE_SIGNATURES
struct _header_field_info {
    const char *name;
    const char *abbrev;
    unsigned int type;
    int display;
    const void *strings;
    uint64_t bitmask;
    const char *blurb;
    int id;
    int parent;
    unsigned int ref_type;
    int same_name_prev_id;
    header_field_info *same_name_next;
};
#endif

typedef struct hf_register_info hf_register_info;
#ifndef PKTMATCH_PROBE_SIGNATURES
struct hf_register_info {
    int *p_id;
    header_field_info hfinfo;
};
#endif

typedef struct expert_field expert_field;
#ifndef PKTMATCH_PROBE_SIGNATURES
struct expert_field {
    int ei;
    int hf;
};
#endif

typedef struct expert_field_info expert_field_info;
#ifndef PKTMATCH_PROBE_SIGNATURES
struct expert_field_info {
    const char *name;
    int group;
    int severity;
    const char *summary;
    int id;
    const char *protocol;
    int orig_severity;
    hf_register_info hf_info;
};
#endif

typedef struct ei_register_info ei_register_info;
#ifndef PKTMATCH_PROBE_SIGNATURES
struct ei_register_info {
    expert_field *ids;
    expert_field_info eiinfo;
};
#endif

/* A value → name table entry; a table ends with {0, NULL}. */
typedef struct _value_string value_string;
#ifndef PKTMATCH_PROBE_SIGNATURES
struct _value_string {
    uint32_t value;
    const char *strptr;
};
#endif

/* A network address as packet_info holds it (src, dst). */
typedef struct _address address;
#ifndef PKTMATCH_PROBE_SIGNATURES
struct _address {
    int type;
    int len;
    const void *data;
    void *priv;
};
#endif

/* An IPv6 address as proto_tree_add_ipv6 takes it. */
typedef struct e_in6_addr ws_in6_addr;
#ifndef PKTMATCH_PROBE_SIGNATURES
struct e_in6_addr {
    uint8_t bytes[16];
};
#endif

/* Seconds and nanoseconds (nstime_t, an anonymous struct typedef). */
#ifndef PKTMATCH_PROBE_SIGNATURES
typedef struct {
    time_t secs;
    int nsecs;
} pm_nstime_t;
#endif

/* ---- constants that are the same in 4.0–4.6 ---- */
#define PM_FT_NONE 0                    /* probe: FT_NONE */
#define PM_FT_PROTOCOL 1                /* probe: FT_PROTOCOL */
#define PM_FT_BOOLEAN 2                 /* probe: FT_BOOLEAN */
#define PM_FT_UINT8 4                   /* probe: FT_UINT8 */
#define PM_FT_UINT16 5                  /* probe: FT_UINT16 */
#define PM_FT_UINT32 7                  /* probe: FT_UINT32 */
#define PM_FT_UINT64 11                 /* probe: FT_UINT64 */
#define PM_FT_INT32 15                  /* probe: FT_INT32 */
#define PM_FT_DOUBLE 23                 /* probe: FT_DOUBLE */
#define PM_FT_ABSOLUTE_TIME 24          /* probe: FT_ABSOLUTE_TIME */
#define PM_FT_RELATIVE_TIME 25          /* probe: FT_RELATIVE_TIME */
#define PM_FT_STRING 26                 /* probe: FT_STRING */
#define PM_FT_ETHER 29                  /* probe: FT_ETHER */
#define PM_FT_BYTES 30                  /* probe: FT_BYTES */
#define PM_FT_IPv4 32                   /* probe: FT_IPv4 */
#define PM_FT_IPv6 33                   /* probe: FT_IPv6 */
#define PM_FT_FRAMENUM 35               /* probe: FT_FRAMENUM */

#define PM_BASE_NONE 0                  /* probe: BASE_NONE */
#define PM_BASE_DEC 1                   /* probe: BASE_DEC */
#define PM_BASE_HEX 2                   /* probe: BASE_HEX */
#define PM_BASE_DEC_HEX 4               /* probe: BASE_DEC_HEX */
#define PM_BASE_HEX_DEC 5               /* probe: BASE_HEX_DEC */
#define PM_ABSOLUTE_TIME_UTC 19         /* probe: ABSOLUTE_TIME_UTC */
#define PM_HF_REF_TYPE_NONE 0           /* probe: HF_REF_TYPE_NONE */

#define PM_AT_IPv4 2                    /* probe: AT_IPv4 */
#define PM_AT_IPv6 3                    /* probe: AT_IPv6 */

#define PM_ENC_NA 0                     /* probe: ENC_NA */
#define PM_ENC_BIG_ENDIAN 0             /* probe: ENC_BIG_ENDIAN */
#define PM_ENC_ASCII 0                  /* probe: ENC_ASCII */
#define PM_ENC_EBCDIC 46                /* probe: ENC_EBCDIC */

#define PM_PI_CHAT 0x00200000           /* probe: PI_CHAT */
#define PM_PI_NOTE 0x00400000           /* probe: PI_NOTE */
#define PM_PI_WARN 0x00600000           /* probe: PI_WARN */
#define PM_PI_ERROR 0x00800000          /* probe: PI_ERROR */
#define PM_PI_SEQUENCE 0x02000000       /* probe: PI_SEQUENCE */
#define PM_PI_MALFORMED 0x07000000      /* probe: PI_MALFORMED */
#define PM_PI_DEBUG 0x08000000          /* probe: PI_DEBUG */
#define PM_PI_PROTOCOL 0x09000000       /* probe: PI_PROTOCOL */
#define PM_PI_ASSUMPTION 0x0d000000     /* probe: PI_ASSUMPTION */

/* packet_info members we read, as offsets: the struct grows between
 * versions and we never need its whole layout. */
#define PM_PINFO_OFFSET_CINFO 8         /* probe: offsetof(packet_info, cinfo) */
#define PM_PINFO_OFFSET_NUM 20          /* probe: offsetof(packet_info, num) */
#define PM_PINFO_OFFSET_ABS_TS 24       /* probe: offsetof(packet_info, abs_ts) */

/* Marking an item "generated" ([brackets] in the tree) is a static inline
 * function in proto.h that ORs FI_GENERATED into item->finfo->flags; we do
 * the same through these offsets (the proto_node one is per version). */
#define PM_FIELD_INFO_OFFSET_FLAGS 28   /* probe: offsetof(field_info, flags) */
#define PM_FI_GENERATED 2               /* probe: FI_GENERATED */
/* proto_item_set_hidden (also static inline) ORs this one: the item and its
 * subtree are not displayed, their fields stay filterable. */
#define PM_FI_HIDDEN 1                  /* probe: FI_HIDDEN */

/* A range preference's value (epan/range.h): nranges, then that many
 * {low, high} pairs.  The array is declared ranges[1] in 4.0 and ranges[]
 * from 4.4, so we read it through these offsets. */
typedef struct epan_range range_t;
typedef struct range_admin_tag range_admin_t;
#ifndef PKTMATCH_PROBE_SIGNATURES
struct range_admin_tag {
    uint32_t low;
    uint32_t high;
};
#endif
#define PM_RANGE_OFFSET_NRANGES 0       /* probe: offsetof(range_t, nranges) */
#define PM_RANGE_OFFSET_RANGES 4        /* probe: offsetof(range_t, ranges) */

/* ---- functions ---- */
void epan_get_version_number(int *major, int *minor, int *micro);

int proto_register_protocol(const char *name, const char *short_name, const char *filter_name);
void proto_register_field_array(const int parent, hf_register_info *hf, const int num_records);
void proto_register_subtree_array(int *const *indices, const int num_indices);

expert_module_t *expert_register_protocol(int id);
void expert_register_field_array(expert_module_t *module, ei_register_info *ei, const int num_records);

module_t *prefs_register_protocol(int id, void (*apply_cb)(void));
void prefs_register_uint_preference(module_t *module, const char *name, const char *title,
                                    const char *description, unsigned base, unsigned *var);
void prefs_register_bool_preference(module_t *module, const char *name, const char *title,
                                    const char *description, pm_wbool *var);
void prefs_register_filename_preference(module_t *module, const char *name, const char *title,
                                        const char *description, const char **var,
                                        pm_wbool for_writing);
range_t *prefs_get_range_value(const char *module_name, const char *pref_name);
void prefs_register_string_preference(module_t *module, const char *name, const char *title,
                                      const char *description, const char **var);

dissector_handle_t register_dissector(const char *name, dissector_t dissector, const int proto);
dissector_handle_t create_dissector_handle(dissector_t dissector, const int proto);
dissector_handle_t find_dissector(const char *name);
dissector_table_t find_dissector_table(const char *name);
dissector_handle_t dissector_get_uint_handle(dissector_table_t const sub_dissectors,
                                             const uint32_t uint_val);
void dissector_add_uint(const char *name, const uint32_t pattern, dissector_handle_t handle);
void dissector_add_uint_range_with_preference(const char *abbrev, const char *range_str,
                                              dissector_handle_t handle);
void register_postdissector(dissector_handle_t handle);
int call_dissector(dissector_handle_t handle, tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree);

unsigned tvb_captured_length(const tvbuff_t *tvb);
unsigned tvb_reported_length(const tvbuff_t *tvb);
const uint8_t *tvb_get_ptr(tvbuff_t *tvb, const int offset, const int length);
tvbuff_t *tvb_new_subset_remaining(tvbuff_t *backing, const int backing_offset);
tvbuff_t *tvb_new_subset_length(tvbuff_t *backing, const int backing_offset,
                                const int backing_length);
/* The tvb of the data source a tvb was cut from (the frame, or a
 * reassembled buffer) and the tvb's offset within it. */
tvbuff_t *tvb_get_ds_tvb(tvbuff_t *tvb);
int tvb_raw_offset(tvbuff_t *tvb);
tvbuff_t *tvb_new_child_real_data(tvbuff_t *parent, const uint8_t *data, const unsigned length,
                                  const int reported_length);

void register_init_routine(void (*func)(void));
void register_cleanup_routine(void (*func)(void));

proto_item *proto_tree_add_item(proto_tree *tree, int hfindex, tvbuff_t *tvb, const int start,
                                int length, const unsigned encoding);
/* Whether an item of this field would be kept in this tree (the tree is
 * shown, or a filter, column or colouring rule refers to the field): what
 * proto_tree_add_* asks before "faking" an item.  gboolean in 4.0, bool from
 * 4.4: pm_wbool. */
pm_wbool proto_field_is_referenced(proto_tree *tree, int proto_id);
proto_item *proto_tree_add_uint(proto_tree *tree, int hfindex, tvbuff_t *tvb, int start,
                                int length, uint32_t value);
proto_item *proto_tree_add_string(proto_tree *tree, int hfindex, tvbuff_t *tvb, int start,
                                  int length, const char *value);
proto_item *proto_tree_add_uint64(proto_tree *tree, int hfindex, tvbuff_t *tvb, int start,
                                  int length, uint64_t value);
proto_item *proto_tree_add_bytes(proto_tree *tree, int hfindex, tvbuff_t *tvb, int start,
                                 int length, const uint8_t *start_ptr);
proto_item *proto_tree_add_time(proto_tree *tree, int hfindex, tvbuff_t *tvb, int start,
                                int length, const pm_nstime_t *value_ptr);
proto_item *proto_tree_add_ipv4(proto_tree *tree, int hfindex, tvbuff_t *tvb, int start,
                                int length, uint32_t value);
proto_item *proto_tree_add_ipv6(proto_tree *tree, int hfindex, tvbuff_t *tvb, int start,
                                int length, const ws_in6_addr *value_ptr);
proto_tree *proto_item_add_subtree(proto_item *pi, const int idx);
void proto_item_set_len(proto_item *pi, const int length);
void proto_item_append_text(proto_item *pi, const char *format, ...);

void col_set_str(column_info *cinfo, const int col, const char *str);
void col_add_str(column_info *cinfo, const int col, const char *str);
void col_append_str(column_info *cinfo, const int col, const char *str);
void col_clear(column_info *cinfo, const int col);
void col_set_writable(column_info *cinfo, const int col, const pm_wbool writable);
void col_set_fence(column_info *cinfo, const int col);

char *wmem_strndup(wmem_allocator_t *allocator, const char *src, const size_t len);
void *wmem_alloc(wmem_allocator_t *allocator, const size_t size);

#endif
