/*
 * Match objects of moonlab's `re` module (Workbench, ReMethods): a full userdata holding
 * the byte spans of one match, with the subject string and the pattern's group names as
 * its user values. Nothing is cut from the subject until a group is read, so a match that
 * is only tested (`r:match(s) and 1 or 0`) costs one allocation and no copy.
 *
 * From Lua: m[0] the whole match, m[k] group k, m.name a named group (nil when it did not
 * take part or does not exist), m:span([k|name]) -> 1-based start and inclusive end (nil
 * for a group that did not take part), m:groups([default]), m:groupdict(), tostring(m).
 */
#ifndef MLSHIM_REMATCH_H
#define MLSHIM_REMATCH_H

#include <lua.h>
#include <stddef.h>

/* Makes the match metatable of this state (once; later calls do nothing). */
void mlshim_rematch_install(lua_State *L);

/* Pushes a match with `groups` capturing groups whose spans are PCRE2's ovector: pairs of
   0-based byte offsets [start, end) for group 0..groups, (size_t)-1 for a group that did
   not take part. `subject` is the stack index of the subject string, `names` the stack
   index of a table {name = group number} or 0 for none. Needs mlshim_rematch_install.
   Stack: [] -> [match]. */
void mlshim_rematch_push(lua_State *L, const size_t *ovector, int groups, int subject, int names);

#endif
