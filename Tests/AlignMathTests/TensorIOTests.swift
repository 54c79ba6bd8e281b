import XCTest
@testable import AlignMath

/// .npy / .npz / .safetensors reading against fixtures written by numpy
/// (Fixtures/generate_io.py, expectations in io_expected.json), .npy round trips, and
/// memory mapping of large files.
final class TensorIOTests: XCTestCase {
    func path(_ name: String) -> String { Fixture.directory.appendingPathComponent(name).path }

    /// Equal up to 8 ulp (far below a Float ulp): Foundation's JSON parser on Linux can be off in the last bit.
    func same(_ g: Double, _ w: Double) -> Bool {
        g == w || (g.isNaN && w.isNaN) || (w.isFinite && Swift.abs(g - w) <= 8 * w.ulp)
    }

    func check(_ t: Tensor, _ e: [String: Any], _ what: String) {
        XCTAssertEqual(t.dtype.rawValue, e["dtype"] as? String, what)
        XCTAssertEqual(t.shape, e["shape"] as? [Int], what)
        if let vals = e["values"] {
            let want = DistReferenceTests.nums(vals), got = t.toDoubles()
            XCTAssertEqual(got.count, want.count, what)
            for (g, w) in zip(got, want) { XCTAssertTrue(same(g, w), "\(what): got \(g), want \(w)") }
        }
        if let at = e["values_at"] as? [String: Any], let idx = at["index"] as? [Int] {
            let want = DistReferenceTests.nums(at["value"])
            for (i, w) in zip(idx, want) { XCTAssertTrue(same(t[flat: i], w), "\(what)[\(i)]: got \(t[flat: i]), want \(w)") }
        }
    }

    func testFixtures() throws {
        let expected = try XCTUnwrap(Fixture.load("io_expected.json") as? [String: [String: [String: Any]]])
        XCTAssertEqual(expected.count, 15)
        for (file, arrays) in expected {
            switch try TensorIO.load(path: path(file)) {
            case .single(let t):
                check(t, try XCTUnwrap(arrays[""]), file)
            case .named(let d):
                XCTAssertEqual(Set(d.keys), Set(arrays.keys), file)
                for (name, e) in arrays { check(try XCTUnwrap(d[name], "\(file):\(name)"), e, "\(file):\(name)") }
            }
        }
    }

    func testErrorsNameTheFile() throws {
        XCTAssertThrowsError(try Npy.read(path: "/nonexistent/x.npy")) { e in XCTAssertTrue("\(e)".contains("/nonexistent/x.npy: cannot open"), "\(e)") }
        XCTAssertThrowsError(try Npy.read(path: path("io_expected.json"))) { e in XCTAssertTrue("\(e)".contains("magic"), "\(e)") }
        XCTAssertThrowsError(try Safetensors.read(path: path("io_f32.npy"))) { e in XCTAssertTrue("\(e)".contains("io_f32.npy: not a valid .safetensors"), "\(e)") }
        XCTAssertThrowsError(try Npz.read(path: path("io_f32.npy"))) { e in XCTAssertTrue("\(e)".contains("end-of-central-directory"), "\(e)") }
        XCTAssertThrowsError(try TensorIO.load(path: "x.csv"))
        // Truncated: a header that promises more data than the file holds.
        let tmp = NSTemporaryDirectory() + "moonlab-io-trunc-\(getpid()).npy"
        var bytes = Npy.encode(try Tensor([1, 2, 3, 4]))
        bytes.removeLast(8)
        try Data(bytes).write(to: URL(fileURLWithPath: tmp))
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        XCTAssertThrowsError(try Npy.read(path: tmp)) { e in XCTAssertTrue("\(e)".contains("needs 32 bytes"), "\(e)") }
    }

