/*
 * pktmatch — declarations of the libwiretap API we use (file format plugins).
 * Written for pktmatch from the documented API (wiretap/README.developer and
 * the Doxygen of wiretap/wtap.h); checked by tests/layout.rs against Debian's
 * libwiretap-dev.  Uses pm_wbool from the variant header (gboolean in 4.0/4.2,
 * bool from 4.4).  Conventions: see plugin.h.
 *
 * A wiretap plugin must use only libwiretap, libwsutil and GLib: capinfos and
 * editcap load it without libwireshark.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef PKTMATCH_WS_WIRETAP_H
#define PKTMATCH_WS_WIRETAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct wtap wtap;
typedef struct wtap_dumper wtap_dumper;

/* Our own names for the callback types: the real typedefs use enum return
 * types, and a typedef may not be redeclared with a merely compatible type. */
typedef int (*pm_wtap_open_routine)(struct wtap *, int *, char **);
typedef pm_wbool (*pm_wtap_dump_open)(wtap_dumper *, int *, char **);

#ifndef PKTMATCH_PROBE_SIGNATURES
struct open_info {
    const char *name;
    unsigned int type;
    pm_wtap_open_routine open_routine;
    const char *extensions;
    char **extensions_set;
    void *wslua_data;
};

struct supported_block_type {
    unsigned int type;
    unsigned int support;
    size_t num_supported_options;
    const void *supported_options;
};

struct file_type_subtype_info {
    const char *description;
    const char *name;
    const char *default_file_extension;
    const char *additional_file_extensions;
    pm_wbool writing_must_seek;
    size_t num_supported_blocks;
    const struct supported_block_type *supported_blocks;
    int (*can_write_encap)(int);
    pm_wtap_dump_open dump_open;
    void *wslua_info;
};
#endif

#define PM_WTAP_OPEN_NOT_MINE 0         /* probe: WTAP_OPEN_NOT_MINE */
#define PM_WTAP_OPEN_MINE 1             /* probe: WTAP_OPEN_MINE */
#define PM_WTAP_OPEN_ERROR (-1)         /* probe: WTAP_OPEN_ERROR */
#define PM_OPEN_INFO_HEURISTIC 1        /* probe: OPEN_INFO_HEURISTIC */
#define PM_WTAP_BLOCK_PACKET 5          /* probe: WTAP_BLOCK_PACKET */
#define PM_MULTIPLE_BLOCKS_SUPPORTED 2  /* probe: MULTIPLE_BLOCKS_SUPPORTED */
#define PM_WTAP_ENCAP_UNKNOWN 0         /* probe: WTAP_ENCAP_UNKNOWN */

int wtap_register_file_type_subtype(const struct file_type_subtype_info *fi);
void wtap_register_open_info(struct open_info *oi, const pm_wbool first_routine);
int wtap_register_encap_type(const char *description, const char *name);
int wtap_name_to_encap(const char *short_name);

#endif
