/*
 * A small line editor over libedit for moonlab's prompt: history kept in a file
 * (multi-line entries as one, duplicates collapsed), Ctrl-C that drops the line,
 * bracketed paste taken whole, and tab completion through a callback.
 * libedit's el_set/history are variadic, which Swift cannot call; hence C.
 */
#ifndef MLSHIM_LINEEDITOR_H
#define MLSHIM_LINEEDITOR_H

#include <stddef.h>

typedef struct mlshim_editor mlshim_editor;

/* The completion callback: given the text before the cursor, returns a malloc'd
   string of candidates separated by '\n' (or NULL for none) and sets *word_len to the
   length in bytes of the word the candidates replace. */
typedef char *(*mlshim_complete_fn)(const char *before_cursor, size_t *word_len, void *context);

enum {
    MLSHIM_READ_LINE = 0,        /* a line was read */
    MLSHIM_READ_EOF = 1,         /* Ctrl-D on an empty line, or end of input */
    MLSHIM_READ_INTERRUPTED = 2, /* Ctrl-C: drop the line */
    MLSHIM_READ_PASTE = 3,       /* a bracketed paste: the line is the whole pasted block */
};

/* Opens an editor on stdin/stdout. history_path may be NULL. */
mlshim_editor *mlshim_editor_open(const char *program, const char *history_path, int history_size);
void mlshim_editor_close(mlshim_editor *ed);
void mlshim_editor_set_completer(mlshim_editor *ed, mlshim_complete_fn fn, void *context);
/* Reads one line (without its newline). The returned string is owned by the editor and
   valid until the next call. *status is one of MLSHIM_READ_*. */
const char *mlshim_editor_read(mlshim_editor *ed, const char *prompt, int *status);
/* Adds an entry (a whole multi-line chunk is one entry), removing earlier identical
   entries, and saves the history file. */
void mlshim_editor_add_history(mlshim_editor *ed, const char *entry);
/* Number of history entries (for tests and :help). */
int mlshim_editor_history_count(mlshim_editor *ed);

#endif
