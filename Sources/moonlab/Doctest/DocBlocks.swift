/// The fenced code blocks of a Markdown file, and what each asks `moonlab doctest` to do
/// (the convention is Docs/writing-docs.md's):
///
/// - ```` ```lua ```` with `> ` lines: a prompt transcript. `> ` starts an entry, `>> `
///   continues it, other lines are the output the entry must show.
/// - ```` ```lua ```` without them: a script, run in the same state; its `--> ` comment
///   lines, if any, are the output it must print.
/// - ```` ```console ````: `$ ` lines run by `sh` (moonlab on the PATH), other lines the
///   output they must show.
/// - ```` ```ANY file=PATH ````: written to PATH in the file's scratch folder, not run.
/// - ```` ```lua skip: REASON ````: shown only (the reason is required).
/// - ```` ```lua fresh ````: a new state before the block.
/// Prompt blocks and scripts of one file share one state, in order, as a reader typing
/// them would. Other fences (sh, text, json, ...) are shown only, and may not contain
/// `> ` or `$ ` lines (those must run, or say why not with skip); ```` ```markdown ````
/// blocks, which show Markdown source, may.
struct DocBlock {
    var line: Int          // 1-based line of the opening fence
    var indent = 0         // the fence's indentation, removed from the content lines
    var language: String
    var info: String       // the whole info string after the fence
    var lines: [String]    // the content, the fence's indentation removed

    enum Kind: Equatable {
        case prompt, script, console, file(String), skipped(String), shown
    }

    /// Words after the language: `skip: reason`, `file=PATH`, `fresh`.
    var kind: Kind {
        let rest = String(info.dropFirst(language.count)).trimmingSpaces()
        if rest.hasPrefix("skip") {
            let reason = rest.dropFirst(4).drop(while: { $0 == ":" || $0 == " " })
            return .skipped(String(reason))
        }
        for word in rest.split(separator: " ") where word.hasPrefix("file=") {
            return .file(String(word.dropFirst(5)))
        }
        switch language {
        case "lua": return isTranscript ? .prompt : .script
        case "console": return .console
        default: return .shown
        }
    }

    var fresh: Bool { info.split(separator: " ").dropFirst().contains("fresh") }

    /// Whether the first non-blank line is a prompt line (`> ...` or `>` alone).
    var isTranscript: Bool {
        guard let first = lines.first(where: { !$0.allSatisfy(\.isWhitespace) }) else { return false }
        return first == ">" || first.hasPrefix("> ")
    }

    /// Lines that look like something to run (a prompt or a shell command); none in a
    /// block of Markdown source, which shows examples rather than being one.
    var runnableLooking: [String] {
        if language == "markdown" || language == "md" { return [] }
        return lines.filter { $0 == ">" || $0.hasPrefix("> ") || $0.hasPrefix("$ ") }
    }

    /// Every fenced block of `text` (``` or ~~~ fences, possibly indented).
    static func parse(_ text: String) -> [DocBlock] {
        let all = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var blocks: [DocBlock] = []
        var i = 0
        while i < all.count {
            let line = all[i]
            let indent = line.prefix(while: { $0 == " " }).count
            let body = line.dropFirst(indent)
            guard indent < 4, let fenceChar = body.first, fenceChar == "`" || fenceChar == "~" else { i += 1; continue }
            let fenceLength = body.prefix(while: { $0 == fenceChar }).count
            guard fenceLength >= 3 else { i += 1; continue }
            let info = String(body.dropFirst(fenceLength)).trimmingSpaces()
            if fenceChar == "`" && info.contains("`") { i += 1; continue }
            var content: [String] = []
            var j = i + 1
            while j < all.count {
                let l = all[j]
                let li = l.prefix(while: { $0 == " " }).count
                let lb = l.dropFirst(li)
                if li < 4 && lb.prefix(while: { $0 == fenceChar }).count >= fenceLength
                    && lb.drop(while: { $0 == fenceChar }).allSatisfy(\.isWhitespace) { break }
                content.append(String(l.dropFirst(min(indent, li))))
                j += 1
            }
            let language = String(info.prefix(while: { $0 != " " }))
            blocks.append(DocBlock(line: i + 1, indent: indent, language: language, info: info, lines: content))
            i = j + 1
        }
        return blocks
    }
}

