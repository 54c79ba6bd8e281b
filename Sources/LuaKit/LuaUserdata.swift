import LuaShim

/// Swift class instances as Lua userdata. A type is registered once per state with its
/// methods and metamethods; each pushed instance is retained by its userdata and released
/// by `__gc`.
public final class LuaTypeBuilder<T: AnyObject> {
    public typealias Method = (T, LuaArguments) throws -> Int32
    /// A C-callable function from a boxed object's pointer to one number.
    public typealias NumberFastPath = @convention(c) (UnsafeMutableRawPointer?) -> Double
    var methods: [(String, Method)] = []
    var fastNumbers: [String: NumberFastPath] = [:]
    var metamethods: [(String, LuaFunction)] = []
    var index: Method?
    var newIndex: Method?
    var arrayBoxes = false

    /// `obj:name(...)`: arg 1 is the object.
    public func method(_ name: String, _ body: @escaping Method) { methods.append((name, body)) }
    /// `obj:name(...)` with a fast path for the bare call `obj:name()`: it goes straight
    /// from C to `fast` (given the object's retained pointer, as `LuaState.object(fromBox:)`
    /// reads it) without the generic dispatch, for methods called in tight Lua loops
    /// (`g:uniform()`). Calls with arguments run `body`. `fast` must not fail.
    public func method(_ name: String, fast: NumberFastPath, _ body: @escaping Method) {
        methods.append((name, body))
        fastNumbers[name] = fast
    }
    /// A metamethod such as `__tostring`, `__len`, `__add`, `__eq`, `__call`.
    public func meta(_ name: String, _ body: @escaping LuaFunction) { metamethods.append((name, body)) }
    /// `obj[key]` for keys that are not methods: arg 1 the object, arg 2 the key.
    public func index(_ body: @escaping Method) { index = body }
    /// `obj[key] = v`: arg 1 the object, arg 2 the key, arg 3 the value.
    public func newIndex(_ body: @escaping Method) { newIndex = body }
    /// Instances are pushed with `push(object:array:)`, which shows C a 1-d view of them:
    /// `obj[i]`, `obj[i] = x`, `#obj` and `ipairs(obj)` then run in C for 1-d views and fall
    /// back to `index`, `newIndex` and the `__len` metamethod (all three required) otherwise.
    public func arrayBoxes(_ on: Bool = true) { arrayBoxes = on }
}

/// What C may read of an array box: the first axis of a 1-d array of one element type.
public struct LuaArrayView {
    public enum Kind: Int32 { case none = 0, f32 = 1, f64 = 2, i64 = 3, bool = 4 }
    /// Element 1 (nil when `kind` is none).
    public var data: UnsafeMutableRawPointer?
    /// Size of the first axis; -1 when there is none (a 0-d value).
    public var length: Int
    /// Bytes between consecutive elements.
    public var strideBytes: Int
    public var kind: Kind
    /// A copy-on-write cell (LuaShim's `mlshim_cowcell`, owned by the object, so it lives as
    /// long as the box): when set, element 1 is at the cell's base + `cellOffset` bytes,
    /// read afresh on every access, and C hands writes to `newIndex` while the cell says
    /// the bytes are borrowed.
    public var cell: UnsafeRawPointer?
    public var cellOffset: Int
    public init(data: UnsafeMutableRawPointer?, length: Int, strideBytes: Int, kind: Kind,
                cell: UnsafeRawPointer? = nil, cellOffset: Int = 0) {
        self.data = data
        self.length = length
        self.strideBytes = strideBytes
        self.kind = kind
        self.cell = cell
        self.cellOffset = cellOffset
    }
}

