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
#include <stdint.h>

/* Makes the match metatable of this state (once; later calls do nothing). */
void mlshim_rematch_install(lua_State *L);

/* Pushes a match with `groups` capturing groups whose spans are PCRE2's ovector: pairs of
   0-based byte offsets [start, end) for group 0..groups, (size_t)-1 for a group that did
   not take part. `subject` is the stack index of the subject string, `names` the stack
   index of a table {name = group number} or 0 for none. Needs mlshim_rematch_install.
   Stack: [] -> [match]. */
void mlshim_rematch_push(lua_State *L, const size_t *ovector, int groups, int subject, int names);

/* What C reads of a compiled pattern (Workbench's CompiledRegex owns it and the PCRE2
   objects it points to; the state's thread alone touches them). */
typedef struct mlshim_regex {
    void *search_code;    /* pcre2_code_8 *, compiled with PCRE2_USE_OFFSET_LIMIT */
    void *anchored_code;  /* for :match; NULL until the first one compiles it */
    void *full_code;      /* for :fullmatch; NULL until the first one compiles it */
    void *match_data;     /* pcre2_match_data_8 * of the pattern */
    void *match_context;  /* the state's pcre2_match_context_8 * (match limits, JIT stack) */
    long *search_window;  /* the state's: start positions one search call tries (adapted) */
    int groups;           /* capturing groups */
    int has_names;        /* named groups: the match needs its names table (Swift path) */
} mlshim_regex;

/* From a pattern's boxed object (LuaShim's box) to its mlshim_regex. */
typedef mlshim_regex *(*mlshim_regex_fn)(void *object);

/* Replaces methods[name] (the table at index `methods`; the pattern metatable at
   `metatable`) with a C function that runs `pattern:name(s [, pos])` itself when pos is
   absent, nil or an integer, the pattern has no named groups and the code for `mode` is
   compiled (0 search, 1 match, 2 fullmatch; a search only when the rest of the subject
   fits one search window), and calls the former function for everything else (argument
   errors, the first call of a mode, long subjects), so both give the same answers and
   errors. The budget is charged as the former does: 1 before, and by time after. */
void mlshim_rematch_fastmethod(lua_State *L, int methods, int metatable, const char *name,
                               const char *qualified, int mode, mlshim_regex_fn lookup);

/* pcre2_match (code, match data and context are PCRE2's 8-bit objects), run once more on a
   JIT stack of MLSHIM_RE_LARGE_STACK bytes, made for that run and freed after it, when the
   context's own stack (assigned by mlshim_re_assign_stack) is too small: Python's re has no
   stack limit, and (.)*$ needs about 16 bytes of stack a character. */
#define MLSHIM_RE_LARGE_STACK ((size_t)512 << 20)
int mlshim_re_match(const void *code, const unsigned char *subject, size_t length, size_t offset,
                    uint32_t options, void *match_data, void *context);

/* Gives the match context `stack` (a pcre2_jit_stack_8 *) as the JIT stack of its matches. */
void mlshim_re_assign_stack(void *context, void *stack);

#endif
