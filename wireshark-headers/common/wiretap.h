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
typedef struct wtap_reader *FILE_T;
typedef struct wtap_block *wtap_block_t;

/* A growable byte buffer (wsutil/buffer.h); a reader fills the one it is
 * handed for a record's bytes. */
typedef struct Buffer Buffer;
#ifndef PKTMATCH_PROBE_SIGNATURES
struct Buffer {
    uint8_t *data;
    size_t allocated;
    size_t start;
    size_t first_free;
};
#endif

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
#define PM_WTAP_TSPREC_NSEC 9           /* probe: WTAP_TSPREC_NSEC */
#define PM_REC_TYPE_PACKET 0            /* probe: REC_TYPE_PACKET */
#define PM_WTAP_HAS_TS 1                /* probe: WTAP_HAS_TS */
#define PM_WTAP_HAS_CAP_LEN 2           /* probe: WTAP_HAS_CAP_LEN */
#define PM_OPT_COMMENT 1                /* probe: OPT_COMMENT */
#define PM_OPT_PKT_FLAGS 2              /* probe: OPT_PKT_FLAGS */
#define PM_WTAP_OPTTYPE_SUCCESS 0       /* probe: WTAP_OPTTYPE_SUCCESS */
#define PM_PACK_FLAGS_DIRECTION_INBOUND 1  /* probe: PACK_FLAGS_DIRECTION_INBOUND */
#define PM_PACK_FLAGS_DIRECTION_OUTBOUND 2 /* probe: PACK_FLAGS_DIRECTION_OUTBOUND */
#define PM_WTAP_ERR_SHORT_READ (-12)    /* probe: WTAP_ERR_SHORT_READ */
#define PM_WTAP_ERR_BAD_FILE (-13)      /* probe: WTAP_ERR_BAD_FILE */

/* wtap_rec members a reader sets, as offsets (the record structure differs
 * between versions beyond these; offsets checked by the layout test). */
#define PM_WTAP_REC_OFFSET_REC_TYPE 0   /* probe: offsetof(wtap_rec, rec_type) */
#define PM_WTAP_REC_OFFSET_PRESENCE_FLAGS 4 /* probe: offsetof(wtap_rec, presence_flags) */
#define PM_WTAP_REC_OFFSET_TS 16        /* probe: offsetof(wtap_rec, ts) */
#define PM_WTAP_REC_OFFSET_TSPREC 32    /* probe: offsetof(wtap_rec, tsprec) */

int wtap_register_file_type_subtype(const struct file_type_subtype_info *fi);
int file_read(void *buf, unsigned int count, FILE_T file);
int64_t file_seek(FILE_T stream, int64_t offset, int whence, int *err);
int64_t file_tell(FILE_T stream);
int file_error(FILE_T fh, char **err_info);
void ws_buffer_assure_space(Buffer *buffer, size_t space);
wtap_block_t wtap_block_create(unsigned int block_type);
int wtap_block_add_uint32_option(wtap_block_t block, unsigned int option_id, uint32_t value);
int wtap_block_add_string_option(wtap_block_t block, unsigned int option_id, const char *value, size_t value_length);
/* A record's n-th string option (a packet comment: OPT_COMMENT); *value
 * points into the block.  Returns WTAP_OPTTYPE_SUCCESS or a negative code
 * (the real return type is an enum of int values). */
int wtap_block_get_nth_string_option_value(wtap_block_t block, unsigned int option_id,
                                           unsigned int idx, char **value);
char *g_strdup(const char *str);
void wtap_register_open_info(struct open_info *oi, const pm_wbool first_routine);
int wtap_register_encap_type(const char *description, const char *name);
int wtap_name_to_encap(const char *short_name);

#endif
