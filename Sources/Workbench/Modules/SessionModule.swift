import LuaKit

extension Workbench {
    /// The `session` module: record, stop, replay.
    static func installSession(_ wb: Workbench) throws {
        let m = ModuleBuilder(wb.lua, name: "session", doc: """
            session: record what you do at the prompt, replay it to check a result still holds
            The prompt records every session by default, to ~/.local/share/moonlab/sessions/
            <time>.jsonl (--record FILE chooses the file, --no-record turns it off); these
            functions start and stop a recording from Lua and replay a file. From the shell:
            moonlab replay FILE (--update, --tolerance X, --step, --export).
            Example: session.record("/tmp/explore.jsonl")
            """)
        m.function("record", doc: """
            session.record(path) -> path
            Starts recording this session to path (JSON Lines: a header, then one line per entry,
            flushed as it happens). Replaces a recording in progress. Does nothing in a replay.
            Example: session.record("/tmp/explore.jsonl")
            """) { args in
            let path = try args.path(1)
            guard let wb = Workbench.of(args.state), !wb.options.replaying else { args.state.push(path); return 1 }
            do { try wb.startRecording(path: path) } catch { throw args.failure("\(error)") }
            args.state.push(path)
            return 1
        }
        m.function("stop", doc: """
            session.stop() -> path or nil
            Stops the recording in progress and returns its file.
            Example: session.stop()
            """) { args in
            guard let wb = Workbench.of(args.state), !wb.options.replaying, let rec = wb.recorder else { return 0 }
            wb.recorder = nil
            args.state.push(rec.path)
            return 1
        }
        m.function("replay", doc: """
            session.replay(path, {tolerance = nil}) -> report
            Replays a session file in a fresh state seeded from its header and compares every output
            with the recorded one. report = {entries =, passed =, divergences = {{n =, input =,
            expected =, actual =}, ...}, unreadable_lines = {...}, seconds =}. tolerance: relative
            tolerance for numbers inside outputs (nil: exact).
            Example: r = session.replay("explore.jsonl"); print(r.passed)
            """) { args in
            let path = try args.path(1)
            let o = try args.options(2, allowed: ["tolerance"])
            let file: SessionFormat.File
            do { file = try SessionFormat.read(path: path) } catch { throw args.failure("\(error)") }
            let parent = Workbench.of(args.state)?.options ?? WorkbenchOptions()
            var opts = parent
            opts.output = { _ in }
            let replayer = try Replayer(file: file, options: opts)
            replayer.tolerance = try o.number("tolerance")
            let report = replayer.run()
            if report.interrupted { throw LuaError.interrupted }
            let s = args.state
            s.newTable()
            s.push(report.entries); s.setField("entries")
            s.push(report.passed); s.setField("passed")
            s.push(report.seconds); s.setField("seconds")
            s.push(array: report.unreadableLines.map(Double.init)); s.setField("unreadable_lines")
            s.newTable()
            for (i, d) in report.divergences.enumerated() {
                s.newTable()
                s.push(d.n); s.setField("n")
                s.push(d.input); s.setField("input")
                s.push(d.expected); s.setField("expected")
                s.push(d.actual); s.setField("actual")
                s.rawSet(i + 1, of: -2)
            }
            s.setField("divergences")
            return 1
        }
    }
}