    func testNpyRoundTripAndMapping() throws {
        let dir = NSTemporaryDirectory()
        for (shape, dt) in [([2, 3], DType.f32), ([5], .f64), ([], .f64), ([0, 4], .f32)] {
            let n = shape.reduce(1, *)
            let t = try Tensor((0..<n).map { Double($0) * 0.5 - 1 }, shape: shape, dtype: dt)
            let p = dir + "moonlab-io-rt-\(getpid()).npy"
            try TensorIO.save(t, path: p)
            defer { try? FileManager.default.removeItem(atPath: p) }
            let u = try Npy.read(path: p)
            XCTAssertEqual(u.dtype, dt); XCTAssertEqual(u.shape, shape); XCTAssertTrue(u.equal(t))
            XCTAssertEqual(Npy.encode(t).count % 64, (n * dt.size) % 64, "header padded to 64 bytes")
        }
        // A large file is a view of the mapping (no copy), and writes stay private.
        let big = try Tensor.arange(0, 524_288, dtype: .f32)  // 2 MiB
        let p = dir + "moonlab-io-big-\(getpid()).npy"
        try Npy.write(big, path: p)
        defer { try? FileManager.default.removeItem(atPath: p) }
        let m = try Npy.read(path: p)
        XCTAssertTrue(m.isMapped)
        XCTAssertTrue(m.equal(big))
        m[flat: 0] = 42
        XCTAssertEqual(try Npy.read(path: p)[flat: 0], 0)
        XCTAssertFalse(try Npy.read(path: path("io_f32.npy")).isMapped, "small tensors are copied")
        XCTAssertThrowsError(try TensorIO.save(big, path: dir + "x.npz"))
    }

