/*
 * pktmatch — declarations of the tap and statistics-table API we use
 * (epan/tap.h, epan/stat_tap_ui.h): a dissector queues per-packet data on a
 * named tap; a table registered with register_stat_tap_table_ui() is offered
 * as `tshark -z CLI_STRING[,FILTER]` and as an entry of the GUI's Statistics
 * menu, and filled by a tap listener Wireshark registers for it.  Written for
 * pktmatch from the documented API (doc/README.tapping, the Doxygen of
 * epan/stat_tap_ui.h); checked by tests/layout.rs against Debian's
 * libwireshark-dev 4.0, 4.4 and 4.6.  Uses pm_wbool from the variant header.
 * Conventions: see plugin.h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef PKTMATCH_WS_TAP_H
#define PKTMATCH_WS_TAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct epan_dissect epan_dissect_t;
typedef struct _GArray GArray;
typedef struct _tap_param tap_param;

/* The enum types of the real headers, as plain ints for bindgen (an enum is
 * an int in the C ABI); the signature probe compiles our prototypes and
 * callback types with the real enum types instead. */
#ifdef PKTMATCH_PROBE_SIGNATURES
#define pm_tap_packet_status tap_packet_status
#define pm_tap_flags_t tap_flags_t
#else
typedef int pm_tap_packet_status;
typedef unsigned pm_tap_flags_t;
#endif

/* What a tap listener's packet callback returns. */
#define PM_TAP_PACKET_DONT_REDRAW 0     /* probe: TAP_PACKET_DONT_REDRAW */
#define PM_TAP_PACKET_REDRAW 1          /* probe: TAP_PACKET_REDRAW */
#define PM_TAP_PACKET_FAILED 2          /* probe: TAP_PACKET_FAILED */

/* stat_tap_table_item_enum: the type of a table cell. */
#define PM_TABLE_ITEM_NONE 0            /* probe: TABLE_ITEM_NONE */
#define PM_TABLE_ITEM_UINT 1            /* probe: TABLE_ITEM_UINT */
#define PM_TABLE_ITEM_INT 2             /* probe: TABLE_ITEM_INT */
#define PM_TABLE_ITEM_STRING 3          /* probe: TABLE_ITEM_STRING */
#define PM_TABLE_ITEM_FLOAT 4           /* probe: TABLE_ITEM_FLOAT */
#define PM_TABLE_ITEM_ENUM 5            /* probe: TABLE_ITEM_ENUM */

/* tap_alignment_type: how the GUI aligns a column. */
#define PM_TAP_ALIGN_LEFT 0             /* probe: TAP_ALIGN_LEFT */
#define PM_TAP_ALIGN_RIGHT 1            /* probe: TAP_ALIGN_RIGHT */

/* register_stat_group_t: where the GUI lists a table; this one puts it in the
 * Statistics menu (the protocol entries below "HTTP", "ISUP Messages", ...). */
#define PM_REGISTER_PACKET_STAT_GROUP_UNSORTED 2 /* probe: REGISTER_PACKET_STAT_GROUP_UNSORTED */

#ifndef PKTMATCH_PROBE_SIGNATURES
/* The two unions of a table cell (anonymous in the real header). */
typedef union pm_stat_tap_value {
    unsigned uint_value;
    int int_value;
    const char *string_value;
    double float_value;
    int enum_value;
} pm_stat_tap_value;

typedef union pm_stat_tap_user_data {
    unsigned uint_value;
    int int_value;
    const char *string_value;
    double float_value;
    int enum_value;
    void *ptr_value;
} pm_stat_tap_user_data;
#endif

/* One cell: its type (PM_TABLE_ITEM_*), value and scratch space. */
typedef struct _stat_tap_table_item_type stat_tap_table_item_type;
#ifndef PKTMATCH_PROBE_SIGNATURES
struct _stat_tap_table_item_type {
    int type;
    pm_stat_tap_value value;
    pm_stat_tap_user_data user_data;
};
#endif

/* One column: cell type, alignment, heading, and the printf format tshark
 * prints each cell of the column with. */
typedef struct _stat_tap_table_item stat_tap_table_item;
#ifndef PKTMATCH_PROBE_SIGNATURES
struct _stat_tap_table_item {
    int type;
    int align;
    const char *column_name;
    const char *field_format;
};
#endif

/* One table: rows ("elements") of num_fields cells each. */
typedef struct _stat_tap_table stat_tap_table;
#ifndef PKTMATCH_PROBE_SIGNATURES
struct _stat_tap_table {
    const char *title;
    const char *filter_string;
    unsigned num_fields;
    unsigned num_elements;
    stat_tap_table_item_type **elements;
};
#endif