extension LuaState {
    /// Registers `T` under the Lua type name `name` (shown by `type errors` and
    /// `__name`). The closure adds methods and metamethods.
    public func register<T: AnyObject>(type: T.Type, name: String, _ build: (LuaTypeBuilder<T>) -> Void) {
        let b = LuaTypeBuilder<T>()
        build(b)
        shared.typeNames[ObjectIdentifier(type)] = name
        shared.typeCNames[ObjectIdentifier(type)] = Array(name.utf8CString)
        mlshim_newboxmetatable(L, name)  // [mt]
        let mt = top
        newTable()  // methods
        for (mname, body) in b.methods {
            let qualified = "\(name):\(mname)"
            let generic: LuaFunction = { args in
                let obj = try args.object(1, T.self)
                return try body(obj, args)
            }
            if let fast = b.fastNumbers[mname] {
                pushBox(function: qualified, generic)
                pushValue(at: mt)
                mlshim_pushswiftfunction_fastnumber(L, fast)
            } else {
                push(function: qualified, generic)
            }
            setField(mname, of: -2)
        }
        pushValue(at: -1)
        setField("__methods", of: mt)
        if b.arrayBoxes, let getter = b.index, let setter = b.newIndex,
           let length = b.metamethods.first(where: { $0.0 == "__len" })?.1 {
            // Stack: [mt, methods]; C builds __index/__newindex/__len/__ipairs around the fallbacks.
            push(function: "\(name).__index") { args in try getter(try args.object(1, T.self), args) }
            push(function: "\(name).__newindex") { args in try setter(try args.object(1, T.self), args) }
            push(function: "\(name).__len", length)
            mlshim_setarraymetamethods(L)
            for (mname, body) in b.metamethods where mname != "__len" {
                push(function: "\(name).\(mname)", body)
                setField(mname, of: mt)
            }
            pop()  // mt
            return
        }
        if let getter = b.index {
            // Stack: [mt, methods]: methods first (in C, no call into Swift), then the getter.
            push(function: "\(name).__index") { args in try getter(try args.object(1, T.self), args) }
            mlshim_push_methods_first_index(L)
        }
        setField("__index", of: mt)
        if let setter = b.newIndex {
            push(function: "\(name).__newindex") { args in try setter(try args.object(1, T.self), args) }
            setField("__newindex", of: mt)
        }
        for (mname, body) in b.metamethods {
            push(function: "\(name).\(mname)", body)
            setField(mname, of: mt)
        }
        pop()  // mt
    }

    /// Pushes `object` as a userdata of its registered type. Stack: [] -> [userdata].
    public func push<T: AnyObject>(object: T) {
        let name = luaName(of: T.self)
        mlshim_pushbox(L, Unmanaged.passRetained(object as AnyObject).toOpaque(), name)
    }

    /// Pushes `object` as an array box (its type registered with `arrayBoxes()`), showing C
    /// `array`. The view's memory must live as long as the object. Stack: [] -> [userdata].
    public func push<T: AnyObject>(object: T, array: LuaArrayView) {
        let name = luaName(of: T.self)
        mlshim_pusharraybox(L, Unmanaged.passRetained(object as AnyObject).toOpaque(), name,
                            array.data, Int64(array.length), Int64(array.strideBytes), array.kind.rawValue,
                            array.cell, Int64(array.cellOffset))
    }

    /// Installs `ipairs` that honours an `__ipairs` metamethod (Lua 5.4's ignores it), so
    /// array boxes (tensors) can be walked with ipairs; tables walk as before.
    public func installMetaIpairs() {
        lua_pushcclosure(L, mlshim_ipairs, 0)
        lua_setglobal(L, "ipairs")
    }

    /// The object at `index` if it is a userdata of `T`'s registered type.
    public func object<T: AnyObject>(at index: Int32, _ type: T.Type) -> T? {
        guard let name = shared.typeCNames[ObjectIdentifier(type)],
              let p = mlshim_testbox(L, index, name) else { return nil }
        return Unmanaged<AnyObject>.fromOpaque(p).takeUnretainedValue() as? T
    }

    /// The Lua name `T` was registered under (its `__name`).
    public func luaName<T: AnyObject>(of type: T.Type) -> String {
        shared.typeNames[ObjectIdentifier(type)] ?? String(describing: type)
    }
}
