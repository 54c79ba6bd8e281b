/// Docstrings of the `re` module and its pattern methods.
enum ReDocs {
    static let module = """
        re: regular expressions with Python's syntax and meaning (PCRE2 with its JIT)
        compile, match, search, fullmatch, findall, gmatch, sub, split, escape. Patterns are
        written as in Python's re (alternation a|b, counted repeats {2,5} and {,3}, (?:...),
        (?P<name>...), lookarounds, \\d \\w \\s \\b, \\A \\Z, lazy and possessive repeats); strings
        are bytes, as Lua's are, with ASCII classes as Python's bytes patterns have (flag u:
        UTF-8 with Unicode classes and case folding, as Python's str patterns). Positions are
        1-based with inclusive ends, as string.find's. Module functions take the pattern
        first and cache what they compile. Syntax Python refuses is refused (PCRE2's \\h \\K
        \\Q, (?<name>...), global flags after the start). Unlike Python: repeat counts stop
        at 65535, the L flag and \\N{name} are refused, a scoped (?a:...) is refused with u
        (a leading (?a) works), and a repeated group whose last pass matched nothing keeps
        the pass before it.
        require "re" still gives LPeg's re module where lua-lpeg is installed: this one is
        the global re.
        Example: re.search("<answer>(.*?)</answer>", "<answer>42</answer>")[1]  --> "42"
        """
    static let compile = """
        re.compile(pattern, {flags = ""}) -> pattern
        Compiles a pattern written in Python's syntax. flags letters: i ignore case, m
        multiline (^ and $ at every line), s dot matches newline, x verbose, u UTF-8 with
        Unicode classes, a ASCII classes (the default). A bad pattern is an error naming its
        offset (0-based, as Python's). Fields: pattern, flags, groups (number of groups).
        Options: flags ("").
        Example: p = re.compile([[^<think>.*?</think>\\s*<answer>.*?</answer>$]], {flags = "s"})
        """
    static let escape = """
        re.escape(s) -> string
        s with a backslash before every character that has a meaning in a pattern (Python's
        re.escape), so re.search(re.escape(s), text) looks for s literally.
        Example: re.escape("1+1=2?")  --> "1\\\\+1=2\\\\?"
        """
    static let match = """
        p:match(s[, init = 1]) -> match or nil
        A match that starts at init (Python's Pattern.match: anchored there, not at every
        line). A match m has m[0] the whole text, m[1].. the groups (nil when a group did not
        take part), m.name a named group, m:span(k) -> start, end (1-based, inclusive; k a
        number or name, 0 by default), m:groups() -> list (false for a group that did not
        take part), m:groupdict(), m:group(k, ...) -> the texts of groups k, ... (Python's
        Match.group: group 0 without k, nil for a group that did not take part, an error for
        a group the pattern does not have).
        Example: re.compile("(\\\\d+)-(\\\\d+)"):match("12-34")[2]  --> "34"
        """
    static let search = """
        p:search(s[, init = 1]) -> match or nil
        The first match at or after init (Python's Pattern.search); see p:match for the match.
        Example: re.compile("a|b"):search("xxb"):span()  --> 3  3
        """
    static let fullmatch = """
        p:fullmatch(s[, init = 1]) -> match or nil
        A match from init to the very end of s (Python's Pattern.fullmatch).
        Example: re.compile("\\\\d{2,4}"):fullmatch("2024") ~= nil  --> true
        """
    static let findall = """
        p:findall(s[, init = 1]) -> list
        Every match, left to right, as Python's findall: the matched texts when the pattern
        has no group, group 1's text with one group, a list of the groups' texts with more
        ("" for a group that did not take part). Empty matches count as Python 3.7+ counts
        them (re.findall("x*", "ax") is {"", "x", ""}).
        Example: re.findall("-?\\\\d+", "1 and -22")  --> {"1", "-22"}
        """
    static let sub = """
        p:sub(repl, s[, count = 0]) -> string, n
        s with the first count matches (0: all) replaced, and how many were. repl is a string
        read as Python reads one (\\\\1 and \\\\g<name> insert a group, \\\\n a newline) or a
        function(match) -> string (nil puts nothing there, as Python's None does).
        Example: re.compile("(\\\\w+)@(\\\\w+)"):sub("\\\\2 at \\\\1", "me@host")  --> "host at me"  1
        """
    static let split = """
        p:split(s[, maxsplit = 0]) -> list
        s cut at every match (at most maxsplit cuts, 0: all), as Python's split: the texts of
        groups in the pattern are kept between the pieces (false for a group that did not
        take part).
        Example: re.split(",\\\\s*", "a, b,c")  --> {"a", "b", "c"}
        """
    static let gmatch = """
        p:gmatch(s) -> iterator
        An iterator over the match objects of every match, left to right (Python's finditer).
        Example: for m in re.compile("(\\\\d)"):gmatch("a1b2") do print(m[1]) end
        """
    static let step = """
        p:finditer_step(s, offset, after_empty) -> match or nil
        The next match at or after the 0-based byte offset, refusing an empty match there when
        after_empty (the previous match was empty at that place): the step p:gmatch iterates
        with, following Python 3.7's rule for empty matches.
        Example: re.compile("x*"):finditer_step("ax", 0, true):span()  --> 2  2
        """
    static let moduleMatch = """
        re.match(pattern, s[, init = 1][, {flags = ""}]) -> match or nil
        re.compile(pattern, {flags}):match(s, init), with the compiled pattern cached.
        Example: re.match("\\\\d+", "42 apples")[0]  --> "42"
        """
    static let moduleSearch = """
        re.search(pattern, s[, init = 1][, {flags = ""}]) -> match or nil
        re.compile(pattern, {flags}):search(s, init), with the compiled pattern cached.
        Example: re.search("answer:\\\\s*(\\\\S+)", "The Answer: 7", {flags = "i"})[1]  --> "7"
        """
    static let moduleFullmatch = """
        re.fullmatch(pattern, s[, init = 1][, {flags = ""}]) -> match or nil
        re.compile(pattern, {flags}):fullmatch(s, init), with the compiled pattern cached.
        Example: re.fullmatch("[a-z]+", "abc") ~= nil  --> true
        """
    static let moduleFindall = """
        re.findall(pattern, s[, init = 1][, {flags = ""}]) -> list
        re.compile(pattern, {flags}):findall(s, init), with the compiled pattern cached.
        Example: re.findall("#### (\\\\-?[0-9\\\\.\\\\,]+)", "so #### 1,234")  --> {"1,234"}
        """
    static let moduleSub = """
        re.sub(pattern, repl, s[, count = 0][, {flags = ""}]) -> string, n
        re.compile(pattern, {flags}):sub(repl, s, count), with the compiled pattern cached.
        Example: re.sub("\\\\s+", " ", "a  b\\n c")  --> "a b c"  2
        """
    static let moduleSplit = """
        re.split(pattern, s[, maxsplit = 0][, {flags = ""}]) -> list
        re.compile(pattern, {flags}):split(s, maxsplit), with the compiled pattern cached.
        Example: re.split("(\\\\d)", "a1b")  --> {"a", "1", "b"}
        """
    static let moduleGmatch = """
        re.gmatch(pattern, s[, {flags = ""}]) -> iterator
        re.compile(pattern, {flags}):gmatch(s), with the compiled pattern cached.
        Example: for m in re.gmatch("\\\\d+", "1 22 333") do print(m[0]) end
        """
}
