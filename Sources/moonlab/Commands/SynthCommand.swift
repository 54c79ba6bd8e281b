import ArgumentParser
import Foundation
import LuaKit
import Workbench

/// `moonlab synth`: the LAB pipeline over a whole taxonomy, leaf by leaf, resumable.
struct SynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Generate synthetic training data from an InstructLab taxonomy with a teacher model.",
        discussion: """
            Reads the taxonomy (bad qna.yaml files are reported with file, line and field and \
            skipped), then runs synth.generate leaf by leaf with the teacher at --base-url. Each \
            kept record is one output line: {"leaf", "context", "question", "answer", "messages"} \
            (the messages are what TRL's SFTTrainer and `ilab train` read). A leaf's records are \
            written together and the leaf is then marked done in F.jsonl.leaves, so --resume after \
            an interruption skips finished leaves and redoes a leaf cut short: nothing lost or \
            doubled. Ends with a per-leaf summary of what each step generated and dropped. \
            --seed S (moonlab's global option, before or after synth; default 0) seeds the \
            pipeline: the i-th leaf (from 1) runs synth.generate with seed S + i.

            Example: moonlab synth --taxonomy Examples/taxonomy --base-url http://127.0.0.1:8080/v1 --model smollm2 --per-leaf 5 --out synth.jsonl
            """)

    @Option(help: ArgumentHelp("The taxonomy's root folder.", valueName: "dir"))
    var taxonomy: String?

    @Option(name: .customLong("base-url"), help: ArgumentHelp("The teacher's server, with its /v1 prefix.", valueName: "url"))
    var baseURL: String?

    @Option(help: ArgumentHelp("The teacher model's name.", valueName: "name"))
    var model: String?

    @Option(name: .customLong("per-leaf"), help: ArgumentHelp("Records per leaf at most (default 10).", valueName: "n"))
    var perLeaf: Int = 10

    @Option(help: ArgumentHelp("Requests in flight (default 4).", valueName: "c"))
    var concurrency: Int = 4

    @Option(help: ArgumentHelp("The output JSON Lines file (default synth.jsonl).", valueName: "file"))
    var out: String = "synth.jsonl"

    @Flag(help: "Continue an interrupted run: skip the leaves already done.")
    var resume = false

    @Flag(name: .customLong("no-progress"), help: "No progress bars.")
    var noProgress = false

    mutating func run() throws {
        guard let taxonomy else { fail("synth: --taxonomy DIR is required") }
        guard let baseURL else { fail("synth: --base-url URL is required (e.g. http://127.0.0.1:8080/v1)") }
        guard perLeaf >= 1 else { fail("synth: --per-leaf \(perLeaf): expected at least 1") }
        guard concurrency >= 1 else { fail("synth: --concurrency \(concurrency): expected at least 1") }
        var options = WorkbenchOptions()
        options.seed = GenerateCommand.seedGivenToTheRoot() ?? 0
        LuaInterrupt.installHandler()
        let wb: Workbench
        do { wb = try Workbench(options: options) } catch { fail("synth: could not start: \(error)") }
        wb.setArgTable(script: "synth", arguments: [])
        let quote = { (s: String) in "\"" + s.unicodeScalars.map { $0 == "\"" || $0 == "\\" ? "\\\($0)" : "\($0)" }.joined() + "\"" }
        let call = "return (...)(\(quote(taxonomy)), \(quote(baseURL)), \(quote(model ?? "")), \(perLeaf), \(options.seed), " +
            "\(quote(out)), \(resume), \(concurrency), \(!noProgress))"
        do {
            try wb.lua.load(SynthCommand.driver, name: "=moonlab synth")
            try wb.lua.pcall(nargs: 0, nresults: 1)
            try wb.lua.load(call, name: "=moonlab synth")
            wb.lua.insert(at: -2)
            try wb.lua.pcall(nargs: 1, nresults: 0)
        } catch let e as LuaError {
            if e.isInterruption {
                Platform.writeStderr("moonlab synth: stopped; run the same command with --resume to continue.\n")
                Moonlab.exit(withError: ExitCode(130))
            }
            fail("synth: " + e.message)
        }
    }

    static let driver = #"""
    return function(root, base_url, model_name, per_leaf, seed, out, resume, concurrency, progress)
      local leaves, problems = synth.taxonomy(root)
      for _, p in ipairs(problems) do
        io.stderr:write(("moonlab synth: %s:%d: [%s] %s (skipped)\n"):format(p.file, p.line, p.field, p.message))
      end
      if #leaves == 0 then error("no valid leaves in " .. root, 0) end
      local marks = out .. ".leaves"
      local done = {}
      if resume then
        for line in (io.open(marks) and io.lines(marks) or function() end) do done[line] = true end
        -- keep only the whole lines of leaves marked done (a leaf cut short is redone)
        local kept = {}
        local f = io.open(out)
        if f then
          local text = f:read("a"); f:close()
          for line in text:gmatch("([^\n]*)\n") do
            local ok, r = pcall(data.decode, line)
            if ok and type(r) == "table" and done[r.leaf] then kept[#kept + 1] = line end
          end
        end
        local w = assert(io.open(out, "w"))
        if #kept > 0 then w:write(table.concat(kept, "\n"), "\n") end
        w:close()
      else
        assert(io.open(out, "w")):close()
        assert(io.open(marks, "w")):close()
      end
      local llm = model.openai{base_url = base_url, model = model_name ~= "" and model_name or nil, concurrency = concurrency}
      local rows = {}
      local total = 0
      for i, leaf in ipairs(leaves) do
        if done[leaf.path] then
          io.stderr:write(("[%d/%d] %s: done before (--resume)\n"):format(i, #leaves, leaf.path))
        else
          if progress then io.stderr:write(("[%d/%d] %s ...\n"):format(i, #leaves, leaf.path)) end
          local records, report = synth.generate{leaves = {leaf}, teacher = llm, per_leaf = per_leaf, seed = seed + i}
          local lines = {}
          for k, r in ipairs(records) do
            lines[k] = data.encode({leaf = r.leaf, context = r.context, question = r.question, answer = r.answer, messages = r.messages})
          end
          local f = assert(io.open(out, "a"))
          if #lines > 0 then f:write(table.concat(lines, "\n"), "\n") end
          f:close()
          local m = assert(io.open(marks, "a")); m:write(leaf.path, "\n"); m:close()
          local lr = report[leaf.path]
          local row = {leaf.path, #leaf.seeds}
          for _, s in ipairs(lr.steps) do row[#row + 1] = s.generated; row[#row + 1] = s.dropped end
          row[#row + 1] = lr.kept
          rows[#rows + 1] = row
          total = total + lr.kept
        end
      end
      io.stderr:write("\nleaf                                        seeds  questions(-dropped)  judged(-no)  answers(-)  faithful(-no)  filter(-)  kept\n")
      for _, r in ipairs(rows) do
        io.stderr:write(("%-44s %5d  %9d (-%d)  %7d (-%d)  %6d (-%d)  %8d (-%d)  %5d (-%d)  %4d\n"):format(table.unpack(r)))
      end
      io.stderr:write(("moonlab synth: %d records from %d leaves (%d files skipped) in %s\n"):format(total, #leaves, #problems, out))
    end
    """#
}
