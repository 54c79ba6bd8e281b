import XCTest
import AlignMath
import LuaKit
import Workbench
import TestSupport

/// Lua's collector is told what tensors hold, and tables become tensors of the right dtype.
final class TensorMemoryTests: XCTestCase {
    func testDeadTemporariesAreCollectedAsTheyPileUp() throws {
        let h = try LuaHarness()
        let memory = TensorMemory.of(h.workbench.lua)
        // Three 8 MB tensors; each iteration makes three 8 MB temporaries.
        try h.run("a = tensor.ones{1e6}; b = tensor.ones{1e6}; c = tensor.full({1e6}, 2)")
        try h.run("for i = 1, 20 do local r = (a * 2 + b) / c end")
        // 20 iterations made 480 MB of temporaries; without collections they would all be live.
        XCTAssertGreaterThan(memory.collections + memory.minorCollections, 0)
        XCTAssertLessThan(h.workbench.lua.externalMemory, 200 << 20, "dead temporaries were not collected")
        XCTAssertGreaterThanOrEqual(h.workbench.lua.externalMemory, 3 * 8_000_000, "a, b and c are live")
        try h.run("a, b, c = nil, nil, nil; collectgarbage()")
        XCTAssertLessThan(h.workbench.lua.externalMemory, 1 << 20)
    }

    /// A workbench state collects generationally, so the collections tensor memory drives
    /// are minor ones: with a large heap of old tables alive they do not mark it (a full
    /// collection per step did: 7-11 ms for 96 MB), dead temporaries are still freed, and a
    /// Lua finalizer of a young table still runs.
    func testTensorStepsAreMinorCollectionsInGenerationalMode() throws {
        let h = try LuaHarness()
        let lua = h.workbench.lua
        XCTAssertTrue(lua.generationalCollector)
        let memory = TensorMemory.of(lua)
        try h.run("old = {}; for i = 1, 2e5 do old[i] = {i} end; collectgarbage()")
        try h.run("a = tensor.ones{1e6}; b = tensor.ones{1e6}; c = tensor.full({1e6}, 2)")
        let full = memory.collections
        // Dead young tables with finalizers (made in a chunk of their own: a dead value left
        // in a register of the running loop would still be seen as live).
        try h.run("fin = 0; for i = 1, 5 do setmetatable({}, {__gc = function() fin = fin + 1 end}) end")
        try h.run("for i = 1, 40 do local r = (a * 2 + b) / c end")
        // 40 iterations made 960 MB of temporaries.
        XCTAssertGreaterThan(memory.minorCollections, 0)
        XCTAssertEqual(memory.collections, full, "the tensor steps must not be full collections")
        XCTAssertLessThan(lua.externalMemory, 200 << 20, "dead temporaries were not collected")
        XCTAssertEqual(try h.value("fin"), "5", "finalizers of young objects must run")
        XCTAssertEqual(try h.value("#old, old[2e5][1]"), "200000\t200000")
    }

    /// A tensor that lived through two minor collections is old, and only a full collection
    /// frees it once dead: when the live tensor bytes double past the last full collection's,
    /// one runs, so old dead tensors cannot pile up.
    func testOldDeadTensorsAreFreedByAFullCollection() throws {
        let h = try LuaHarness()
        let lua = h.workbench.lua
        let memory = TensorMemory.of(lua)
        var most = 0
        for _ in 0..<50 {  // 50 x 3.2 MB that die old: 160 MB if nothing freed them
            try h.run("t = tensor.ones{4e5}; collectgarbage('step'); collectgarbage('step'); collectgarbage('step'); t = nil")
            most = max(most, lua.externalMemory)
        }
        XCTAssertGreaterThan(memory.collections, 0)
        XCTAssertLessThan(most, 100 << 20, "old dead tensors piled up")
    }

