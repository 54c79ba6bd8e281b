#include "lineeditor.h"
#include "luashim.h"
#include <errno.h>
#include <histedit.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

struct mlshim_editor {
    EditLine *el;
    History *hist;
    HistEvent ev;
    char *history_path;
    char *prompt;
    mlshim_complete_fn complete;
    void *complete_context;
    int interrupted;  /* set by the read function when Ctrl-C arrived */
    char *paste;      /* the block of the last bracketed paste */
    size_t paste_len, paste_cap;
    int pasted;
    char *line;       /* the line handed back */
};

static char *mlshim_prompt_fn(EditLine *el) {
    mlshim_editor *ed = NULL;
    el_get(el, EL_CLIENTDATA, &ed);
    return ed && ed->prompt ? ed->prompt : "";
}

/* Reads one character, decoding UTF-8. Returns 1 with a character, 0 at end of input,
   -1 (errno EINTR) when Ctrl-C arrived, so el_gets returns and the line is dropped. */
static int mlshim_getc(EditLine *el, wchar_t *out) {
    mlshim_editor *ed = NULL;
    el_get(el, EL_CLIENTDATA, &ed);
    unsigned char buf[4];
    int need = 1, have = 0;
    for (;;) {
        ssize_t n = read(STDIN_FILENO, buf + have, 1);
        if (n == 1) {
            if (have == 0) {
                unsigned char c = buf[0];
                need = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
            }
            have++;
            if (have < need) continue;
            if (need == 1) {
                /* Ctrl-D typed ahead while the terminal was still in canonical mode is
                   queued by the kernel as a NUL line terminator: on an empty line it means
                   end of input, as it would have in canonical mode. */
                if (buf[0] == 0) {
                    const LineInfo *li = el_line(el);
                    if (li && li->lastchar == li->buffer) return 0;
                }
                *out = (wchar_t)buf[0];
                return 1;
            }
            mbstate_t st; memset(&st, 0, sizeof st);
            wchar_t wc;
            size_t r = mbrtowc(&wc, (const char *)buf, (size_t)have, &st);
            *out = (r == (size_t)-1 || r == (size_t)-2) ? (wchar_t)0xFFFD : wc;
            return 1;
        }
        if (n == 0) return 0;
        if (errno == EINTR) {
            if (mlshim_interrupt_pending()) {
                mlshim_clear_interrupt();
                if (ed) ed->interrupted = 1;
                errno = EINTR;
                return -1;
            }
            continue;
        }
        return -1;
    }
}

static void mlshim_paste_append(mlshim_editor *ed, const char *s, size_t n) {
    if (ed->paste_len + n + 1 > ed->paste_cap) {
        size_t cap = (ed->paste_cap ? ed->paste_cap * 2 : 256);
        while (cap < ed->paste_len + n + 1) cap *= 2;
        char *p = realloc(ed->paste, cap);
        if (!p) return;
        ed->paste = p;
        ed->paste_cap = cap;
    }
    memcpy(ed->paste + ed->paste_len, s, n);
    ed->paste_len += n;
    ed->paste[ed->paste_len] = 0;
}

/* Bound to ESC [ 2 0 0 ~: collects everything up to ESC [ 2 0 1 ~ as one block, so a
   pasted chunk runs whole rather than line by line. */
