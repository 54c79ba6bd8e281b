import Foundation
import LuaKit
import Workbench

/// `moonlab score --state step=100 --state phase=warmup`: the table every reward gets as
/// its second argument. Values that read as numbers are numbers, `true`/`false` booleans,
/// anything else a string. Each argument may also hold several pairs, comma-separated.
enum ScoreStateArgument {
    static func parse(_ arguments: [String]) throws -> LuaValue? {
        guard !arguments.isEmpty else { return nil }
        var table: [LuaValue: LuaValue] = [:]
        for argument in arguments {
            for pair in argument.split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2, !parts[0].isEmpty else {
                    throw ScoreUsageError("--state \(argument): expected KEY=VALUE pairs (e.g. step=100,epoch=2)")
                }
                let key = String(parts[0]), text = String(parts[1])
                let value: LuaValue
                if let i = Int(text) { value = .integer(i) }
                else if let d = Double(text), !text.isEmpty { value = .number(d) }
                else if text == "true" || text == "false" { value = .boolean(text == "true") }
                else { value = .text(text) }
                table[.text(key)] = value
            }
        }
        return .table(table)
    }
}

/// A mistake in the command line or its inputs: exit status 1 with this message.
struct ScoreUsageError: Error, CustomStringConvertible {
    var description: String
    init(_ message: String) { description = message }
}
