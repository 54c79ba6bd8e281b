import LuaKit

extension Workbench {
    /// `moonlab.show(...)`: prints values as the prompt shows a result, so a script (and a
    /// session exported as one) prints what the prompt printed. Adds to the table on top
    /// of the stack. Stack-neutral.
    func installShow() {
        lua.push(function: "moonlab.show") { args in
            let lua = args.state
            let n = args.count
            if n > 0, let wb = Workbench.of(lua) {
                let printer = PrettyPrinter(lua, limits: wb.printLimits)
                wb.emit((1...n).map { printer.format(at: $0) }.joined(separator: "\t") + "\n")
            }
            return n
        }
        Help.register(lua, value: -1, name: "moonlab.show", doc: """
            moonlab.show(...) -> ...
            Prints its arguments as the prompt shows a result (tables expanded with sorted keys,
            tensors as their repr, strings unquoted, within moonlab.print_* limits), tab-separated,
            and returns them. print(t) in a script shows only "table: 0x..."; moonlab.show(t) shows
            what `t` at the prompt shows. Exported sessions use it.
            Example: moonlab.show({1, 2, x = "y"})
            """, isModule: false)
        lua.setField("show")
    }
}
