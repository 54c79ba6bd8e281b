/// libstdc++'s `std::sort` and `std::partial_sort` (GCC 12, `bits/stl_algo.h` and
/// `bits/stl_heap.h`), ported step for step. Neither is stable, so which of several
/// equal elements comes first is decided by the algorithm's exact sequence of moves;
/// llama.cpp sorts its candidates with them (compiled by g++ on Linux), and reproducing
/// its kept sets and draws on rows with tied logits needs the same sequence. Indices
/// are positions in `a`; `less` is the comparator (`comp` in libstdc++).
///
/// Where libstdc++ relies on a sentinel (unguarded loops), a bound is added: it never
/// triggers for a strict weak order, and keeps memory safe for a comparator that is not
/// one (NaN), where the C++ would read out of bounds.
enum Libstdcxx {
    /// `std::sort(a + first, a + last, less)`.
    static func sort<E>(_ a: UnsafeMutableBufferPointer<E>, _ first: Int, _ last: Int, by less: (E, E) -> Bool) {
        guard first != last else { return }
        introsortLoop(a, first, last, depthLimit: 2 * log2Floor(last - first), less)
        finalInsertionSort(a, first, last, less)
    }

    /// `std::partial_sort(a + first, a + middle, a + last, less)`: the `middle - first`
    /// smallest (by `less`) in order at the front, the rest in heap order.
    static func partialSort<E>(_ a: UnsafeMutableBufferPointer<E>, _ first: Int, _ middle: Int, _ last: Int, by less: (E, E) -> Bool) {
        heapSelect(a, first, middle, last, less)
        sortHeap(a, first, middle, less)
    }

    /// `std::__lg`: the index of the highest set bit.
    static func log2Floor(_ n: Int) -> Int { Int.bitWidth - 1 - n.leadingZeroBitCount }

    static let threshold = 16  // _S_threshold

    static func introsortLoop<E>(_ a: UnsafeMutableBufferPointer<E>, _ first: Int, _ last: Int, depthLimit: Int, _ less: (E, E) -> Bool) {
        var last = last, depth = depthLimit
        while last - first > threshold {
            if depth == 0 {
                partialSort(a, first, last, last, by: less)
                return
            }
            depth -= 1
            let cut = unguardedPartitionPivot(a, first, last, less)
            introsortLoop(a, cut, last, depthLimit: depth, less)
            last = cut
        }
    }

    static func unguardedPartitionPivot<E>(_ a: UnsafeMutableBufferPointer<E>, _ first: Int, _ last: Int, _ less: (E, E) -> Bool) -> Int {
        let mid = first + (last - first) / 2
        moveMedianToFirst(a, first, first + 1, mid, last - 1, less)
        return unguardedPartition(a, first + 1, last, pivot: first, less)
    }

    static func moveMedianToFirst<E>(_ a: UnsafeMutableBufferPointer<E>, _ result: Int, _ x: Int, _ y: Int, _ z: Int, _ less: (E, E) -> Bool) {
        if less(a[x], a[y]) {
            if less(a[y], a[z]) { a.swapAt(result, y) } else if less(a[x], a[z]) { a.swapAt(result, z) } else { a.swapAt(result, x) }
        } else if less(a[x], a[z]) {
            a.swapAt(result, x)
        } else if less(a[y], a[z]) {
            a.swapAt(result, z)
        } else {
            a.swapAt(result, y)
        }
    }

    static func unguardedPartition<E>(_ a: UnsafeMutableBufferPointer<E>, _ first: Int, _ last: Int, pivot: Int, _ less: (E, E) -> Bool) -> Int {
        let hi = last
        var first = first, last = last
        while true {
            while first < hi && less(a[first], a[pivot]) { first += 1 }
            last -= 1
            while last > pivot && less(a[pivot], a[last]) { last -= 1 }
            if !(first < last) { return first }
            a.swapAt(first, last)
            first += 1
        }
    }