static unsigned char mlshim_paste_fn(EditLine *el, int ch) {
    (void)ch;
    mlshim_editor *ed = NULL;
    el_get(el, EL_CLIENTDATA, &ed);
    if (!ed) return CC_ERROR;
    static const char end[] = "\033[201~";
    ed->paste_len = 0;
    const LineInfo *li = el_line(el);
    mlshim_paste_append(ed, li->buffer, (size_t)(li->lastchar - li->buffer));
    size_t matched = 0;
    for (;;) {
        wchar_t wc;
        if (mlshim_getc(el, &wc) != 1) break;
        char mb[8];
        mbstate_t st; memset(&st, 0, sizeof st);
        size_t n = wcrtomb(mb, wc, &st);
        if (n == (size_t)-1) continue;
        if (n == 1 && mb[0] == end[matched]) {
            matched++;
            if (matched == sizeof end - 1) break;
            continue;
        }
        if (matched) { mlshim_paste_append(ed, end, matched); matched = 0; }
        if (n == 1 && mb[0] == '\r') mb[0] = '\n';
        mlshim_paste_append(ed, mb, n);
    }
    while (ed->paste_len && (ed->paste[ed->paste_len - 1] == '\n')) ed->paste[--ed->paste_len] = 0;
    ed->pasted = 1;
    /* show the block as typed, below the prompt line */
    el_wdeletestr(el, (int)(li->lastchar - li->buffer));
    return CC_NEWLINE;
}

static int mlshim_common_prefix(char **items, int count) {
    if (count == 0) return 0;
    int len = (int)strlen(items[0]);
    for (int i = 1; i < count; i++) {
        int j = 0;
        while (j < len && items[i][j] == items[0][j]) j++;
        len = j;
    }
    return len;
}

/* Bound to TAB: asks the callback for candidates; one is inserted, several insert their
   common prefix or, when nothing more can be added, are listed below the line. */
static unsigned char mlshim_complete_key(EditLine *el, int ch) {
    (void)ch;
    mlshim_editor *ed = NULL;
    el_get(el, EL_CLIENTDATA, &ed);
    if (!ed || !ed->complete) return CC_ERROR;
    const LineInfo *li = el_line(el);
    size_t before_len = (size_t)(li->cursor - li->buffer);
    char *before = malloc(before_len + 1);
    if (!before) return CC_ERROR;
    memcpy(before, li->buffer, before_len);
    before[before_len] = 0;
    size_t word_len = 0;
    char *list = ed->complete(before, &word_len, ed->complete_context);
    free(before);
    if (!list) return CC_REFRESH_BEEP;
    int count = 0;
    char *items[512];
    for (char *p = list; *p && count < 512;) {
        items[count++] = p;
        char *nl = strchr(p, '\n');
        if (!nl) break;
        *nl = 0;
        p = nl + 1;
    }
    unsigned char result = CC_REFRESH;
    if (count == 0) {
        result = CC_REFRESH_BEEP;
    } else {
        int prefix = mlshim_common_prefix(items, count);
        if (count == 1 || (size_t)prefix > word_len) {
            char saved = items[0][prefix];
            items[0][prefix] = 0;
            if (count == 1) items[0][prefix] = saved;
            el_deletestr(el, (int)word_len);
            el_insertstr(el, items[0]);
            if (count != 1) items[0][prefix] = saved;
        } else {
            /* list the candidates in columns below the line */
            int width = 0;
            for (int i = 0; i < count; i++) { int w = (int)strlen(items[i]); if (w > width) width = w; }
            width += 2;
            int cols = 80 / width; if (cols < 1) cols = 1;
            fputc('\n', stdout);
            for (int i = 0; i < count; i++) {
                fprintf(stdout, "%-*s", width, items[i]);
                if ((i + 1) % cols == 0 || i == count - 1) fputc('\n', stdout);
            }
            fflush(stdout);
            result = CC_REDISPLAY;
        }
    }
    free(list);
    return result;
}