/* The callbacks of a table registration. */
typedef struct _stat_tap_table_ui stat_tap_table_ui;
typedef void (*pm_stat_tap_init_cb)(stat_tap_table_ui *new_stat);
typedef pm_tap_packet_status (*pm_tap_packet_cb)(void *tapdata, packet_info *pinfo,
                                                 epan_dissect_t *edt, const void *data,
                                                 pm_tap_flags_t flags);
typedef void (*pm_stat_tap_reset_table_cb)(stat_tap_table *table);
typedef void (*pm_stat_tap_free_table_item_cb)(stat_tap_table *table, unsigned row,
                                               unsigned column,
                                               stat_tap_table_item_type *field_data);
typedef void (*pm_stat_filter_check_cb)(const char *opt_arg, const char **filter, char **err);

/* A table statistic: registered once, kept by Wireshark for the program's
 * life (as is every string it points to). */
#ifndef PKTMATCH_PROBE_SIGNATURES
struct _stat_tap_table_ui {
    int group;
    const char *title;
    const char *tap_name;
    const char *cli_string;
    pm_stat_tap_init_cb stat_tap_init_cb;
    pm_tap_packet_cb packet_func;
    pm_stat_tap_reset_table_cb stat_tap_reset_table_cb;
    pm_stat_tap_free_table_item_cb stat_tap_free_table_item_cb;
    pm_stat_filter_check_cb stat_filter_check_cb;
    size_t nfields;
    stat_tap_table_item *fields;
    size_t nparams;
    tap_param *params;
    GArray *tables;
    unsigned refcount;
};
#endif

/* What the tap listener of a table gets as its tapdata (tshark's and the
 * GUI's listeners both pass one). */
typedef struct _stat_data_t stat_data_t;
#ifndef PKTMATCH_PROBE_SIGNATURES
struct _stat_data_t {
    stat_tap_table_ui *stat_tap_data;
    void *user_data;
};
#endif

/* The callback types above against the real ones (members of the real
 * struct where the header has no typedef for them). */
#ifdef PKTMATCH_PROBE_SIGNATURES
_Static_assert(__builtin_types_compatible_p(pm_tap_packet_cb, tap_packet_cb), "tap_packet_cb");
_Static_assert(__builtin_types_compatible_p(pm_stat_tap_init_cb,
                                            __typeof__(((stat_tap_table_ui *)0)->stat_tap_init_cb)),
               "stat_tap_init_cb");
_Static_assert(__builtin_types_compatible_p(pm_stat_tap_reset_table_cb,
                                            __typeof__(((stat_tap_table_ui *)0)->stat_tap_reset_table_cb)),
               "stat_tap_reset_table_cb");
_Static_assert(__builtin_types_compatible_p(pm_stat_tap_free_table_item_cb,
                                            __typeof__(((stat_tap_table_ui *)0)->stat_tap_free_table_item_cb)),
               "stat_tap_free_table_item_cb");
_Static_assert(__builtin_types_compatible_p(pm_stat_filter_check_cb,
                                            __typeof__(((stat_tap_table_ui *)0)->stat_filter_check_cb)),
               "stat_filter_check_cb");
#endif

/* ---- functions ---- */
int register_tap(const char *name);
void tap_queue_packet(int tap_id, packet_info *pinfo, const void *tap_specific_data);
pm_wbool have_tap_listener(int tap_id);

void register_stat_tap_table_ui(stat_tap_table_ui *ui);
stat_tap_table *stat_tap_init_table(const char *name, int num_fields, int num_elements,
                                    const char *filter_string);
void stat_tap_add_table(stat_tap_table_ui *new_stat, stat_tap_table *table);
stat_tap_table *stat_tap_find_table(stat_tap_table_ui *ui, const char *name);
void stat_tap_init_table_row(stat_tap_table *stat_table, unsigned table_index, unsigned num_fields,
                             const stat_tap_table_item_type *fields);
stat_tap_table_item_type *stat_tap_get_field_data(const stat_tap_table *stat_table,
                                                  unsigned table_index, unsigned field_index);
void stat_tap_set_field_data(stat_tap_table *stat_table, unsigned table_index,
                             unsigned field_index, stat_tap_table_item_type *field_data);

/* GLib's free: the rows of a stat_tap_table are allocated with g_new0 by
 * stat_tap_init_table_row, and free_stat_tables releases them with g_free;
 * a table emptied for a new tap run releases its rows the same way. */
void g_free(void *mem);

#endif