/// One thing to run in a block, with the output it must show.
struct DocExample {
    var line: Int          // 1-based line in the Markdown file
    var input: String      // Lua (an entry), a script, or a shell command
    var expected: [String]
    /// The fence's indentation (for `--fix`, which writes expected lines back).
    var indent = 0
    /// A script or command whose output is not compared (a script without `-->` lines).
    var checksOutput = true
}

extension DocBlock {
    /// A prompt block's entries: `> ` lines with their `>> ` continuations, each followed
    /// by its expected output.
    func promptExamples() -> [DocExample] {
        var out: [DocExample] = []
        for (k, l) in lines.enumerated() {
            if l == ">" || l.hasPrefix("> ") {
                out.append(DocExample(line: line + 1 + k, input: String(l.dropFirst(2)), expected: [], indent: indent))
            } else if out.isEmpty {
                continue
            } else if (l == ">>" || l.hasPrefix(">> ")) && out[out.count - 1].expected.isEmpty {
                out[out.count - 1].input += "\n" + l.dropFirst(3)
            } else {
                out[out.count - 1].expected.append(l)
            }
        }
        return out
    }

    /// A script block: the code, and its `--> ` lines as the expected output.
    func scriptExample() -> DocExample {
        let expected = lines.filter { $0.trimmingSpaces().hasPrefix("-->") }.map { l -> String in
            let t = l.trimmingSpaces().dropFirst(3)
            return String(t.hasPrefix(" ") ? t.dropFirst() : t)
        }
        return DocExample(line: line + 1, input: lines.joined(separator: "\n"), expected: expected, checksOutput: !expected.isEmpty)
    }

    /// A console block's commands (`$ ` lines, continued by a trailing `\`) and outputs.
    func consoleExamples() -> [DocExample] {
        var out: [DocExample] = []
        var continuing = false
        for (k, l) in lines.enumerated() {
            if continuing && !out.isEmpty {
                out[out.count - 1].input += "\n" + l
                continuing = l.hasSuffix("\\")
            } else if l.hasPrefix("$ ") {
                out.append(DocExample(line: line + 1 + k, input: String(l.dropFirst(2)), expected: [], indent: indent))
                continuing = l.hasSuffix("\\")
            } else if !out.isEmpty {
                out[out.count - 1].expected.append(l)
            }
        }
        return out
    }
}

/// Relative links of a Markdown file (outside code blocks and code spans), with their
/// lines: what `doctest` checks exists in the repository.
enum DocLinks {
    static func relative(_ text: String) -> [(line: Int, target: String)] {
        var out: [(Int, String)] = []
        var inFence = false
        var fence = ""
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(raw)
            let trimmed = line.drop(while: { $0 == " " })
            if let c = trimmed.first, c == "`" || c == "~", trimmed.prefix(3) == String(repeating: String(c), count: 3) {
                let marker = String(trimmed.prefix(while: { $0 == c }))
                if !inFence { inFence = true; fence = marker } else if marker.count >= fence.count && marker.first == fence.first { inFence = false }
                continue
            }
            if inFence { continue }
            // drop code spans, then find ](target)
            var plain = ""
            var inCode = false
            for ch in line { if ch == "`" { inCode.toggle() } else if !inCode { plain.append(ch) } }
            var rest = Substring(plain)
            while let open = rest.range(of: "](") {
                let after = rest[open.upperBound...]
                guard let close = after.firstIndex(of: ")") else { break }
                var target = String(after[..<close])
                if let space = target.firstIndex(of: " ") { target = String(target[..<space]) }  // [a](b "title")
                rest = after[after.index(after: close)...]
                if target.isEmpty || target.hasPrefix("#") || target.contains("://") || target.hasPrefix("mailto:") { continue }
                out.append((n + 1, target))
            }
        }
        return out
    }
}