mlshim_editor *mlshim_editor_open(const char *program, const char *history_path, int history_size) {
    setlocale(LC_CTYPE, "");
    mlshim_editor *ed = calloc(1, sizeof *ed);
    if (!ed) return NULL;
    ed->el = el_init(program, stdin, stdout, stderr);
    if (!ed->el) { free(ed); return NULL; }
    ed->hist = history_init();
    history(ed->hist, &ed->ev, H_SETSIZE, history_size > 0 ? history_size : 1000);
    history(ed->hist, &ed->ev, H_SETUNIQUE, 1);
    if (history_path) {
        ed->history_path = strdup(history_path);
        history(ed->hist, &ed->ev, H_LOAD, history_path);
    }
    el_set(ed->el, EL_CLIENTDATA, ed);
    el_set(ed->el, EL_EDITOR, "emacs");
    el_set(ed->el, EL_HIST, history, ed->hist);
    el_set(ed->el, EL_PROMPT_ESC, mlshim_prompt_fn, '\1');
    el_set(ed->el, EL_GETCFN, mlshim_getc);
    el_set(ed->el, EL_ADDFN, "ml-complete", "complete a name", mlshim_complete_key);
    el_set(ed->el, EL_BIND, "^I", "ml-complete", NULL);
    el_set(ed->el, EL_ADDFN, "ml-paste", "take a bracketed paste whole", mlshim_paste_fn);
    el_set(ed->el, EL_BIND, "\033[200~", "ml-paste", NULL);
    el_source(ed->el, NULL); /* the user's ~/.editrc, as other libedit programs do */
    return ed;
}

void mlshim_editor_close(mlshim_editor *ed) {
    if (!ed) return;
    el_end(ed->el);
    history_end(ed->hist);
    free(ed->history_path);
    free(ed->prompt);
    free(ed->paste);
    free(ed->line);
    free(ed);
}

void mlshim_editor_set_completer(mlshim_editor *ed, mlshim_complete_fn fn, void *context) {
    ed->complete = fn;
    ed->complete_context = context;
}

const char *mlshim_editor_read(mlshim_editor *ed, const char *prompt, int *status) {
    free(ed->prompt);
    ed->prompt = strdup(prompt ? prompt : "");
    ed->interrupted = 0;
    ed->pasted = 0;
    int count = 0;
    fputs("\033[?2004h", stdout); /* ask the terminal for bracketed paste */
    fflush(stdout);
    const char *got = el_gets(ed->el, &count);
    fputs("\033[?2004l", stdout);
    fflush(stdout);
    free(ed->line);
    ed->line = NULL;
    if (ed->interrupted) {
        el_reset(ed->el);
        *status = MLSHIM_READ_INTERRUPTED;
        return NULL;
    }
    if (ed->pasted) {
        ed->line = strdup(ed->paste ? ed->paste : "");
        /* echo the block below the prompt, as it was pasted */
        fputs(ed->line, stdout);
        fputc('\n', stdout);
        fflush(stdout);
        *status = MLSHIM_READ_PASTE;
        return ed->line;
    }
    if (got == NULL || count <= 0) {
        *status = MLSHIM_READ_EOF;
        return NULL;
    }
    size_t n = strlen(got);
    ed->line = malloc(n + 1);
    if (!ed->line) { *status = MLSHIM_READ_EOF; return NULL; }
    memcpy(ed->line, got, n + 1);
    while (n && (ed->line[n - 1] == '\n' || ed->line[n - 1] == '\r')) ed->line[--n] = 0;
    *status = MLSHIM_READ_LINE;
    return ed->line;
}

void mlshim_editor_add_history(mlshim_editor *ed, const char *entry) {
    if (!entry || !*entry) return;
    /* collapse duplicates anywhere in the history, keeping the newest */
    int nums[64]; int found = 0;
    if (history(ed->hist, &ed->ev, H_FIRST) == 0) {
        do {
            if (strcmp(ed->ev.str, entry) == 0 && found < 64) nums[found++] = ed->ev.num;
        } while (history(ed->hist, &ed->ev, H_NEXT) == 0);
    }
    for (int i = 0; i < found; i++) history(ed->hist, &ed->ev, H_DEL, nums[i]);
    history(ed->hist, &ed->ev, H_ENTER, entry);
    if (ed->history_path) history(ed->hist, &ed->ev, H_SAVE, ed->history_path);
}

int mlshim_editor_history_count(mlshim_editor *ed) {
    history(ed->hist, &ed->ev, H_GETSIZE);
    return ed->ev.num;
}
