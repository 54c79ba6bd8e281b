import LuaKit

extension Workbench {
    /// The `spec` module and its globals `describe`, `it`, `expect`: the checks a plugin's
    /// spec.lua is written with (`moonlab plugins test NAME`), usable in any script.
    static func installSpec(_ wb: Workbench) throws {
        let lua = wb.lua
        try lua.load(SpecLua.source, name: "=spec")
        try lua.pcall(nargs: 0, nresults: 1)
        Help.register(lua, value: -1, name: "spec", doc: SpecDocs.module, isModule: true)
        for (name, doc) in SpecDocs.functions {
            lua.getField(name)
            Help.register(lua, value: -1, name: "spec.\(name)", doc: doc, isModule: false)
            if ["describe", "it", "expect"].contains(name) { lua.pushValue(at: -1); lua.setGlobal(name) }
            lua.pop()
        }
        lua.setGlobal("spec")
    }
}

/// Docstrings of `spec`.
enum SpecDocs {
    static let module = """
        spec: checks for plugins and scripts (describe / it / expect)
        describe(name, fn) groups checks; it(name, fn) runs one check and records whether it
        raised; expect(x) makes an expectation: :to_be(y) (==), :not_to_be(y), :to_equal(y)
        (deep, tensors by value), :to_be_close(y, tol = 1e-9) (numbers, arrays or tensors),
        :to_fail([text]) (x is a function that must raise, with text in the message),
        :to_be_truthy(), :to_be_falsy(), :to_be_nil(), :to_be_a(type), :to_contain(x),
        :to_match(pattern). spec.report() prints failures and "N passed, M failed";
        spec.check() raises if any failed (so `moonlab run` exits 1); spec.results(),
        spec.reset(); spec.verbose = true prints every check as it runs.
        describe, it and expect are also globals.
        Example: it("adds", function() expect(1 + 1):to_be(2) end); spec.check()
        """

    static let functions: [(String, String)] = [
        ("describe", """
            spec.describe(name, fn)
            Groups checks: the it(...) inside fn are named "name > check". An error outside an it
            counts as a failed check.
            Example: describe("math-answer", function() it("boxed", function() expect(1):to_be(1) end) end)
            """),
        ("it", """
            spec.it(name, fn) -> ok
            Runs fn; a check passes when it returns and fails when it raises (an expect that does
            not hold raises). Records the result; with spec.verbose prints "ok" or "FAIL".
            Example: it("rounds", function() expect(math.floor(2.5)):to_be(2) end)
            """),
        ("expect", """
            spec.expect(x) -> expectation
            Matchers: to_be, not_to_be, to_equal, to_be_close(y, tol), to_fail([text]),
            to_be_truthy, to_be_falsy, to_be_nil, to_be_a(type), to_contain(x), to_match(pattern).
            Each raises "expected Y, got X" at the caller's line when it does not hold.
            Example: expect(0.1 + 0.2):to_be_close(0.3, 1e-12)
            """),
        ("report", """
            spec.report() -> ok, passed, failed
            Prints the failures (unless spec.verbose printed them) and "N passed, M failed".
            Example: local ok = spec.report()
            """),
        ("check", """
            spec.check() -> passed
            Raises an error naming the first failure if any check failed, so a script run with
            `moonlab run` exits with status 1.
            Example: spec.check()
            """),
        ("results", """
            spec.results() -> {passed, failed, failures = {{name, message}, ...}}
            The checks recorded since the start (or spec.reset()).
            Example: print(spec.results().failed)
            """),
        ("reset", """
            spec.reset()
            Forgets the checks recorded so far.
            Example: spec.reset()
            """),
    ]
}