    /// A script may choose the collector's mode; moonlab keeps its choice: in incremental
    /// mode the tensor steps are full collections (as before generational mode), and
    /// collectgarbage behaves as Lua's own (count, step, the previous mode, its errors).
    func testAScriptsCollectorModeIsKept() throws {
        let h = try LuaHarness()
        let lua = h.workbench.lua
        let memory = TensorMemory.of(lua)
        XCTAssertEqual(try h.value("collectgarbage('incremental')"), "generational")
        XCTAssertFalse(lua.generationalCollector)
        XCTAssertEqual(try h.value("collectgarbage('incremental')"), "incremental")
        try h.run("a = tensor.ones{1e6}; b = tensor.ones{1e6}; c = tensor.full({1e6}, 2)")
        let minor = memory.minorCollections
        try h.run("for i = 1, 20 do local r = (a * 2 + b) / c end")
        XCTAssertGreaterThan(memory.collections, 0)
        XCTAssertEqual(memory.minorCollections, minor)
        XCTAssertLessThan(lua.externalMemory, 200 << 20)
        XCTAssertFalse(lua.generationalCollector, "moonlab must not switch the script's mode back")
        XCTAssertEqual(try h.value("collectgarbage('generational')"), "incremental")
        XCTAssertTrue(lua.generationalCollector)
        XCTAssertEqual(try h.value("type(collectgarbage('count')), collectgarbage('count') > 0, type(collectgarbage('step')), collectgarbage('isrunning')"),
                       "number\ttrue\tboolean\ttrue")
        XCTAssertEqual(try h.value("collectgarbage(), collectgarbage('collect')"), "0\t0")
        XCTAssertEqual(h.message("collectgarbage('sideways')"), "bad argument #1 to 'collectgarbage' (invalid option 'sideways')")
        // Inside a finalizer the collector cannot run: Lua answers fail, the mode stays.
        try h.run("setmetatable({}, {__gc = function() inside = collectgarbage('incremental') end}); collectgarbage()")
        XCTAssertEqual(try h.value("inside"), "nil")
        XCTAssertTrue(lua.generationalCollector)
    }

    /// Issue 13: `timeit(function() return t:sort() end)` paid fresh pages for every call's
    /// outputs until the collector had freed the previous call's (the charge steps come every
    /// 64 MiB, and minor collections do not free results that grew old). A large allocation
    /// that finds no cached block now collects first, so from the second call on the outputs
    /// take the blocks of the results the previous call returned and the script dropped: no
    /// fresh block after the first call.
    func testASecondCallReusesTheBlocksOfTheDeadResults() throws {
        for (name, call) in [("clone", "t:clone()"), ("a + b", "t + u"), ("sort", "t:sort()"), ("argsort", "t:argsort()")] {
            // A fresh state and cache per case, as a fresh process has (the benchmark's way:
            // Benchmarks/tensor_first_calls.lua).
            let h = try LuaHarness()
            let memory = TensorMemory.of(h.workbench.lua)
            TensorStorage.drainBlockCache()
            try h.run("t = tensor.arange(1e7) % 7919 - 3000.5; u = tensor.ones{1e7}; collectgarbage()")  // 80 MB each, as in the issue
            // The first call takes fresh blocks; a chunk of its own that returns nothing (an
            // entry's value stays alive as `_`).
            try h.run("f = function() return \(call) end; timeit(f, {runs = 1, warmup = 0}); return")
            let before = TensorStorage.freshBlocks
            try h.run("timeit(f, {runs = 2, warmup = 0}); return")  // the second and third calls
            let after = TensorStorage.freshBlocks
            XCTAssertEqual(after.count - before.count, 0, "\(name): later calls took \(after.bytes - before.bytes) fresh bytes")
            XCTAssertGreaterThan(memory.reclaimCollections, 0, name)
            XCTAssertEqual(try h.value("local v, p = t:sort(); return v[1] <= v[2], t[p[1]] == v[1], (t + u)[5] == t[5] + 1"), "true\ttrue\ttrue", name)
        }
    }

    /// The reclaimer's full collection runs when it can pay: it finds an old dead result
    /// (one that lived through minor collections) when the Lua heap is small, not when the
    /// heap is large against the block (marking it would cost more than the fresh pages),
    /// and a loop that keeps every result gets a few full collections, not one per allocation.
    func testTheReclaimersFullCollectionRunsWhenItCanPay() throws {
        let h = try LuaHarness()
        let lua = h.workbench.lua
        let memory = TensorMemory.of(lua)
        TensorStorage.drainBlockCache()
        try h.run("t = tensor.ones{1e6}; collectgarbage()")  // 8 MB
        let oldDead = "r = t:clone(); for i = 1, 3 do collectgarbage('step') end; r = nil"
        try h.run(oldDead)
        var fresh = TensorStorage.freshBlocks.count
        var full = memory.collections
        try h.run("s = t:clone()")
        XCTAssertEqual(TensorStorage.freshBlocks.count, fresh, "the old dead block was not reused")
        XCTAssertEqual(memory.collections, full + 1)
        // A Lua heap of ~70 MB against 8 MB blocks: no full collection, a fresh block.
        try h.run("s = nil; big = {}; for i = 1, 8e5 do big[i] = {i} end; collectgarbage()")
        XCTAssertGreaterThan(lua.memoryUsed, 4 * 8_000_000)
        TensorStorage.drainBlockCache()
        try h.run(oldDead)
        fresh = TensorStorage.freshBlocks.count
        full = memory.collections
        try h.run("s = t:clone()")
        XCTAssertEqual(memory.collections, full, "a full collection of a large heap for one block")
        XCTAssertEqual(TensorStorage.freshBlocks.count, fresh + 1)
        // Kept results: every allocation misses the cache, and a full collection that found
        // nothing is followed by the next only once as many bytes as were live came since.
        try h.run("s = nil; big = nil; collectgarbage()")
        full = memory.collections
        try h.run("keep = {}; for i = 1, 16 do keep[i] = t:clone() end")
        XCTAssertLessThanOrEqual(memory.collections - full, 6, "a full collection per kept result")
        XCTAssertEqual(try h.value("#keep, keep[16]:sum()"), "16\t1000000.0")
    }

