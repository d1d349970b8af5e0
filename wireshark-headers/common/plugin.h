/*
 * pktmatch — declarations of the Wireshark plugin entry points we use.
 * Written for pktmatch from the documented plugin API (doc/README.plugins,
 * wsutil/plugins.h); no Wireshark header text is copied.  The layout test
 * (tests/layout.rs) compares every declaration here with Debian's headers.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Conventions (the layout test relies on them):
 *  - one struct member per line, no nested struct or union bodies;
 *  - struct bodies sit inside #ifndef PKTMATCH_PROBE_SIGNATURES so that the
 *    signature probe can include this file after the real headers; a type
 *    named pm_X stands for the real X (an anonymous struct typedef there);
 *  - every PM_ constant ends with a comment "probe: EXPR" naming the real
 *    expression it must equal, or "probe: none (reason)".
 */
#ifndef PKTMATCH_WS_PLUGIN_H
#define PKTMATCH_WS_PLUGIN_H

#ifndef PKTMATCH_PROBE_SIGNATURES
/* Handed to proto_register_plugin() by an epan (dissector) plugin.  The real
 * type is an anonymous struct typedef'd proto_plugin, hence the pm_ name. */
typedef struct {
    void (*register_protoinfo)(void);
    void (*register_handoff)(void);
} pm_proto_plugin;

/* Handed to wtap_register_plugin() by a wiretap (file format) plugin. */
typedef struct {
    void (*register_wtap_module)(void);
} pm_wtap_plugin;
#endif

void proto_register_plugin(const pm_proto_plugin *plugin);
void wtap_register_plugin(const pm_wtap_plugin *plug);

#endif
