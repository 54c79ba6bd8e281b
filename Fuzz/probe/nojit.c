/* LD_PRELOAD shim (by hand, never built by the package): PCRE2's JIT compiler refuses
   (PCRE2_ERROR_JIT_BADOPTION), so every `re` match runs in PCRE2's interpreter. Used to tell
   PCRE2 JIT's valgrind reports from moonlab's (BENCHMARKS.md, "Robustness"):
     clang -shared -fPIC -O2 -o /tmp/nojit.so Fuzz/probe/nojit.c
     strip --strip-debug -o /tmp/moonlab-nodebug .build/debug/moonlab   (valgrind 3.19 cannot read Swift's DWARF 5)
     valgrind --smc-check=all --leak-check=full /tmp/moonlab-nodebug run Fuzz/probe/failing_calls.lua 1
     LD_PRELOAD=/tmp/nojit.so valgrind --smc-check=all --leak-check=full /tmp/moonlab-nodebug run Fuzz/probe/failing_calls.lua 1 */
int pcre2_jit_compile_8(void *code, unsigned int options) { (void)code; (void)options; return -45; }
