import XCTest
@testable import AlignMath

/// A borrowing storage (`TensorStorage(borrowingCapacity:)`, what a Lua sampler stage gets
/// the caller's logits through): reads show the lender's bytes, and every write path of
/// the tensor core copies them first, so the lender never changes. Each case writes
/// through one path and would change the lender without the gate (`makeWritable`).
final class TensorCopyOnWriteTests: XCTestCase {
    /// The lender (1...8, dtype `dtype`) and a tensor of 8 elements borrowing it.
    private func pair(_ dtype: DType = .f64) throws -> (lender: Tensor, borrowed: Tensor) {
        let lender = try Tensor((1...8).map(Double.init), shape: [8], dtype: dtype)
        let storage = TensorStorage(borrowingCapacity: 8 * dtype.size)
        let t = try Tensor(storage: storage, offset: 0, shape: [8], dtype: dtype)
        XCTAssertTrue(storage.borrow(lender.storage, at: lender.storage.base))
        XCTAssertTrue(storage.isBorrowed)
        XCTAssertEqual(t.toDoubles(), (1...8).map(Double.init), "reads show the lender")
        return (lender, t)
    }

    func testEveryWritePathCopiesFirst() throws {
        let one = (1...8).map(Double.init)
        let cases: [(String, DType, (Tensor) throws -> Void, [Double])] = [
            ("flat subscript", .f64, { $0[flat: 1] = -1 }, [1, -1, 3, 4, 5, 6, 7, 8]),
            ("setValue", .f32, { try $0.setValue(0.5, at: 7) }, [1, 2, 3, 4, 5, 6, 7, 0.5]),
            ("setInt64 (i64)", .i64, { $0.setInt64(-9, flat: 0) }, [-9, 2, 3, 4, 5, 6, 7, 8]),
            ("setInt64 (f64)", .f64, { $0.setInt64(-9, flat: 0) }, [-9, 2, 3, 4, 5, 6, 7, 8]),
            ("fill", .f64, { $0.fill(0) }, [0, 0, 0, 0, 0, 0, 0, 0]),
            ("fill through a strided view", .f64, { try $0.narrow(axis: 0, start: 0, count: 4, step: 2).fill(0) }, [0, 2, 0, 4, 0, 6, 0, 8]),
            ("assign", .f64, { try $0.assign(try Tensor([9], shape: [])) }, [9, 9, 9, 9, 9, 9, 9, 9]),
            ("assign through a view", .f32, { try $0.narrow(axis: 0, start: 2, count: 2).assign(try Tensor([7, 7], shape: [2])) }, [1, 2, 7, 7, 5, 6, 7, 8]),
            ("assign from itself", .f64, { try $0.assign(try $0.narrow(axis: 0, start: 7, count: 8, step: -1)) }, [8, 7, 6, 5, 4, 3, 2, 1]),
            ("withMutableDoubles", .f64, { try $0.withMutableDoubles { $0[3] = 0 } }, [1, 2, 3, 0, 5, 6, 7, 8]),
            ("withMutableFloats on a strided view", .f32, { try $0.narrow(axis: 0, start: 1, count: 4, step: 2).withMutableFloats { $0[0] = 0 } }, [1, 0, 3, 4, 5, 6, 7, 8]),
            ("withMutableInt64s", .i64, { try $0.withMutableInt64s { $0[7] = 0 } }, [1, 2, 3, 4, 5, 6, 7, 0]),
            ("setMasked", .f64, { t in try t.setMasked(t.compare(.gt, .float(6)), try Tensor([0], shape: [])) }, [1, 2, 3, 4, 5, 6, 0, 0]),
            ("setMasked from itself", .f64, { t in try t.setMasked(t.compare(.lt, .float(3)), try t.narrow(axis: 0, start: 6, count: 2)) }, [7, 8, 3, 4, 5, 6, 7, 8]),
            ("element view", .f64, { try $0.select(axis: 0, 4).assign(try Tensor([0], shape: [])) }, [1, 2, 3, 4, 0, 6, 7, 8]),
        ]
        for (name, dtype, write, want) in cases {
            let (lender, t) = try pair(dtype)
            let view = try t.narrow(axis: 0, start: 0, count: 8)  // made before the write
            try write(t)
            XCTAssertEqual(lender.toDoubles(), one, "\(name): the lender changed")
            XCTAssertFalse(t.storage.isBorrowed, name)
            XCTAssertEqual(t.toDoubles(), want, name)
            XCTAssertEqual(view.toDoubles(), want, "\(name): a view made before sees the copy")
        }
    }

    func testBorrowChecksAndUnborrow() throws {
        let lender = try Tensor((1...8).map(Double.init), shape: [8])
        let s = TensorStorage(borrowingCapacity: 4 * 8)
        XCTAssertEqual(s.base.assumingMemoryBound(to: Double.self)[0], 0, "zero-filled")
        // Only bytes inside the lender, and only a borrowing storage, borrow.
        XCTAssertFalse(s.borrow(lender.storage, at: lender.storage.base + 5 * 8))
        XCTAssertFalse(s.borrow(lender.storage, at: lender.storage.base - 8))
        XCTAssertFalse(TensorStorage(zeroedBytes: 32).borrow(lender.storage, at: lender.storage.base))
        XCTAssertFalse(s.isBorrowed)
        XCTAssertTrue(s.borrow(lender.storage, at: lender.storage.base + 4 * 8))
        let t = try Tensor(storage: s, offset: 0, shape: [4], dtype: .f64)
        XCTAssertEqual(t.toDoubles(), [5, 6, 7, 8])
        // A storage borrowing from a borrowing one retains the bytes' owner.
        let s2 = TensorStorage(borrowingCapacity: 2 * 8)
        XCTAssertTrue(s2.borrow(s, at: s.base + 8))
        let t2 = try Tensor(storage: s2, offset: 0, shape: [2], dtype: .f64)
        t[flat: 1] = 0  // s moves to its own block; s2 still shows the lender's bytes
        XCTAssertEqual(t2.toDoubles(), [6, 7])
        XCTAssertEqual(lender[flat: 5], 6)
        // unborrow shows the own block without copying (the last write's bytes).
        XCTAssertTrue(s.borrow(lender.storage, at: lender.storage.base))
        XCTAssertEqual(t.toDoubles(), [1, 2, 3, 4])
        s.unborrow()
        XCTAssertEqual(t.toDoubles(), [5, 0, 7, 8])
        t[flat: 0] = -1
        XCTAssertEqual(lender.toDoubles(), (1...8).map(Double.init))
    }
}