    func testTablesBecomeTensorsOfTheirDtype() throws {
        let h = try LuaHarness()
        XCTAssertEqual(try h.value("tensor{true, false}:dtype(), tensor{true, false}[1]"), "bool\ttrue")
        XCTAssertEqual(try h.value("tensor{1, true}:dtype()"), "f64")
        XCTAssertEqual(try h.value("tensor({1, 2}, {dtype = 'i64'})[2]"), "2")
        XCTAssertEqual(try h.value("tensor({9007199254740993}, {dtype = 'i64'})[1]"), "9007199254740993")
        XCTAssertEqual(try h.value("tensor.from({{1, 2}}, {dtype = 'i64'}):totable()"), "{{1, 2}}")
        // Nesting deeper than a tensor can have axes is an error, not a crash; so is a cycle.
        try h.run("deep = {1}; for i = 1, 1000 do deep = {deep} end")
        XCTAssertEqual(h.message("return tensor(deep)"),
                       "bad argument #1 to 'tensor' (arrays nested more than 64 deep (a tensor has at most 64 axes))")
        try h.run("cyc = {}; cyc[1] = cyc")
        XCTAssertEqual(h.message("return tensor(cyc)"),
                       "bad argument #1 to 'tensor' (arrays nested more than 64 deep (a tensor has at most 64 axes))")
    }

    func testViewsOfAMappedFileCostNoMemory() throws {
        let h = try LuaHarness()
        let path = NSTemporaryDirectory() + "moonlab-mapped-\(getpid()).npy"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try h.run("tensor.save('\(path)', tensor.ones({512, 1024}, {dtype = 'f32'}))")  // 2 MiB: mapped on load
        try h.run("collectgarbage(); x = tensor.load('\(path)')")
        let lua = h.workbench.lua
        let before = lua.externalMemory
        try h.run("v = x[{{1, 100}, {}}]; w = x[{{}, {1, 1024, 2}}]:T(); r = x[3]")
        XCTAssertEqual(lua.externalMemory, before, "views of a mapped file must not allocate")
        for name in ["x", "v", "w", "r"] {
            lua.getGlobal(name)
            let t = try XCTUnwrap(lua.object(at: -1, Tensor.self))
            lua.pop()
            XCTAssertTrue(t.isMapped, name)
        }
        XCTAssertEqual(try h.value("v:shape(), w:shape(), w:is_contiguous(), w[{5, 7}]"), "{100, 1024}\t{512, 512}\tfalse\t1.0")
    }

    /// Tensor bytes count against the state's memory limit (as a sandboxed plugin's state
    /// has one): a tensor over the limit is refused with an error, not a crash; live tensors
    /// add up; dead temporaries are collected so a loop stays under the limit without
    /// `collectgarbage()`; and the state is usable afterwards.
    func testTensorsCountAgainstTheMemoryLimit() throws {
        var o = WorkbenchOptions()
        o.memoryLimit = 64 << 20
        let h = try LuaHarness(options: o)
        // One 80 MB tensor is over the 64 MiB limit.
        XCTAssertEqual(h.error("x = tensor.zeros{1e7}").map { $0.contains("not enough memory") }, true)
        // Five live 16 MB tensors are too; the error comes at the one that does not fit.
        XCTAssertEqual(h.error("keep = {}; for i = 1, 5 do keep[i] = tensor.ones{2e6} end").map { $0.contains("not enough memory") }, true)
        try h.run("keep = nil; collectgarbage()")
        XCTAssertLessThan(h.workbench.lua.externalMemory, 1 << 20)
        // 24 MB of inputs and 24 MB of temporaries per iteration: 960 MB over the loop.
        try h.run("a = tensor.ones{1e6}; b = tensor.ones{1e6}; c = tensor.full({1e6}, 2)")
        XCTAssertNoThrow(try h.run("for i = 1, 40 do local r = (a * 2 + b) / c end"))
        XCTAssertEqual(try h.value("((a * 2 + b) / c):sum()"), "1500000.0")
        // A view costs nothing: many views of a stay under the limit.
        XCTAssertNoThrow(try h.run("views = {}; for i = 1, 100 do views[i] = a[{{1, 1e6, 2}}] end"))
    }
}