    static func finalInsertionSort<E>(_ a: UnsafeMutableBufferPointer<E>, _ first: Int, _ last: Int, _ less: (E, E) -> Bool) {
        if last - first > threshold {
            insertionSort(a, first, first + threshold, less)
            for i in (first + threshold)..<last { unguardedLinearInsert(a, i, floor: first, less) }
        } else {
            insertionSort(a, first, last, less)
        }
    }

    static func insertionSort<E>(_ a: UnsafeMutableBufferPointer<E>, _ first: Int, _ last: Int, _ less: (E, E) -> Bool) {
        guard first != last else { return }
        var i = first + 1
        while i < last {
            if less(a[i], a[first]) {
                let v = a[i]
                var j = i
                while j > first { a[j] = a[j - 1]; j -= 1 }
                a[first] = v
            } else {
                unguardedLinearInsert(a, i, floor: first, less)
            }
            i += 1
        }
    }

    static func unguardedLinearInsert<E>(_ a: UnsafeMutableBufferPointer<E>, _ last: Int, floor: Int, _ less: (E, E) -> Bool) {
        let v = a[last]
        var hole = last
        var next = last - 1
        while next >= floor && less(v, a[next]) {
            a[hole] = a[next]
            hole = next
            next -= 1
        }
        a[hole] = v
    }

    static func heapSelect<E>(_ a: UnsafeMutableBufferPointer<E>, _ first: Int, _ middle: Int, _ last: Int, _ less: (E, E) -> Bool) {
        makeHeap(a, first, middle, less)
        var i = middle
        while i < last {
            if less(a[i], a[first]) { popHeap(a, first, middle, result: i, less) }
            i += 1
        }
    }

    static func makeHeap<E>(_ a: UnsafeMutableBufferPointer<E>, _ first: Int, _ last: Int, _ less: (E, E) -> Bool) {
        let len = last - first
        guard len >= 2 else { return }
        var parent = (len - 2) / 2
        while true {
            let v = a[first + parent]
            adjustHeap(a, first, hole: parent, len: len, v, less)
            if parent == 0 { return }
            parent -= 1
        }
    }

    static func adjustHeap<E>(_ a: UnsafeMutableBufferPointer<E>, _ first: Int, hole: Int, len: Int, _ value: E, _ less: (E, E) -> Bool) {
        let top = hole
        var hole = hole, second = hole
        while second < (len - 1) / 2 {
            second = 2 * (second + 1)
            if less(a[first + second], a[first + second - 1]) { second -= 1 }
            a[first + hole] = a[first + second]
            hole = second
        }
        if len & 1 == 0 && second == (len - 2) / 2 {
            second = 2 * (second + 1)
            a[first + hole] = a[first + second - 1]
            hole = second - 1
        }
        pushHeap(a, first, hole: hole, top: top, value, less)
    }

    static func pushHeap<E>(_ a: UnsafeMutableBufferPointer<E>, _ first: Int, hole: Int, top: Int, _ value: E, _ less: (E, E) -> Bool) {
        var hole = hole
        var parent = (hole - 1) / 2
        while hole > top && less(a[first + parent], value) {
            a[first + hole] = a[first + parent]
            hole = parent
            parent = (hole - 1) / 2
        }
        a[first + hole] = value
    }

    static func popHeap<E>(_ a: UnsafeMutableBufferPointer<E>, _ first: Int, _ last: Int, result: Int, _ less: (E, E) -> Bool) {
        let v = a[result]
        a[result] = a[first]
        adjustHeap(a, first, hole: 0, len: last - first, v, less)
    }

    static func sortHeap<E>(_ a: UnsafeMutableBufferPointer<E>, _ first: Int, _ last: Int, _ less: (E, E) -> Bool) {
        var last = last
        while last - first > 1 {
            last -= 1
            popHeap(a, first, last, result: last, less)
        }
    }
}