    /// np.save of an ml_dtypes bfloat16 array (ml_dtypes 0.7.0, numpy 2.4.6) writes descr '<V2';
    /// the bytes and ml_dtypes' float32 values of [0.5, 3.140625, -1e30, nan, -inf, 1e-40] are
    /// below. It was refused ("unsupported dtype '<V2'"); lua-api.md reads bf16 .npy as f32.
    func testBFloat16NpyFromMLDtypesIsReadAsF32() throws {
        let p = NSTemporaryDirectory() + "moonlab-io-bf16-\(getpid()).npy"
        defer { try? FileManager.default.removeItem(atPath: p) }
        var head = Array("{'descr': '<V2', 'fortran_order': False, 'shape': (6,), }".utf8)
        while (10 + head.count + 1) % 64 != 0 { head.append(0x20) }
        head.append(0x0a)
        let bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(head.count & 0xff), UInt8(head.count >> 8)] + head
            + [0x00, 0x3f, 0x49, 0x40, 0x4a, 0xf1, 0xc0, 0x7f, 0x80, 0xff, 0x01, 0x00]
        try Data(bytes).write(to: URL(fileURLWithPath: p))
        let t = try Npy.read(path: p)
        XCTAssertEqual(t.dtype, .f32)
        let v = t.toDoubles()
        XCTAssertEqual(Array(v[0..<3]), [0.5, 3.140625, -1.0002555517425873e+30])
        XCTAssertTrue(v[3].isNaN)
        XCTAssertEqual(Array(v[4..<6]), [-.infinity, 9.183549615799121e-41])
    }

    /// A non-ASCII entry name carries the UTF-8 flag (bit 11 of the general-purpose flags, in
    /// the local and the central header), as Python 3.11's zipfile writes it
    /// (ZipInfo._encodeFilenameFlags); numpy 2.4.6's np.load read "é" back as "├⌐" without it.
    func testNpzNonASCIINamesAreFlaggedUTF8() throws {
        let p = NSTemporaryDirectory() + "moonlab-io-utf8-\(getpid()).npz"
        defer { try? FileManager.default.removeItem(atPath: p) }
        try TensorIO.save(["é": try Tensor([1, 2]), "a": try Tensor([3])], path: p)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: p)))
        var flags: [String: [Int]] = [:]
        for i in 0..<(bytes.count - 46) where bytes[i] == 0x50 && bytes[i + 1] == 0x4b {
            let sig = Int(bytes[i + 2]) | Int(bytes[i + 3]) << 8
            let (flagAt, nameLenAt, nameAt) = sig == 0x0403 ? (6, 26, 30) : sig == 0x0201 ? (8, 28, 46) : (-1, 0, 0)
            guard flagAt > 0 else { continue }
            let n = Int(bytes[i + nameLenAt]) | Int(bytes[i + nameLenAt + 1]) << 8
            let name = String(decoding: bytes[(i + nameAt)..<(i + nameAt + n)], as: UTF8.self)
            flags[name, default: []].append(Int(bytes[i + flagAt]) | Int(bytes[i + flagAt + 1]) << 8)
        }
        XCTAssertEqual(flags["é.npy"], [0x800, 0x800])
        XCTAssertEqual(flags["a.npy"], [0, 0])
        XCTAssertEqual(Set(try Npz.read(path: p).keys), ["é", "a"])
    }

    /// Saving over a file swaps it for the new one (renameat2 exchange, then the old one is
    /// removed): the new contents, no temporary left behind, a mapping of the old file
    /// still reads the old bytes, and a directory in the way is an error that leaves it.
    func testSaveOverAnExistingFileReplacesIt() throws {
        let dir = NSTemporaryDirectory() + "moonlab-io-replace-\(getpid())/"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let p = dir + "t.npy"
        let old = try Tensor.arange(0, 524_288, dtype: .f32)  // 2 MiB: mapped when read
        try TensorIO.save(old, path: p)
        let mapped = try Npy.read(path: p)
        XCTAssertTrue(mapped.isMapped)
        let new = try Tensor([1, 2, 3], dtype: .i64)
        try TensorIO.save(new, path: p)
        XCTAssertTrue(try Npy.read(path: p).equal(new))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["t.npy"])
        XCTAssertEqual(mapped[flat: 524_287], 524_287, "a mapping of the old file keeps its bytes")
        let z = dir + "n.npz"
        try TensorIO.save(["a": old], path: z)
        try TensorIO.save(["b": new], path: z, compress: true)
        XCTAssertEqual(try Npz.read(path: z).keys.sorted(), ["b"])
        try FileManager.default.createDirectory(atPath: dir + "d.npy", withIntermediateDirectories: false)
        XCTAssertThrowsError(try TensorIO.save(new, path: dir + "d.npy"))
        var isDir: ObjCBool = false
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "d.npy", isDirectory: &isDir) && isDir.boolValue)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).sorted(), ["d.npy", "n.npz", "t.npy"])
    }

    /// Found by libFuzzer (Scripts/fuzz.sh npz): an entry of 113 deflated bytes whose ZIP64
    /// size says 4 GiB was allocated before inflating. Deflate expands at most 1032:1.
    func testDeflatedEntryClaimingMoreThanDeflateCanMakeIsRefused() throws {
        XCTAssertThrowsError(try Npz.read(path: path("npz_size_lie.npz"))) { e in
            XCTAssertTrue("\(e)".contains("says it inflates to 4294967120 bytes, more than deflate can make of its 113 bytes"), "\(e)")
        }
    }

    /// Issue 10: sizes and offsets stored in a file became Ints and were added up unchecked, so
    /// a ZIP64 field of 2^64 - 16 (or 2^64 - 1) trapped in `Int(_:)` and a safetensors offset
    /// near Int.max overflowed when added to the data's start: the process died (SIGILL).
    /// Each is refused with an error naming the field (seeds in Fuzz/corpus/npz, safetensors).
    func testSizesAndOffsetsFromTheFileAreCheckedBeforeArithmetic() throws {
        XCTAssertThrowsError(try Npz.read(path: path("npz_zip64_offset_huge.npz"))) { e in
            XCTAssertTrue("\(e)".contains("zip64 end record offset is 18446744073709551600, more than the 42 allowed in this 42-byte file"), "\(e)")
        }
        XCTAssertThrowsError(try Npz.read(path: path("npz_zip64_size_huge.npz"))) { e in
            XCTAssertTrue("\(e)".contains("zip64 size is 18446744073709551615"), "\(e)")
        }
        XCTAssertThrowsError(try Safetensors.read(path: path("safetensors_offset_huge.safetensors"))) { e in
            XCTAssertTrue("\(e)".contains("data_offsets [9223372036854775800, 9223372036854775800], which do not hold 0 bytes within the 0 bytes of data"), "\(e)")
        }
        // the bounds check itself: an offset near Int.max in its message does not overflow
        let f = try MappedFile(path: path("npz_zip64_offset_huge.npz"))
        XCTAssertThrowsError(try f.check(Int.max - 2, 8, "x")) { e in XCTAssertTrue("\(e)".contains("needs 8 bytes at byte \(Int.max - 2)"), "\(e)") }
    }

    func testInflateRejectsCorruptData() throws {
        var junk: [UInt8] = [0xff, 0xff, 0xff, 0xff]
        var out = [UInt8](repeating: 0, count: 16)
        try junk.withUnsafeMutableBytes { src in
            try out.withUnsafeMutableBytes { dst in
                XCTAssertThrowsError(try Zlib.inflate(UnsafeRawBufferPointer(src), into: dst, what: "junk")) { e in
                    XCTAssertTrue("\(e)".contains("junk: corrupt deflate data"), "\(e)")
                }
            }
        }
    }
}
