import LuaKit
import AlignMath

extension Workbench {
    /// The `tensor` module and the tensor userdata type (a minimal registration; the full
    /// metamethods of lua-api.md are added here).
    static func installTensor(_ wb: Workbench) throws {
        let lua = wb.lua
        lua.register(type: Tensor.self, name: "tensor") { t in
            t.method("shape") { t, a in a.state.push(array: t.shape.map(Double.init)); return 1 }
            t.method("numel") { t, a in a.state.push(t.count); return 1 }
            t.method("dtype") { t, a in a.state.push(t.dtype.rawValue); return 1 }
            t.method("totable") { t, a in a.state.push(array: t.toDoubles()); return 1 }
            t.meta("__tostring") { a in a.state.push(try a.object(1, Tensor.self).description); return 1 }
            t.meta("__len") { a in a.state.push(try a.object(1, Tensor.self).shape.first ?? 0); return 1 }
        }
        let m = ModuleBuilder(lua, name: "tensor", doc: """
            tensor: N-d contiguous arrays of f32 or f64, the values heavy math runs on
            tensor{1, 2, 3} and tensor{{1, 2}, {3, 4}} build one from Lua arrays (f64).
            """)
        _ = m
    }
}
